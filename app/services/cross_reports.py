"""Cross reports of /relatorios (issue 16, SPEC §11): sales read against the Kommo CRM, the
sales' origin (UTM/src) and their outcome, over one São Paulo date range.

Every figure is a SQL aggregate (``GROUP BY`` in the database), most of them over daily
summaries. The two reports of one row per person or lead ("comprou fora do CRM", "ganho sem
venda") read a page by keyset (``Report.page`` after a row's ``key``, its place in the
report's order): their full pages and CSV cost the same on the first rows and the last. The
grouped reports have a row per user, origin, product or month: a page is ``OFFSET``/``LIMIT``
over the grouped result (the grouping costs the same on any page) and the CSV reads that one
SELECT in chunks. "Comprou fora do CRM"'s pages walk the range's sales newest first and group
only the page's buyers (``_not_in_crm_page``), and its total and chart count distinct
buyers as a sum over days of ``sales_daily_buyers`` (``_people``: each sale's day of its
buyer's previous sale, kept by triggers). "Ganho sem venda" counts from ``kommo_won_daily``. Test
sales are never counted and money is BRL in integer cents (sales in other currencies are left
out of every report, as on the charts).

People are matched through ``customer_keys`` (normalized e-mail, E.164 phone, CPF/CNPJ): a
sale is "in the CRM" when one of its keys is also a Kommo contact's; a won lead "has a sale"
when its contact shares a key with a non-test approved sale. The reports read that match
precomputed (``app.services.customers.matches``: ``sales.crm_matched``, ``crm_owner_id``,
``kommo_contacts.has_sale``, kept on write), so a range costs one pass over its rows.

A sale's date is ``Sale.listed_at`` (the ``ix_sales_when_id`` expression, the day the charts
and ``sales_daily`` use); a won lead's is its ``closed_at`` (``ix_kommo_leads_won_closed``).
Refund rates read ``sales_daily`` (São Paulo days), so they cost the same at any size.

Size: six reports of four parts each (query, row, chart, declaration) over ~1150 lines (the
keyset walk of "comprou fora do CRM" and the whole-month spans of the monthly summaries grew it
from ~750); kept together so a report reads top to bottom in one place. A seventh report is the
point to split them one module per report under ``app/services/cross_reports/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask import g, has_app_context
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from app.extensions import db
from app.formatting import PAYMENT_LABELS, platform_label
from app.formatting import brl as brl_format
from app.models import (
    KommoContact,
    KommoLead,
    KommoWonDaily,
    Sale,
    SalesDaily,
    SalesDailyBuyer,
    SalesDailyOwner,
    SalesDailyProduct,
    SalesDailyUtm,
    SalesMonthlyProduct,
    SalesMonthlyStatus,
    SalesMonthlyUtm,
)
from app.models.sales import GRANTING_STATUSES
from app.paging import encode_cursor, rows_after
from app.services.charts import DateRange
from app.services.kommo_queries import lead_currency
from app.services.summaries import BUYER_KINDS

MONEY, INT, TEXT, PERCENT, WHEN, DAY = "money", "int", "text", "percent", "when", "day"
PAID_STATUSES = (*sorted(GRANTING_STATUSES), "refunded", "chargeback")
TOP = 10  # bars on a chart
CSV_CHUNK = 1000  # rows the CSV reads at a time


@dataclass(frozen=True)
class Column:
    key: str  # the API item's key (money as ``*_cents``)
    label: str  # the table header and the CSV header (pt-BR)
    kind: str = TEXT


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    explanation: str  # one plain sentence under the title
    empty: str
    columns: tuple[Column, ...]
    query: Callable[[DateRange], object]  # the grouped SELECT of the table's rows (ordered)
    row: Callable[[object], dict]
    chart: Callable[[DateRange], dict]
    # The number of rows without counting them (a summary), when the report has one.
    count: Callable[[DateRange], int] | None = None
    # Its rows a page at a time by keyset: (period, offset, limit, after, reverse) gives
    # ``Row``s, ``after`` a row's ``key`` (the rows after it in the report's order, or the
    # ones before it, nearest first, when ``reverse``). ``key_columns`` are the SQL
    # expressions of the key's values (a cursor in a link is checked against their types);
    # ``key_int`` says the key ends in an integer id (else in a unique text).
    page: Callable[..., list[dict]] | None = None
    key_columns: tuple = ()
    key_int: bool = True

    def cell(self, column: Column, value) -> str:
        return cell(column, value)

    def total(self, period: DateRange) -> int:
        if self.count is not None:
            return self.count(period)
        stmt = self.query(period).order_by(None).subquery()
        return int(db.session.scalar(select(func.count()).select_from(stmt)) or 0)

    def rows(self, period: DateRange, offset: int = 0, limit: int | None = None) -> list[dict]:
        if self.page is not None:
            return self.page(period, offset, limit)
        stmt = self.query(period).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [self.row(r) for r in db.session.execute(stmt)]

    def all_rows(self, period: DateRange, chunk: int | None = None) -> Iterator[dict]:
        """Every row in the report's order, ``chunk`` at a time (the CSV), never the whole
        result in memory and never a growing OFFSET: a keyset report walks from one chunk's
        last row to the next; a grouped one reads its one SELECT in chunks (a cursor over
        the grouped result would group the whole range again for every chunk)."""
        chunk = chunk or CSV_CHUNK
        if self.page is not None:
            after = None
            while True:
                batch = self.page(period, 0, chunk, after)
                yield from batch
                if len(batch) < chunk:
                    return
                after = batch[-1].key
        result = db.session.execute(self.query(period).execution_options(yield_per=chunk))
        for partition in result.partitions():
            yield from (self.row(r) for r in partition)

    def keyset(
        self,
        period: DateRange,
        limit: int,
        *,
        after: tuple | None = None,
        reverse: bool = False,
        offset: int = 0,
        last: int | None = None,
    ) -> Slice:
        """One page of a keyset report (``page`` is set), the page's and the JSON API's:
        the ``limit`` rows after the key ``after`` (before it when ``reverse``), else the
        last page of a report of ``last`` rows, else ``limit`` rows from ``offset``. It reads
        ``limit + 1`` rows to know whether more lie beyond, and gives the rows in the
        report's order either way."""
        if after is not None:
            rows = self.page(period, 0, limit + 1, tuple(after), reverse)
            more = len(rows) > limit
            rows = rows[:limit]
            if reverse:  # the cursor's own row lies after the page
                rows.reverse()
                return Slice(rows, has_prev=more, has_next=True)
            return Slice(rows, has_prev=True, has_next=more)  # and here before it
        if last is not None:
            rows = self.page(period, 0, last % limit or limit, None, True)
            rows.reverse()
            return Slice(rows, has_prev=last > len(rows), has_next=False)
        rows = self.page(period, offset, limit + 1)
        return Slice(rows[:limit], has_prev=offset > 0, has_next=len(rows) > limit)


class Row(dict):
    """A report row (the API item, the cells' values) that knows its place in the report's
    order (``key``: the sort values ending in a unique one), the cursor of the next page."""

    __slots__ = ("key",)

    def __init__(self, values: dict, key: tuple) -> None:
        super().__init__(values)
        self.key = key


@dataclass(frozen=True)
class Slice:
    """A page of a keyset report (``Report.keyset``): its rows in the report's order, whether
    rows lie before and after them, and the cursors (``app.paging.encode_cursor`` of the
    first and last row's key) that reach those, ``None`` when there are none."""

    rows: list[Row]
    has_prev: bool
    has_next: bool

    @property
    def prev_cursor(self) -> str | None:
        return encode_cursor(self.rows[0].key) if self.has_prev and self.rows else None

    @property
    def next_cursor(self) -> str | None:
        return encode_cursor(self.rows[-1].key) if self.has_next and self.rows else None


# --- shared pieces ---------------------------------------------------------------------


def _brl(column=Sale.currency):
    """BRL or no currency. Not ``coalesce(currency, 'BRL') IN (…)``: PostgreSQL has no
    statistics for that expression and guessed it keeps 1 % of the sales, so it planned the
    "fora do CRM" candidate walk as a scan and sort of the whole range (160 ms at 1M)."""
    return or_(column.is_(None), column.in_(("BRL", "")))


def _sales_in(period: DateRange, sale=Sale, since=None) -> list:
    """The period's real BRL sales; from ``since`` instead of the period's first day when
    given (a later lower bound replaces the period's: SQLite uses one bound per index)."""
    where = [
        sale.is_test.is_(False),
        _brl(sale.currency),
        sale.listed_at >= (since or period.since),
    ]
    if period.until is not None:
        where.append(sale.listed_at < period.until)
    return where


def _approved(sale=Sale):
    return sale.status.in_(GRANTING_STATUSES)


def _memo(name: str, period: DateRange, compute: Callable[[], object]):
    """``compute()`` once per request and range (/relatorios asks a report for its total and
    its chart, both from one scan)."""
    if not has_app_context():
        return compute()
    memo = g.setdefault("_cross_reports", {})
    key = (name, period.start, period.end, period.until)
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _bar(labels: list[str], datasets: list[dict], *, money: bool, horizontal=False, **extra):
    return {
        "type": "bar",
        "horizontal": horizontal,
        "money": money,
        "labels": labels,
        "datasets": datasets,
        "empty": not labels,
        **extra,
    }


def _reais(cents) -> float:
    return round(int(cents or 0) / 100, 2)


def user_label(user_id: int | None) -> str:
    return f"Usuário {user_id}" if user_id else "Sem responsável"


# --- 1. bought but not in the CRM --------------------------------------------------------


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


# --- 2. won in Kommo without a sale ------------------------------------------------------


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


# --- 3. revenue per Kommo responsible user ----------------------------------------------


def _in_crm():
    return case((Sale.crm_matched.is_(True), 1), else_=0)


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
    rows = REPORTS["receita-por-responsavel"].rows(period, 0, TOP)
    return _bar(
        [r["responsible"] for r in rows],
        [{"label": "Receita", "data": [_reais(r["amount_cents"]) for r in rows]}],
        money=True,
        horizontal=True,
    )


# --- 4. revenue and conversion per UTM source / campaign ------------------------------


def _days(period: DateRange, day) -> list:
    """The range on a summary's São Paulo ``day``: the same sales as ``_sales_in`` (an open
    range — it ends today — has no upper bound either)."""
    where = [day >= period.start.isoformat()]
    if period.until is not None:
        where.append(day <= period.end.isoformat())
    return where


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


# --- 5. revenue per platform, product and payment method ---------------------------------


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


# --- 6. refunds and chargebacks rate -----------------------------------------------------


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


def month_label(month: str) -> str:
    from app.services.charts import MONTHS

    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]}/{year}"


def _refunds_chart(period: DateRange) -> dict:
    totals: dict[str, list[int]] = {}
    for row in REPORTS["reembolsos"].rows(period):  # one row per month and platform
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


# --- the registry ------------------------------------------------------------------------

REPORTS: dict[str, Report] = {
    r.slug: r
    for r in (
        Report(
            "comprou-fora-do-crm",
            "Compraram, mas não estão no CRM",
            "Compradores com venda aprovada no período que não aparecem como contato no Kommo "
            "(nem pelo e-mail, nem pelo telefone, nem pelo CPF/CNPJ).",
            "Todos os compradores do período estão no Kommo.",
            (
                Column("buyer_email", "E-mail"),
                Column("buyer_name", "Nome"),
                Column("sales", "Compras", INT),
                Column("amount_cents", "Valor", MONEY),
                Column("last_sale_at", "Última compra", WHEN),
            ),
            _not_in_crm_query,
            _not_in_crm_row,
            _not_in_crm_chart,
            _not_in_crm_count,
            _not_in_crm_page,
            (Sale.listed_at, _buyer()),
            key_int=False,
        ),
        Report(
            "ganho-sem-venda",
            "Ganhos no Kommo sem venda",
            "Negócios marcados como ganhos no Kommo no período cujo contato não tem nenhuma "
            "compra aprovada nas plataformas. Valores em outra moeda (a da conta do Kommo) "
            "aparecem à parte, sem conversão para reais.",
            "Todos os negócios ganhos do período têm uma compra aprovada.",
            (
                Column("lead_name", "Negócio"),
                Column("contact_name", "Contato"),
                Column("contact_email", "E-mail"),
                Column("contact_phone", "Telefone"),
                Column("responsible", "Responsável"),
                Column("price_cents", "Valor no Kommo", MONEY),
                Column("price_other", "Outra moeda"),
                Column("closed_at", "Ganho em", WHEN),
            ),
            _won_without_sale_query,
            _won_without_sale_row,
            _won_without_sale_chart,
            _won_without_sale_count,
            _won_without_sale_page,
            (KommoLead.closed_at, KommoLead.id),
        ),
        Report(
            "receita-por-responsavel",
            "Receita por responsável no Kommo",
            "Vendas aprovadas do período somadas pelo responsável do contato no Kommo "
            "(o do negócio ganho, quando houver).",
            "Nenhuma venda aprovada neste período.",
            (
                Column("responsible", "Responsável"),
                Column("sales", "Vendas", INT),
                Column("amount_cents", "Receita", MONEY),
                Column("average_cents", "Ticket médio", MONEY),
                Column("share", "Parte da receita", PERCENT),
            ),
            _by_responsible_query,
            _by_responsible_row,
            _by_responsible_chart,
        ),
        Report(
            "por-origem",
            "Receita e conversão por origem (UTM)",
            "De onde vieram as vendas: utm_source (ou o código src) e utm_campaign. Conversão é "
            "a parte das vendas daquela origem que foi aprovada.",
            "Nenhuma venda neste período.",
            (
                Column("source", "Origem"),
                Column("campaign", "Campanha"),
                Column("sales", "Vendas", INT),
                Column("approved", "Aprovadas", INT),
                Column("conversion", "Conversão", PERCENT),
                Column("amount_cents", "Receita", MONEY),
            ),
            _by_utm_query,
            _by_utm_row,
            _by_utm_chart,
        ),
        Report(
            "por-produto",
            "Receita por plataforma, produto e forma de pagamento",
            "Vendas aprovadas do período somadas por plataforma, produto e forma de pagamento.",
            "Nenhuma venda aprovada neste período.",
            (
                Column("platform_label", "Plataforma"),
                Column("product_name", "Produto"),
                Column("payment_label", "Pagamento"),
                Column("sales", "Vendas", INT),
                Column("amount_cents", "Receita", MONEY),
            ),
            _by_product_query,
            _by_product_row,
            _by_product_chart,
        ),
        Report(
            "reembolsos",
            "Taxa de reembolsos e chargebacks",
            "De cada 100 vendas pagas no mês, quantas foram reembolsadas ou contestadas no "
            "cartão (chargeback), por plataforma.",
            "Nenhuma venda paga neste período.",
            (
                Column("month", "Mês", DAY),
                Column("platform_label", "Plataforma"),
                Column("paid", "Vendas pagas", INT),
                Column("refunded", "Reembolsos", INT),
                Column("refund_rate", "Taxa de reembolso", PERCENT),
                Column("chargeback", "Chargebacks", INT),
                Column("chargeback_rate", "Taxa de chargeback", PERCENT),
                Column("lost_cents", "Valor devolvido", MONEY),
            ),
            _refunds_query,
            _refunds_row,
            _refunds_chart,
        ),
    )
}

# API paths (/api/reports/<name>) in English, like /api/reports/reconciliation.
API_NAMES = {
    "not-in-crm": "comprou-fora-do-crm",
    "won-without-sale": "ganho-sem-venda",
    "revenue-by-responsible": "receita-por-responsavel",
    "by-utm": "por-origem",
    "by-product": "por-produto",
    "refunds": "reembolsos",
}


def cell(column: Column, value) -> str:
    """A cell as the page shows it (R$, thousands, %, São Paulo dates)."""
    from datetime import datetime

    from app import formatting

    if value is None or value == "":
        return "—"
    if column.kind == MONEY:
        return formatting.brl(value)
    if column.kind == INT:
        return formatting.number(value)
    if column.kind == PERCENT:
        return formatting.percent(value)
    if column.kind == WHEN:
        return formatting.datetime_br(datetime.fromisoformat(value))
    if column.kind == DAY:
        return month_label(value)
    return str(value)


def csv_value(column: Column, value):
    """A cell as a seller's spreadsheet reads it: money in reais with a comma, rates in %."""
    from app.formatting import datetime_br

    if value is None:
        return ""
    if column.kind == MONEY:
        return f"{value / 100:.2f}".replace(".", ",")
    if column.kind == PERCENT:
        return f"{100 * value:.1f}".replace(".", ",")
    if column.kind == WHEN:
        from datetime import datetime

        return datetime_br(datetime.fromisoformat(value))
    if column.kind == DAY:
        return month_label(value)
    return value


def period_dict(period: DateRange) -> dict:
    return {"start": period.start.isoformat(), "end": period.end.isoformat(), "key": period.key}


__all__ = ["API_NAMES", "REPORTS", "Column", "Report", "Row", "Slice", "cell", "csv_value"]
