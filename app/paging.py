"""Safe paging parameters for list pages, and pages that stay fast at millions of rows.

``paginate`` serves a list three ways, all from plain links:

- ``?page=N`` for the first ``MAX_OFFSET_PAGE`` pages (numbered links; OFFSET is cheap there);
- ``?apos=<cursor>`` / ``?antes=<cursor>`` for "Próxima"/"Anterior" beyond them: keyset pages
  (``WHERE (sort, id) < (:sort, :id)``) that cost the same on page 2 and page 20,000 and whose
  URL keeps showing the same rows however many arrive later;
- ``?fim=1`` for the last page (the sort reversed).

Counts never scan the whole table: a caller that knows the exact total (a summary table)
passes it; otherwise the count stops at ``COUNT_CAP`` and the page says "mais de 10.000".
A malformed cursor or page number falls back to the first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import request
from sqlalchemy import and_, func, literal, literal_column, or_, select, tuple_

MAX_PAGE = 100_000
MAX_OFFSET_PAGE = 20
COUNT_CAP = 10_000


def page_arg() -> int:
    """The ?page= value clamped to 1..MAX_PAGE (junk and absurd numbers fall back safely)."""
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)


def _encode(values: list) -> str:
    plain = []
    for value in values:
        if isinstance(value, datetime):
            plain.append({"t": value.astimezone(UTC).isoformat()})
        elif isinstance(value, date):
            plain.append({"d": value.isoformat()})
        else:
            plain.append(value)
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, size: int, unique_int: bool = True) -> list | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
        if not isinstance(plain, list) or len(plain) != size:
            return None
        values = []
        for value in plain:
            if isinstance(value, dict) and set(value) == {"t"}:
                parsed = datetime.fromisoformat(value["t"])
                if parsed.tzinfo is None:
                    return None
                values.append(parsed)
            elif isinstance(value, dict) and set(value) == {"d"}:
                values.append(date.fromisoformat(value["d"]))
            elif isinstance(value, int | str) and not isinstance(value, bool):
                values.append(value)
            else:
                return None
        if unique_int and (not isinstance(values[-1], int) or not -(2**63) <= values[-1] < 2**63):
            return None
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None


def _fits(column, value) -> bool:
    """Does a cursor value have the kind of its column (a date for a date column…)?"""
    kind = column.type
    kind = getattr(kind, "impl_instance", None) or getattr(kind, "impl", None) or kind
    try:
        expected = kind.python_type  # a TypeDecorator (UTCDateTime) answers for its impl
    except NotImplementedError:
        return isinstance(value, int | str)
    if expected is datetime:
        return isinstance(value, datetime)
    if expected is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    if expected is int:
        return isinstance(value, int) and -(2**63) <= value < 2**63
    if expected is str:
        return isinstance(value, str) and len(value) <= 1000
    return isinstance(value, expected)


def encode_cursor(values) -> str:
    """A row's place in a list's order as the ``apos``/``antes`` value of a link."""
    return _encode(list(values))


CURSOR_NAMES = ("apos", "antes")  # the pages' "Próxima"/"Anterior" parameters


def cursor_arg(
    columns, unique_int: bool = True, names: tuple[str, ...] = CURSOR_NAMES
) -> tuple[str | None, list | None]:
    """``(name, values)`` for the first of ``names`` (``"apos"``, ``"antes"``) the request
    has, each value of its column's kind, the last an integer id unless ``unique_int`` is
    false (a unique text key); ``(None, None)`` when none is given or the first given is
    unreadable (a page serves its first page; the JSON API answers 400)."""
    args = request.args
    for name in names:
        if args.get(name):
            cursor = _decode(args.get(name, "")[:2000], len(columns), unique_int)
            if (
                cursor is None
                or not all(
                    _fits(column, value) for column, value in zip(columns, cursor, strict=True)
                )
                or (not unique_int and not isinstance(cursor[-1], str))
            ):
                return None, None  # values of the wrong kind for these columns: first page
            return name, cursor
    return None, None


def rows_after(order, values, reverse: bool = False):
    """Rows strictly after ``values`` in ``order`` (before them when ``reverse``)."""
    return _after(order, values, reverse)


@dataclass
class Page:
    items: list
    per_page: int
    total: int
    total_capped: bool = False
    page: int | None = None  # the number when reached by ?page=
    has_prev: bool = False
    has_next: bool = False
    prev_args: dict[str, Any] = field(default_factory=dict)
    next_args: dict[str, Any] = field(default_factory=dict)
    last_args: dict[str, Any] | None = None
    numbers: list[int] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, page_count(self.total, self.per_page))


def page_count(total: int, per_page: int) -> int:
    """Pages of ``per_page`` rows that ``total`` rows fill (0 when there are none)."""
    return -(-total // per_page) if total > 0 else 0


def capped_count(stmt, cap: int | None = None) -> tuple[int, bool]:
    """``count(*)`` of ``stmt`` that stops after ``cap`` rows: (count, capped)."""
    from app.extensions import db

    cap = COUNT_CAP if cap is None else cap
    narrow = stmt.with_only_columns(literal_column("1"), maintain_column_froms=True)
    limited = narrow.order_by(None).limit(cap + 1).subquery()
    n = db.session.scalar(select(func.count()).select_from(limited)) or 0
    return (cap, True) if n > cap else (n, False)


def _after(order, values, reverse: bool):
    """Rows strictly after ``values`` in ``order`` (a list of (column, descending))."""
    descending = order[0][1] != reverse
    columns = [c for c, _ in order]
    values = [literal(v, type_=c.type) for c, v in zip(columns, values, strict=True)]
    if len(order) == 2 and order[0][1] == order[1][1]:
        # "a <= v AND (a < v OR id < i)": the first term is a range both databases seek on
        # (SQLite only scans for a row-value comparison on an expression index).
        (a, i), (va, vi) = columns, values
        if descending:
            return and_(a <= va, or_(a < va, i < vi))
        return and_(a >= va, or_(a > va, i > vi))
    if all(d == order[0][1] for _, d in order):
        row = tuple_(*columns)
        bound = tuple_(*values)
        return row < bound if descending else row > bound
    terms = []
    for i, (column, desc) in enumerate(order):
        before = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if desc != reverse else column > values[i]
        terms.append(and_(*before, step))
    return or_(*terms)


def paginate(
    stmt,
    order: list | None,
    per_page: int,
    total: int | None = None,
    key=None,
) -> Page:
    """One page of ``stmt`` (unordered); ``order`` is [(column, descending), ...] ending in a
    unique column, and ``key(item)`` gives an item's values for it. Without ``order`` only
    numbered pages are served (lists whose sort is not keyset-friendly)."""
    from app.extensions import db

    if total is None:
        total, capped = capped_count(stmt)
    else:
        capped = False
    args = request.args
    page_no = page_arg()
    cursor = None
    direction = None
    if order is not None:
        direction, cursor = cursor_arg([column for column, _ in order])
        if args.get("fim") and not direction:
            direction = "fim"
    if order is not None and direction is None and page_no > MAX_OFFSET_PAGE:
        page_no = 1

    def ordered(select_stmt, reverse=False):
        terms = []
        for column, desc in order:
            terms.append(column.asc() if desc == reverse else column.desc())
        return select_stmt.order_by(*terms)

    result = Page(items=[], per_page=per_page, total=total, total_capped=capped)
    if direction in ("apos", "antes"):
        reverse = direction == "antes"
        rows = list(
            db.session.scalars(
                ordered(stmt.where(_after(order, cursor, reverse)), reverse).limit(per_page + 1)
            )
        )
        more = len(rows) > per_page
        rows = rows[:per_page]
        if reverse:
            rows.reverse()
            result.has_prev, result.has_next = more, True
        else:
            result.has_prev, result.has_next = True, more
        result.items = rows
    elif direction == "fim":
        remainder = total % per_page if not capped else 0
        size = remainder or per_page
        rows = list(db.session.scalars(ordered(stmt, reverse=True).limit(size)))
        rows.reverse()
        result.items = rows
        result.has_prev = bool(rows) and (capped or total > len(rows))
        if not capped:
            result.page = result.pages
    else:
        query = ordered(stmt) if order is not None else stmt
        rows = list(db.session.scalars(query.offset((page_no - 1) * per_page).limit(per_page + 1)))
        result.has_next = len(rows) > per_page
        result.items = rows[:per_page]
        result.page = page_no
        result.has_prev = page_no > 1
        if page_no > 1:
            result.prev_args = {"page": page_no - 1}
        if result.has_next:
            result.next_args = {"page": page_no + 1}
    if result.page is not None:
        limit = MAX_OFFSET_PAGE if order is not None else MAX_PAGE
        top = min(limit, result.pages) if not capped else max(limit, result.page)
        if result.page <= top:
            result.numbers = list(range(max(1, result.page - 2), min(top, result.page + 2) + 1))
    if order is not None and result.items:
        first, last = key(result.items[0]), key(result.items[-1])
        if result.has_next and (direction is not None or result.page >= MAX_OFFSET_PAGE):
            result.next_args = {"apos": _encode(last)}
        if result.has_prev and direction is not None:
            result.prev_args = {"antes": _encode(first)}
        if result.has_next:
            result.last_args = {"fim": 1}
    return result


def paginate_nulls_last(stmt, column, id_column, per_page: int) -> Page:
    """Numbered pages of ``stmt`` by ``column DESC NULLS LAST, id DESC``, read as two
    index-backed parts (the dated rows, then the undated ones): PostgreSQL cannot serve
    NULLS LAST from a plain (column, id) index, SQLite can but this works on both."""
    from app.extensions import db

    base = stmt.order_by(None)
    total, capped = capped_count(base)
    page_no = page_arg()
    offset = (page_no - 1) * per_page
    want = per_page + 1
    dated = base.where(column.is_not(None)).order_by(column.desc(), id_column.desc())
    rows = list(db.session.scalars(dated.offset(offset).limit(want)))
    if len(rows) < want:
        if rows or offset == 0:
            null_offset = 0
        else:  # past every dated row: how many there are tells where the undated ones start
            null_offset = offset - (
                db.session.scalar(
                    select(func.count()).select_from(
                        base.where(column.is_not(None))
                        .with_only_columns(literal_column("1"), maintain_column_froms=True)
                        .subquery()
                    )
                )
                or 0
            )
        undated = base.where(column.is_(None)).order_by(id_column.desc())
        rows += list(
            db.session.scalars(undated.offset(max(null_offset, 0)).limit(want - len(rows)))
        )
    result = Page(items=rows[:per_page], per_page=per_page, total=total, total_capped=capped)
    result.page = page_no
    result.has_next = len(rows) > per_page
    result.has_prev = page_no > 1
    if result.has_prev:
        result.prev_args = {"page": page_no - 1}
    if result.has_next:
        result.next_args = {"page": page_no + 1}
    top = min(MAX_PAGE, result.pages) if not capped else max(MAX_PAGE, page_no)
    result.numbers = list(range(max(1, page_no - 2), min(top, page_no + 2) + 1))
    return result
