"""The two cross reports of one row per person or lead, paged by keyset: "comprou fora do
CRM" (approved buyers no Kommo contact shares a key with; its pages walk the range's sales
newest first, its total and chart are sums over ``sales_daily_buyers``) and "ganho sem venda"
(won Kommo leads whose contact bought nothing; counts from ``kommo_won_daily``)."""

from __future__ import annotations

from sqlalchemy import (
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.formatting import brl as brl_format
from app.formatting import platform_label
from app.models import (
    KommoContact,
    KommoLead,
    KommoWonDaily,
    Sale,
    SalesDailyBuyer,
)
from app.paging import rows_after
from app.services.charts import DateRange
from app.services.cross_reports.base import (
    TOP,
    Row,
    _approved,
    _bar,
    _days,
    _in_crm,
    _memo,
    _sales_in,
    user_label,
)
from app.services.kommo_queries import lead_currency
from app.services.summaries import BUYER_KINDS

# --- 1. bought but not in the CRM -----------------------------------------------------------------


def _buyer():
    """One buyer: the e-mail (lower case), else the sale itself."""
    return func.coalesce(
        func.lower(func.nullif(Sale.buyer_email, "")),
        literal("sale:", String) + cast(Sale.id, String),
    )


def _not_in_crm_query(period: DateRange):
    """The report's rows as one grouped SELECT (the definition; ``_not_in_crm_page`` reads
    the same rows a page at a time without grouping the whole range)."""
    buyer = _buyer().label("buyer")
    last = func.max(Sale.listed_at).label("last_at")
    return (
        select(
            buyer,
            func.max(Sale.buyer_name).label("name"),
            func.count().label("sales"),
            func.coalesce(func.sum(Sale.amount_cents), 0).label("cents"),
            last,
            func.min(Sale.id).label("sale_id"),
        )
        .where(*_sales_in(period), _approved())
        .group_by(buyer)
        # Per person: one sale of theirs matched to a contact (by its phone, say) puts the
        # buyer in the CRM, even when their other sales carry no matching key.
        .having(func.max(_in_crm()) == 0)
        .order_by(last.desc(), buyer)
    )


def _has_email(sale=Sale):
    return func.coalesce(sale.buyer_email, "") != ""


def _not_in_crm_walk(
    period: DateRange,
    after: tuple | None = None,
    reverse: bool = False,
    since=None,
    candidates: bool = False,
):
    """The latest sale in the range of each buyer out of the CRM (unordered): the range's
    real approved sales, each kept when no sale of the same e-mail in the range
    (``ix_sales_buyer_email_lower``) is matched or later; after the row ``after`` (last
    purchase, buyer) in the report's order, or before it when ``reverse``; only those of
    ``since`` on, when given (the sales looked at; the later ones still over the range).
    ``candidates``: without that look at the buyer's other sales (a superset)."""
    later = aliased(Sale, name="later")
    shadowed = exists().where(
        func.lower(later.buyer_email) == func.lower(Sale.buyer_email),
        *_sales_in(period, later),
        _approved(later),
        or_(
            later.crm_matched.is_(True),
            later.listed_at > Sale.listed_at,
            and_(later.listed_at == Sale.listed_at, later.id > Sale.id),
        ),
    )
    stmt = select(Sale.id, Sale.listed_at.label("last_at"), _buyer().label("buyer")).where(
        *_sales_in(period, since=since), _approved(), Sale.crm_matched.is_(False)
    )
    if not candidates:
        stmt = stmt.where(or_(~_has_email(), ~shadowed))
    if after is not None:
        at, key = after
        if reverse:
            stmt = stmt.where(Sale.listed_at >= at, or_(Sale.listed_at > at, _buyer() < key))
        else:
            stmt = stmt.where(Sale.listed_at <= at, or_(Sale.listed_at < at, _buyer() > key))
    return stmt


WALK_WINDOW = 4  # the first window of candidates: this many times the rows a page needs


def _not_in_crm_edge(walk, pool, needed: int, index_order):
    """The last purchase of the walk's ``needed``-th row in ``index_order``, looked for among
    the range's first candidate sales (approved, not matched: the cheap filters) in that
    order (``pool``: the walk without its look at the buyer's other sales), a window
    ``WALK_WINDOW`` times ``needed`` and then four times larger each time, until the window
    holds the row or every candidate. PostgreSQL cannot estimate how many
    sales the walk's correlated "no later sale of this buyer" keeps (it guessed 71 of
    13,500), and planned the whole range's bitmap scan and sort under the ``LIMIT``; a
    candidate window is a ``LIMIT`` on an index walk it plans right. SQLite walks the index
    in order under the plain ``OFFSET``/``LIMIT`` already (and the window made its deep
    pages slower): without ``pool`` the walk's own row is read directly."""
    edge = walk.with_only_columns(Sale.listed_at).order_by(*index_order).offset(needed - 1)
    if pool is None:
        return db.session.scalar(edge.limit(1))
    candidates = pool.with_only_columns(Sale.id).order_by(*index_order)
    window = max(needed * WALK_WINDOW, 1)
    while True:
        chosen = candidates.limit(window).scalar_subquery()
        found = db.session.scalar(edge.where(Sale.id.in_(chosen)).limit(1))
        if found is not None:
            return found
        held = db.session.scalar(
            select(func.count()).select_from(candidates.limit(window).subquery())
        )
        if held < window:
            return None  # the window held every candidate: the walk has fewer rows
        window *= 4


def _not_in_crm_found(
    period: DateRange, offset: int, limit: int | None, after, reverse: bool = False
) -> list:
    """Rows ``offset`` .. ``offset + limit`` of the walk in the report's order (last purchase
    newest first, then buyer; reversed when ``reverse``). The order's second key is not an
    index's: first find the last purchase of the page's last row by walking
    ``ix_sales_when_id`` in its own order (``listed_at DESC, id DESC``, or ascending: both
    databases stop after ``offset + limit`` rows), then sort only the rows from that
    purchase on — the page and its ties."""
    walk = _not_in_crm_walk(period, after, reverse)
    if reverse:
        order = (Sale.listed_at.asc(), literal_column("buyer").desc())
        index_order = (Sale.listed_at.asc(), Sale.id.asc())
    else:
        order = (Sale.listed_at.desc(), literal_column("buyer"))
        index_order = (Sale.listed_at.desc(), Sale.id.desc())
    boundary = None
    if limit is not None:
        pool = None
        if db.session.get_bind().dialect.name == "postgresql":
            pool = _not_in_crm_walk(period, after, reverse, candidates=True)
        boundary = _not_in_crm_edge(walk, pool, offset + limit, index_order)
    if boundary is not None and reverse:
        walk = walk.where(Sale.listed_at <= boundary)
    elif boundary is not None:  # the page's lower bound, in place of the range's
        walk = _not_in_crm_walk(period, after, reverse, since=boundary)
    ordered = walk.order_by(*order)
    if limit is not None:
        ordered = ordered.limit(limit)
    return db.session.execute(ordered.offset(offset)).all()


def _not_in_crm_page(
    period: DateRange,
    offset: int = 0,
    limit: int | None = None,
    after: tuple | None = None,
    reverse: bool = False,
) -> list[Row]:
    """Rows of ``_not_in_crm_query`` from ``offset`` (or after the cursor ``after``: a
    row's ``key``, ``(last_at, buyer)``; before it, nearest first, when ``reverse``): the
    walk finds the buyers, one grouped SELECT of only their sales gives their totals."""
    found = _not_in_crm_found(period, offset, limit, after, reverse)
    if not found:
        return []
    emails = sorted({r.buyer for r in found if not r.buyer.startswith("sale:")})
    alone = [r.id for r in found if r.buyer.startswith("sale:")]
    wanted = []
    if emails:
        wanted.append(and_(_has_email(), func.lower(Sale.buyer_email).in_(emails)))
    if alone:
        wanted.append(Sale.id.in_(alone))
    details = {
        r.buyer: r
        for r in db.session.execute(_not_in_crm_query(period).where(or_(*wanted)).order_by(None))
    }
    return [_not_in_crm_row(details[r.buyer]) for r in found if r.buyer in details]


def _people(period: DateRange) -> dict:
    """The range's buyers once each per platform (in the CRM when any of their approved
    sales there matched) and the buyers out of the CRM on every platform (the report's
    total), from ``sales_daily_buyers``: a buyer of days a..b is their first sale there, the
    one whose previous sale (``prev_day``) is before a. Kept for the request."""

    def compute() -> dict:
        b = SalesDailyBuyer
        stmt = (
            select(b.kind, b.platform, func.sum(b.n))
            .where(*_days(period, b.day), b.prev_day < period.start.isoformat())
            .group_by(b.kind, b.platform)
        )
        sums: dict[tuple[int, str], int] = {}
        for kind, platform, n in db.session.execute(stmt):
            sums[kind, platform] = int(n or 0)
        kinds = BUYER_KINDS
        platforms = sorted({p for k, p in sums if k == kinds["platform"]})
        counts: dict[str, list[int]] = {}
        for platform in platforms:
            inside = sums.get((kinds["platform_crm"], platform), 0)
            buyers = sums.get((kinds["platform"], platform), 0)
            if buyers:
                counts[platform] = [inside, buyers - inside]

        def every(kind: str) -> int:
            return sum(n for (k, _), n in sums.items() if k == kinds[kind])

        return {"counts": counts, "total": every("buyer") - every("buyer_crm")}

    return _memo("people", period, compute)


def _not_in_crm_count(period: DateRange) -> int:
    return _people(period)["total"]


def _not_in_crm_row(r) -> Row:
    email = None if r.buyer.startswith("sale:") else r.buyer
    values = {
        "buyer_email": email,
        "buyer_name": r.name,
        "sales": int(r.sales),
        "amount_cents": int(r.cents),
        "last_sale_at": r.last_at.isoformat() if r.last_at else None,
        "customer_key": f"email:{email}" if email else f"sale:{r.sale_id}",
    }
    return Row(values, (r.last_at, r.buyer))  # the report's order: last purchase, buyer


def _not_in_crm_chart(period: DateRange) -> dict:
    # One answer per buyer and platform (in the CRM when any of their sales matched), so a
    # buyer is never counted in both bars.
    counts = _people(period)["counts"]
    platforms = sorted(counts)
    return _bar(
        [platform_label(p) for p in platforms],
        [
            {"label": "Fora do CRM", "data": [counts[p][1] for p in platforms]},
            {"label": "No CRM", "data": [counts[p][0] for p in platforms]},
        ],
        money=False,
        stacked=True,
    )


# --- 2. won in Kommo without a sale ---------------------------------------------------------------


def _won_in(period: DateRange) -> list:
    where = [KommoLead.is_won.is_(True), KommoLead.closed_at >= period.since]
    if period.until is not None:
        where.append(KommoLead.closed_at < period.until)
    return where


def _won_without_sale_query(period: DateRange):
    contact_has_sale = and_(KommoContact.id.is_not(None), KommoContact.has_sale.is_(True))
    return (
        select(
            KommoLead.id,
            KommoLead.remote_id,
            KommoLead.name,
            KommoLead.price,
            KommoLead.currency,
            KommoLead.closed_at,
            KommoLead.responsible_user_id,
            KommoContact.id.label("contact_id"),
            KommoContact.name.label("contact_name"),
            KommoContact.email,
            KommoContact.phone,
        )
        .select_from(KommoLead)
        .outerjoin(KommoContact, KommoContact.remote_id == KommoLead.contact_id)
        .where(*_won_in(period), ~contact_has_sale)
        .order_by(KommoLead.closed_at.desc(), KommoLead.id.desc())
    )


def _won_without_sale_row(r) -> Row:
    # A lead's price is in its Kommo account's currency: only reais go in the R$ column.
    currency = lead_currency(r.currency)
    cents = int(r.price) * 100 if r.price is not None else None
    brl = currency == "BRL"
    values = {
        "lead_id": r.remote_id,
        "lead_name": r.name,
        "contact_name": r.contact_name,
        "contact_email": r.email,
        "contact_phone": r.phone,
        "responsible_user_id": r.responsible_user_id,
        "responsible": user_label(r.responsible_user_id),
        "price_cents": cents if brl else None,
        "currency": currency,
        "price_other": None if brl or cents is None else brl_format(cents, currency),
        "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        "customer_key": f"kommo:{r.contact_id}" if r.contact_id else None,
    }
    return Row(values, (r.closed_at, r.id))  # the report's order: closed, newest first


WON_ORDER = ((KommoLead.closed_at, True), (KommoLead.id, True))


def _won_without_sale_page(
    period: DateRange,
    offset: int = 0,
    limit: int | None = None,
    after: tuple | None = None,
    reverse: bool = False,
) -> list[Row]:
    """Rows of ``_won_without_sale_query`` from ``offset`` or after a row's ``key``
    (``(closed_at, id)``; before it, nearest first, when ``reverse``): a seek on
    ``ix_kommo_leads_won_closed`` that reads about one page of leads on any page."""
    stmt = _won_without_sale_query(period)
    if after is not None:
        stmt = stmt.where(rows_after(list(WON_ORDER), list(after), reverse))
    if reverse:
        stmt = stmt.order_by(None).order_by(KommoLead.closed_at.asc(), KommoLead.id.asc())
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_won_without_sale_row(r) for r in db.session.execute(stmt)]


def _won_counts(period: DateRange):
    """Won leads of the range per responsible user (0: none) and ``has_sale``, from
    ``kommo_won_daily`` (the same leads as ``_won_in`` and the contact join)."""
    w = KommoWonDaily
    return (
        select(w.owner, w.has_sale, func.sum(w.n).label("n"))
        .where(*_days(period, w.day))
        .group_by(w.owner, w.has_sale)
        .having(func.sum(w.n) != 0)
    )


def _won_without_sale_count(period: DateRange) -> int:
    w = KommoWonDaily
    stmt = select(func.coalesce(func.sum(w.n), 0)).where(*_days(period, w.day), w.has_sale == 0)
    return int(db.session.scalar(stmt) or 0)


def _won_without_sale_chart(period: DateRange) -> dict:
    counts: dict[int | None, list[int]] = {}
    for owner, flag, n in db.session.execute(_won_counts(period)):
        counts.setdefault(owner or None, [0, 0])[0 if flag else 1] += int(n)
    users = sorted(counts, key=lambda u: (-counts[u][1], -counts[u][0], u or 0))[:TOP]
    return _bar(
        [user_label(u) for u in users],
        [
            {"label": "Sem venda", "data": [counts[u][1] for u in users]},
            {"label": "Com venda", "data": [counts[u][0] for u in users]},
        ],
        money=False,
        stacked=True,
        horizontal=True,
    )
