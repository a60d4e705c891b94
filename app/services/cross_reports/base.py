"""What every cross report is made of (``app.services.cross_reports``): the ``Column`` /
``Report`` / ``Row`` / ``Slice`` shapes, the pieces the reports share (non-test BRL sales of a
range, the memo of one request, chart bars) and how a cell reads on the page and in the CSV."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import g, has_app_context
from sqlalchemy import (
    case,
    func,
    or_,
    select,
)

from app.extensions import db
from app.models import (
    Sale,
)
from app.models.sales import GRANTING_STATUSES
from app.paging import encode_cursor
from app.services.charts import DateRange

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
    # (source, resource) of the synced data the report reads (Kommo's contacts…): the page
    # says how fresh it is (``app.reports.cross.synced_note``).
    synced_from: tuple[str, str] | None = None

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


def _days(period: DateRange, day) -> list:
    """The range on a summary's São Paulo ``day``: the same sales as ``_sales_in`` (an open
    range — it ends today — has no upper bound either)."""
    where = [day >= period.start.isoformat()]
    if period.until is not None:
        where.append(day <= period.end.isoformat())
    return where


def _in_crm():
    return case((Sale.crm_matched.is_(True), 1), else_=0)


def month_label(month: str) -> str:
    from app.services.charts import MONTHS

    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]}/{year}"


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
