"""Hotmart REST dates and query strings (PLATFORMS.md §3.5): Unix milliseconds, windows for
``sales/history`` (Hotmart answers 502 on queries over 30 s), repeated keys for lists."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any


def to_epoch_ms(value: datetime | date | int | float) -> int:
    """Hotmart dates are Unix milliseconds; naive datetimes and dates are taken as UTC."""
    if isinstance(value, bool):
        raise TypeError("a date is expected, not a bool")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        raise TypeError(f"cannot convert {type(value).__name__} to epoch milliseconds")
    return int(round(when.timestamp() * 1000))


# Below this an epoch number is seconds (10^11 s is the year 5138; 10^11 ms is March 1973).
EPOCH_MS_THRESHOLD = 100_000_000_000


def from_epoch(value: Any) -> datetime | None:
    """A date of a REST answer → aware UTC datetime, or None when unreadable.

    Documented as Unix milliseconds, but seconds are seen too (older accounts, proxies that
    re-serialise): the magnitude decides. Digit strings and ISO-8601 strings are accepted;
    a naive ISO string is taken as UTC. Never raises.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not isinstance(value, int | float) or value != value or value <= 0:
        return None
    seconds = value / 1000 if value >= EPOCH_MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def sales_windows(
    start: datetime, end: datetime, days: int = 30
) -> list[tuple[datetime, datetime]]:
    """Split [start, end] into consecutive windows of at most ``days`` days.

    Hotmart answers 502 for queries that run over 30 s, so long ranges are walked in windows.
    ``end_date`` is inclusive to the millisecond, so each window starts 1 ms after the previous
    one ends: no sale is read twice and none is skipped.
    """
    if days <= 0:
        raise ValueError("days must be positive")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    if end < start:
        raise ValueError("end must not be before start")
    windows: list[tuple[datetime, datetime]] = []
    step, tick = timedelta(days=days), timedelta(milliseconds=1)
    cursor = start
    while cursor <= end:
        stop = min(cursor + step - tick, end)
        windows.append((cursor, stop))
        cursor = stop + tick
    return windows


def _query(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Filters → query pairs: None dropped, sequences repeated, dates in ms, bools lower-case."""
    pairs: list[tuple[str, str]] = []
    for key, value in filters.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple | set | frozenset) else [value]
        for item in sorted(values) if isinstance(values, set | frozenset) else values:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif isinstance(item, datetime | date):
                pairs.append((key, str(to_epoch_ms(item))))
            else:
                pairs.append((key, str(item)))
    return pairs


__all__ = ["EPOCH_MS_THRESHOLD", "from_epoch", "sales_windows", "to_epoch_ms"]
