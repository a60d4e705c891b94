"""Amounts → integer cents (reais as numbers, Brazilian ``"R$ 1.234,56"`` strings, cents)."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal

from .values import MAX_ABS_CENTS, MAX_CURRENCY_LEN, as_int, text

_CENT = Decimal("0.01")


def _cents_from_decimal(amount: Decimal) -> int | None:
    try:
        if not amount.is_finite():
            return None
        cents = int(amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return cents if abs(cents) <= MAX_ABS_CENTS else None


def decimal_to_cents(value: Any) -> int | None:
    """Reais as a JSON number (or numeric string) → integer cents, rounded half-up.

    Goes through ``str`` so binary float noise disappears: ``0.1 + 0.2`` → 30, ``197.0`` → 19700.
    A string with a comma (``"1.169,80"``, ``"R$ 97,00"``) is read as a Brazilian amount.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        try:
            return _cents_from_decimal(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return None
    if isinstance(value, str):
        stripped = value.strip()
        if "," in stripped or "R$" in stripped.upper():
            return brl_to_cents(stripped)
        if re.fullmatch(r"[+-]?\d{1,15}(\.\d+)?", stripped):
            return _cents_from_decimal(Decimal(stripped))
    return None


_BRL_RE = re.compile(r"^[+-]?\d{1,3}(\.?\d{3})*(,\d{1,2})?$")


def brl_to_cents(value: Any) -> int | None:
    """``"R$ 1.169,80"`` → 116980: strip ``R$``, then read the number the pt_BR way (babel)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return decimal_to_cents(value)
    raw = text(value, 64)
    if raw is None:
        return None
    cleaned = re.sub(r"(?i)r\$", "", raw).replace("\u00a0", " ").replace(" ", "")
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("+-")
    if not cleaned:
        return None
    if _BRL_RE.match(cleaned):
        try:  # "1.169,80": pt_BR grouping dots and decimal comma
            number = parse_decimal(cleaned, locale="pt_BR")
        except NumberFormatError:
            return None
    elif re.fullmatch(r"\d{1,15}\.\d{1,2}", cleaned):
        number = Decimal(cleaned)  # "97.00": plain decimal point
    else:
        return None
    cents = _cents_from_decimal(number)
    if cents is None:
        return None
    return -cents if negative else cents


def cents_from_int(value: Any) -> int | None:
    """An amount already in cents (Kiwify): int, integral float or digit string."""
    cents = as_int(value)
    if cents is None or abs(cents) > MAX_ABS_CENTS:
        return None
    return cents


def normalize_currency(value: Any) -> str | None:
    raw = text(value, 16)
    if raw is None or len(raw) > MAX_CURRENCY_LEN or not raw.isalpha():
        return None
    return raw.upper()
