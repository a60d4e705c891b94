"""/vendas: every sale, whatever platform or sync saw it first, in one list."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, render_template, request
from sqlalchemy import func, or_, select

from app import csv_export
from app.extensions import db
from app.formatting import (
    DISPLAY_TZ,
    SALE_STATUS_LABELS,
    datetime_br,
    payment_method,
    platform_label,
)
from app.models import Sale, SalesDaily, SalesTotal
from app.models.sales import GRANTING_STATUSES, STATUS_RANK
from app.paging import paginate
from app.sales_pages import bp
from app.services import access_grants
from app.sorting import SortKey, sort_from_args, sort_values

PER_PAGE = 50
STATUS_LABELS = SALE_STATUS_LABELS
# Test deliveries (the platforms' own test tools and "Enviar teste") are hidden unless asked.
TEST_FILTERS = {"": "Sem testes", "incluir": "Com testes", "apenas": "Só testes"}
# Header sorts, each backed by an index (app.models.sales): the list's date, the amount
# (a sale without one sorts as zero), the platform and the status.
SORTS = {
    "data": SortKey(Sale.listed_at, "Data do pedido", lambda s: s.listed_at, descending=True),
    "valor": SortKey(Sale.amount_sort, "Valor", lambda s: s.amount_cents or 0, descending=True),
    "origem": SortKey(Sale.platform, "Origem", lambda s: s.platform),
    "status": SortKey(Sale.status, "Status", lambda s: s.status),
}


def _day(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
        return datetime.combine(day + timedelta(days=1) if end else day, time(), DISPLAY_TZ)
    except (ValueError, OverflowError):
        return None


def _filters():
    args = request.args
    return {
        "q": args.get("q", "").strip()[:200],
        "platform": args.get("platform", "") if args.get("platform") in _platforms() else "",
        "status": args.get("status", "") if args.get("status") in STATUS_RANK else "",
        "de": args.get("de", "")[:10],
        "ate": args.get("ate", "")[:10],
        "testes": args.get("testes", "") if args.get("testes") in TEST_FILTERS else "",
    }


def _platforms() -> list[str]:
    """Distinct platforms by skipping along the (platform, …) index: a few lookups, no scan."""
    found = []
    current = db.session.scalar(select(func.min(Sale.platform)))
    while current is not None:
        found.append(current)
        current = db.session.scalar(select(func.min(Sale.platform)).where(Sale.platform > current))
    return found


def _summary(f):
    """(table, conditions) of the summary answering these filters, or None when they need the
    sales themselves (a search). Without dates, ``sales_totals`` (~100 rows); with dates,
    ``sales_daily`` over those São Paulo days."""
    if f["q"]:
        return None
    start, end = _day(f["de"]), _day(f["ate"], end=True)
    table = SalesDaily if (start or end) else SalesTotal
    conditions = []
    if f["testes"] == "":
        conditions.append(table.is_test.is_(False))
    elif f["testes"] == "apenas":
        conditions.append(table.is_test.is_(True))
    if f["platform"]:
        conditions.append(table.platform == f["platform"])
    if f["status"]:
        conditions.append(table.status == f["status"])
    if start:
        conditions.append(SalesDaily.day >= start.date().isoformat())
    if end:
        conditions.append(SalesDaily.day < end.date().isoformat())
    return table, conditions


def _conditions(f) -> list:
    conditions = []
    if f["testes"] == "":
        conditions.append(Sale.is_test.is_(False))
    elif f["testes"] == "apenas":
        conditions.append(Sale.is_test.is_(True))
    if f["q"]:
        like = f"%{f['q'].lower()}%"
        conditions.append(
            or_(
                func.lower(Sale.buyer_email).like(like),
                func.lower(Sale.buyer_name).like(like),
                func.lower(Sale.transaction_id).like(like),
                func.lower(Sale.product_name).like(like),
            )
        )
    if f["platform"]:
        conditions.append(Sale.platform == f["platform"])
    if f["status"]:
        conditions.append(Sale.status == f["status"])
    start, end = _day(f["de"]), _day(f["ate"], end=True)
    when = Sale.listed_at
    if start:
        conditions.append(when >= start)
    if end:
        conditions.append(when < end)
    return conditions


@bp.get("/vendas")
def index():
    f = _filters()
    conditions = _conditions(f)
    summary = _summary(f)
    if summary is not None:
        table, where = summary
        rows = db.session.execute(
            select(
                table.currency,
                table.status,
                table.is_test,
                func.sum(table.n),
                func.coalesce(func.sum(table.amount_cents), 0),
            )
            .where(*where)
            .group_by(table.currency, table.status, table.is_test)
        ).all()
        total = sum(int(n or 0) for *_, n, _ in rows)
        by_currency: dict[str, list[int]] = {}
        for currency, status, is_test, n, amount in rows:
            if status in GRANTING_STATUSES and not is_test:
                entry = by_currency.setdefault(currency, [0, 0])
                entry[0] += int(n or 0)
                entry[1] += int(amount or 0)
        totals = [(c or None, n, amount) for c, (n, amount) in by_currency.items() if n]
    else:
        total = None
        totals = db.session.execute(
            select(
                Sale.currency, func.count(Sale.id), func.coalesce(func.sum(Sale.amount_cents), 0)
            )
            .where(*conditions, Sale.status.in_(GRANTING_STATUSES), Sale.is_test.is_(False))
            .group_by(Sale.currency)
        ).all()
    sort = sort_from_args(request.args, SORTS, "data")
    page = paginate(
        select(Sale).where(*conditions),
        order=sort.order(Sale.id),
        per_page=PER_PAGE,
        total=total,
        key=sort_values(sort),
    )
    return render_template(
        "sales/index.html",
        page=page,
        f=f,
        platforms=_platforms(),
        statuses=STATUS_LABELS,
        totals=totals,
        test_filters=TEST_FILTERS,
        sort=sort,
    )


EXPORT_HEADER = (
    "Data do pedido",
    "Origem",
    "Transação",
    "Comprador",
    "E-mail",
    "Produto",
    "Valor (R$)",
    "Moeda",
    "Pagamento",
    "Status",
    "Aprovada em",
    "Teste",
)


@bp.get("/vendas/exportar.csv")
def export_csv():
    """The list's sales as CSV: the same filters, date and sort, streamed in batches."""
    f = _filters()
    sort = sort_from_args(request.args, SORTS, "data")
    order = [col.desc() if desc else col.asc() for col, desc in sort.order(Sale.id)]
    stmt = select(Sale).where(*_conditions(f)).order_by(*order).execution_options(yield_per=500)

    def rows():
        for s in db.session.scalars(stmt):
            yield (
                datetime_br(s.listed_at),
                platform_label(s.platform),
                s.transaction_id,
                s.buyer_name or "",
                s.buyer_email or "",
                s.product_name or "",
                csv_export.money(s.amount_cents),
                s.currency or "",
                payment_method(s.payment_method) if s.payment_method else "",
                STATUS_LABELS.get(s.status, s.status),
                datetime_br(s.approved_at) if s.approved_at else "",
                "sim" if s.is_test else "não",
            )

    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(EXPORT_HEADER, rows(), f"vendas-{now:%Y%m%d-%H%M}.csv")


@bp.get("/vendas/<int(max=2147483647):sale_id>")
def detail(sale_id: int):
    sale = db.session.get(Sale, sale_id)
    if sale is None:
        abort(404)
    from app.models import ActivationLink, WebhookEvent

    links = db.session.scalars(
        select(ActivationLink).where(ActivationLink.sale_id == sale.id).order_by(ActivationLink.id)
    ).all()
    events = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.sale_id == sale.id).order_by(WebhookEvent.id)
    ).all()
    return render_template(
        "sales/detail.html",
        sale=sale,
        links=links,
        events=events,
        statuses=STATUS_LABELS,
        ended=_ended(sale),
        grants=access_grants.sale_grants([sale])[sale.id],
    )


ENDED_LABELS = {
    "refunded": "Reembolsada em",
    "chargeback": "Chargeback em",
    "canceled": "Cancelada em",
}


def _ended(sale: Sale) -> list[tuple[str, datetime]]:
    """(label, when) of the refund, chargeback or cancellation of the sale, from its history
    (the platform's event time), else its current status time."""
    found = {}
    for change in sale.history:
        if change.to_status in ENDED_LABELS and change.to_status not in found:
            found[change.to_status] = change.occurred_at or change.changed_at
    if sale.status in ENDED_LABELS and sale.status not in found and sale.status_at:
        found[sale.status] = sale.status_at
    return [(ENDED_LABELS[status], when) for status, when in found.items()]
