"""Platform timestamps (epoch numbers, local Brazilian strings, ISO-8601) → aware UTC."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .values import text

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


_MIN_YEAR = 2000
_MAX_YEAR = 2200


def _plausible(moment: datetime) -> datetime | None:
    if _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return moment
    return None


def epoch_to_utc(value: Any, *, unit_ms: bool | None = True) -> datetime | None:
    """Epoch number (or digit string) → aware UTC datetime.

    ``unit_ms=True`` reads milliseconds (Hotmart), ``False`` seconds, ``None`` guesses by size.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if not re.fullmatch(r"\d{1,16}(\.\d+)?", stripped):
            return None
        value = float(stripped)
    if not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if abs(value) > 10**16:  # far beyond any plausible date, even in milliseconds
        return None
    if unit_ms is None:
        unit_ms = abs(value) >= 100_000_000_000  # > year 5138 in seconds: must be ms
    seconds = value / 1000 if unit_ms else value
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return None
    return _plausible(moment)


_LOCAL_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)


def local_to_utc(value: Any, tz: ZoneInfo = SAO_PAULO) -> datetime | None:
    """Date string → aware UTC datetime; never raises.

    Naive ``YYYY-MM-DD HH:MM[:SS]`` (and ``DD/MM/YYYY …``) strings are read in ``tz``
    (America/Sao_Paulo by default); ISO-8601 with ``Z`` or an offset keeps its own zone.
    Numbers are read as epoch seconds or milliseconds by magnitude.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_to_utc(value, unit_ms=None)
    raw = text(value, 64)
    if raw is None:
        return None
    if re.fullmatch(r"\d{9,16}", raw):
        return epoch_to_utc(int(raw), unit_ms=None)
    moment: datetime | None = None
    for fmt in _LOCAL_FORMATS:
        try:
            moment = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=tz)
        return _plausible(moment.astimezone(UTC))
    except (OverflowError, ValueError):
        return None
