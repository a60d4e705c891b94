"""The four grouped cross reports (a row per user, origin, product or month; a page is
``OFFSET``/``LIMIT`` over the grouped result): revenue per Kommo responsible user, per UTM
origin, per platform/product/payment method, and the refunds rate. The origin, product and
refund reports read whole months from the monthly summaries and only the partial months' days
from the daily ones (``_spans``)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (
    case,
    func,
    select,
    union_all,
)

from app.extensions import db
from app.formatting import PAYMENT_LABELS, platform_label
from app.models import (
    SalesDaily,
    SalesDailyOwner,
    SalesDailyProduct,
    SalesDailyUtm,
    SalesMonthlyProduct,
    SalesMonthlyStatus,
    SalesMonthlyUtm,
)
from app.services.charts import DateRange
from app.services.cross_reports.base import (
    PAID_STATUSES,
    TOP,
    _bar,
    _days,
    _reais,
    _share,
    month_label,
    user_label,
)

# --- 3. revenue per Kommo responsible user --------------------------------------------------------


def _by_responsible_query(period: DateRange):
    """Per credited responsible user and CRM match, from ``sales_daily_owners``."""
    o = SalesDailyOwner
    owner = func.nullif(o.owner, 0).label("owner")
    cents = func.coalesce(func.sum(o.amount_cents), 0).label("cents")
    total = select(func.coalesce(func.sum(o.amount_cents), 0)).where(*_days(period, o.day))
    return (
        select(
            owner,
            o.in_crm.label("in_crm"),
            func.sum(o.n).label("sales"),
            cents,
            total.scalar_subquery().label("all_cents"),
        )
        .where(*_days(period, o.day))
        .group_by(o.owner, o.in_crm)
        .having(func.sum(o.n) > 0)
        .order_by(cents.desc(), o.in_crm.desc(), func.nullif(o.owner, 0))
    )


def _owner_label(owner, in_crm) -> str:
    if owner:
        return user_label(owner)
    return "No CRM, sem responsável" if in_crm else "Fora do CRM"


def _by_responsible_row(r) -> dict:
    cents, sales = int(r.cents), int(r.sales)
    return {
        "responsible_user_id": r.owner,
        "responsible": _owner_label(r.owner, r.in_crm),
        "in_crm": bool(r.in_crm),
        "sales": sales,
        "amount_cents": cents,
        "average_cents": cents // sales if sales else 0,
        "share": _share(cents, int(r.all_cents or 0)),
    }


def _by_responsible_chart(period: DateRange) -> dict:
    rows = _reports()["receita-por-responsavel"].rows(period, 0, TOP)
    return _bar(
        [r["responsible"] for r in rows],
        [{"label": "Receita", "data": [_reais(r["amount_cents"]) for r in rows]}],
        money=True,
        horizontal=True,
    )


# --- 4. revenue and conversion per UTM source / campaign ------------------------------------------


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _spans(period: DateRange) -> tuple[list[tuple[date, date]], tuple[str, str | None] | None]:
    """The range as the days of its partial months and its whole months: ``([(first day,
    last day), …], (first month, last month or None))``, the months ``YYYY-MM`` (None when
    it has no whole month). An open range (it ends today) has no last month, as ``_days``
    has no last day."""
    start, end = period.start, period.end
    first = start if start.day == 1 else _next_month(start)
    if period.until is None:
        days = [(start, first - timedelta(days=1))] if first > start else []
        return days, (f"{first:%Y-%m}", None)
    stop = end + timedelta(days=1)
    stop = stop if stop.day == 1 else end.replace(day=1)  # the month after the last whole one
    if first >= stop:
        return [(start, end)], None
    days = [(start, first - timedelta(days=1))] if first > start else []
    if stop <= end:
        days.append((stop, end))
    return days, (f"{first:%Y-%m}", f"{stop - timedelta(days=1):%Y-%m}")


def _within_months(lo: date, hi: date) -> list[tuple[date, date]]:
    """``lo`` .. ``hi`` cut at the months' edges (20 July .. 10 August: two spans)."""
    spans = []
    while _next_month(lo) <= hi:
        spans.append((lo, _next_month(lo) - timedelta(days=1)))
        lo = _next_month(lo)
    return [*spans, (lo, hi)]


def _edge(lo: date, hi: date) -> tuple[list[tuple[date, date]], str | None, list]:
    """Days ``lo`` .. ``hi`` of one month as ``(days to add, month to add or None, days to
    take away)``: the days themselves, or — when the month's other days are fewer — the
    whole month less those (the last 28 days of a 30-day range are its month less 2 days)."""
    first = lo.replace(day=1)
    last = _next_month(lo) - timedelta(days=1)
    others = (lo - first).days + (last - hi).days
    if others >= (hi - lo).days + 1:
        return [(lo, hi)], None, []
    minus = [(first, lo - timedelta(days=1))] if lo > first else []
    if hi < last:
        minus.append((hi + timedelta(days=1), last))
    return [], f"{lo:%Y-%m}", minus


def _dimension(
    period: DateRange, daily, monthly, keys: tuple[str, ...], *, daily_where=(), by_month=False
):
    """A daily dimension's rows of the range (``keys``, ``n``, ``amount_cents``; the São Paulo
    ``month`` too when ``by_month``), its whole months read from ``monthly`` (the same buckets
    per month; ``daily_where`` keeps the daily rows the monthly table holds), a partial month
    as its days or as the month less its other days (``_edge``): a year is ~12 × the
    dimension's rows instead of ~365 ×, a 30-day range ~2 months and 2 days. Rows taken away
    carry negative counts: the caller groups them (sums, and ``HAVING`` on them)."""

    def rows_of(table, month, sign=1):
        n, cents = table.n, table.amount_cents
        if sign < 0:
            n, cents = -n, -cents
        columns = [*(getattr(table, k) for k in keys), n.label("n"), cents.label("amount_cents")]
        return select(*columns, month.label("month")) if by_month else select(*columns)

    def days_of(lo: date, hi: date, sign=1):
        return rows_of(daily, func.substr(daily.day, 1, 7), sign).where(
            daily.day >= lo.isoformat(), daily.day <= hi.isoformat(), *daily_where
        )

    spans, months = _spans(period)
    parts = []
    for lo, hi in (part for span in spans for part in _within_months(*span)):
        plus, month, minus = _edge(lo, hi)
        parts += [days_of(a, b) for a, b in plus]
        if month is not None:
            parts.append(rows_of(monthly, monthly.month).where(monthly.month == month))
        parts += [days_of(a, b, -1) for a, b in minus]
    if months is not None:
        where = [monthly.month >= months[0]]
        if months[1] is not None:
            where.append(monthly.month <= months[1])
        parts.append(rows_of(monthly, monthly.month).where(*where))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("dim")


def _utm_rows(period: DateRange):
    return _dimension(period, SalesDailyUtm, SalesMonthlyUtm, ("source", "campaign", "approved")).c


def _by_utm_query(period: DateRange):
    """Per origin (utm_source, else src) and campaign, from ``sales_daily_utm`` and its
    monthly twin."""
    u = _utm_rows(period)
    source, campaign = u.source.label("source"), u.campaign.label("campaign")
    approved = func.sum(case((u.approved == 1, u.n), else_=0)).label("approved")
    cents = func.coalesce(func.sum(case((u.approved == 1, u.amount_cents), else_=0)), 0)
    cents = cents.label("cents")
    return (
        select(source, campaign, func.sum(u.n).label("sales"), approved, cents)
        .group_by(u.source, u.campaign)
        .having(func.sum(u.n) > 0)
        .order_by(cents.desc(), approved.desc(), u.source, u.campaign)
    )


def _by_utm_row(r) -> dict:
    approved, sales = int(r.approved or 0), int(r.sales)
    return {
        "source": r.source or None,
        "campaign": r.campaign or None,
        "sales": sales,
        "approved": approved,
        "conversion": _share(approved, sales),
        "amount_cents": int(r.cents or 0),
    }


def _by_utm_chart(period: DateRange) -> dict:
    u = _utm_rows(period)
    cents = func.coalesce(func.sum(u.amount_cents), 0).label("cents")
    rows = db.session.execute(
        select(u.source.label("source"), cents)
        .where(u.approved == 1)
        .group_by(u.source)
        .having(func.sum(u.n) > 0)
        .order_by(cents.desc(), u.source)
        .limit(TOP)
    ).all()
    return _bar(
        [r.source or "Sem origem" for r in rows],
        [{"label": "Receita aprovada", "data": [_reais(r.cents) for r in rows]}],
        money=True,
        horizontal=True,
    )


# --- 5. revenue per platform, product and payment method ------------------------------------------


def _product_rows(period: DateRange):
    return _dimension(
        period, SalesDailyProduct, SalesMonthlyProduct, ("platform", "product", "method")
    ).c


def _by_product_query(period: DateRange):
    """Per platform, product and payment method, from ``sales_daily_products`` and its
    monthly twin."""
    p = _product_rows(period)
    cents = func.coalesce(func.sum(p.amount_cents), 0).label("cents")
    return (
        select(
            p.platform.label("platform"),
            p.product.label("product"),
            p.method.label("method"),
            func.sum(p.n).label("sales"),
            cents,
        )
        .group_by(p.platform, p.product, p.method)
        .having(func.sum(p.n) > 0)
        .order_by(cents.desc(), p.platform, p.product, p.method)
    )


def payment_label(method: str | None) -> str:
    return PAYMENT_LABELS.get(method, method) if method else "Não informado"


def _by_product_row(r) -> dict:
    return {
        "platform": r.platform,
        "platform_label": platform_label(r.platform),
        "product_name": r.product or None,
        "payment_method": r.method or None,
        "payment_label": payment_label(r.method),
        "sales": int(r.sales),
        "amount_cents": int(r.cents),
    }


def _by_product_chart(period: DateRange) -> dict:
    """Approved revenue per platform, one stacked series per payment method (the table's
    rows: approved non-test BRL sales, the method in lower case)."""
    p = _product_rows(period)
    rows = db.session.execute(
        select(p.platform, p.method, func.sum(p.amount_cents)).group_by(p.platform, p.method)
    ).all()
    values: dict[tuple[str, str], int] = {}
    for platform, value, cents in rows:
        if cents:
            key = (platform, payment_label(value))
            values[key] = values.get(key, 0) + int(cents)
    platforms = sorted({p for p, _ in values})
    methods = sorted({m for _, m in values})
    return _bar(
        [platform_label(p) for p in platforms],
        [{"label": m, "data": [_reais(values.get((p, m), 0)) for p in platforms]} for m in methods],
        money=True,
        stacked=True,
    )


# --- 6. refunds and chargebacks rate --------------------------------------------------------------


def _refunds_query(period: DateRange):
    """Per São Paulo month and platform, from ``sales_monthly_status`` and ``sales_daily``
    (``_dimension``: whole months, partial months as days or as the month less its other
    days)."""
    d = _dimension(
        period,
        SalesDaily,
        SalesMonthlyStatus,
        ("platform", "status"),
        daily_where=(SalesDaily.is_test.is_(False), SalesDaily.currency.in_(("BRL", ""))),
        by_month=True,
    ).c

    def n(statuses):
        return func.coalesce(func.sum(case((d.status.in_(statuses), d.n), else_=0)), 0)

    lost = case((d.status.in_(("refunded", "chargeback")), d.amount_cents), else_=0)
    return (
        select(
            d.month.label("month"),
            d.platform.label("platform"),
            n(PAID_STATUSES).label("paid"),
            n(("refunded",)).label("refunded"),
            n(("chargeback",)).label("chargeback"),
            func.coalesce(func.sum(lost), 0).label("lost_cents"),
        )
        .where(d.status.in_(PAID_STATUSES))
        .group_by(d.month, d.platform)
        .having(n(PAID_STATUSES) > 0)
        .order_by(d.month.desc(), d.platform)
    )


def _refunds_row(r) -> dict:
    paid, refunded, chargeback = int(r.paid), int(r.refunded), int(r.chargeback)
    return {
        "month": r.month,
        "platform": r.platform,
        "platform_label": platform_label(r.platform),
        "paid": paid,
        "refunded": refunded,
        "chargeback": chargeback,
        "refund_rate": _share(refunded, paid),
        "chargeback_rate": _share(chargeback, paid),
        "lost_cents": int(r.lost_cents),
    }


def _refunds_chart(period: DateRange) -> dict:
    totals: dict[str, list[int]] = {}
    for row in _reports()["reembolsos"].rows(period):  # one row per month and platform
        entry = totals.setdefault(row["month"], [0, 0, 0])
        entry[0] += row["paid"]
        entry[1] += row["refunded"]
        entry[2] += row["chargeback"]
    months = sorted(totals)

    def rate(i: int) -> list[float]:
        return [round(100 * totals[m][i] / totals[m][0], 1) if totals[m][0] else 0 for m in months]

    return _bar(
        [month_label(m) for m in months],
        [
            {"label": "Reembolsos (%)", "data": rate(1)},
            {"label": "Chargebacks (%)", "data": rate(2)},
        ],
        money=False,
    )


def _reports():
    """The declared reports (the charts read their own report's first rows)."""
    from app.services.cross_reports import REPORTS

    return REPORTS
