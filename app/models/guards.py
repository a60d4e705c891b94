"""Column-safe values at flush time, on every backend.

A hostile or buggy payload must never make a write fail forever (a stored webhook retried
until it gives up, a sync record lost): before each flush, values of new and changed rows are
made to fit their column the way PostgreSQL would demand and SQLite would not:

* text: NUL characters are dropped (PostgreSQL refuses them) and lone surrogates become
  U+FFFD (they cannot be encoded in UTF-8);
* integers out of the column's range (INTEGER: 32 bits, BIGINT: 64 bits) become NULL when the
  column allows it — a recurrence number of 2³¹ is not a fact worth failing a sale for.

Anything else (an out-of-range value in a NOT NULL column) is left for the database to refuse.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy import BigInteger, Integer, SmallInteger, String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_SURROGATES = re.compile("[\ud800-\udfff]")
_INT_RANGES = (
    (SmallInteger, 2**15),
    (BigInteger, 2**63),
    (Integer, 2**31),
)


def _int_bound(column_type) -> int | None:
    for kind, bound in _INT_RANGES:
        if isinstance(column_type, kind):
            return bound
    return None


def clean_text(value: str) -> str:
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATES.search(value):
        value = _SURROGATES.sub("\ufffd", value)
    return value


def _guard_object(obj) -> None:
    state = sa_inspect(obj)
    for attr in state.mapper.column_attrs:
        if len(attr.columns) != 1:
            continue
        column = attr.columns[0]
        value = state.dict.get(attr.key)
        if value is None:
            continue
        column_type = column.type
        if isinstance(value, str) and isinstance(column_type, String):  # Text is a String
            cleaned = clean_text(value)
            if cleaned is not value and cleaned != value:
                setattr(obj, attr.key, cleaned)
        elif isinstance(value, int) and not isinstance(value, bool):
            bound = _int_bound(column_type)
            if bound is not None and not -bound <= value < bound and column.nullable:
                log.warning(
                    "%s.%s: a %s-bit integer does not fit the column; stored as NULL",
                    state.mapper.class_.__name__,
                    attr.key,
                    value.bit_length(),
                )
                setattr(obj, attr.key, None)


@event.listens_for(Session, "before_flush")
def _column_safe_values(session, _flush_context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        _guard_object(obj)
