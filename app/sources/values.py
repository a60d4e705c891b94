"""Lenient readers of decoded JSON: wrong types are treated as missing, lengths are capped."""

from __future__ import annotations

import math
import re
from typing import Any

# Length caps applied to every text field, so a hostile or buggy payload cannot overflow a
# database column. Over-long identifiers are truncated, over-long e-mails are rejected.
MAX_KEY_LEN = 255
MAX_EVENT_TYPE_LEN = 64
MAX_TEXT_LEN = 255
MAX_EMAIL_LEN = 254
MAX_PHONE_LEN = 32
MAX_DOCUMENT_LEN = 32
MAX_CURRENCY_LEN = 8
MAX_PAYMENT_METHOD_LEN = 32
# Anything above ~10 trillion reais is not a real sale; treat it as missing.
MAX_ABS_CENTS = 10**15


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]…`` or ``None`` as soon as a level is not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any, max_len: int = MAX_TEXT_LEN) -> str | None:
    """Trimmed string (numbers are stringified), truncated to ``max_len``; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) >= 10**255:  # also avoids int→str digit-limit errors on absurd ints
            return None
        result = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        result = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, str):
        # NUL is rejected by PostgreSQL text columns; lone surrogates cannot be encoded.
        result = value.replace("\x00", "").strip()
        if _has_surrogates(result):
            result = _SURROGATES.sub("\ufffd", result)
    else:
        return None
    if not result:
        return None
    return result[:max_len]


_SURROGATES = re.compile("[\ud800-\udfff]")


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_MAX_INT = 2**63 - 1  # fits a BIGINT column


def as_int(value: Any) -> int | None:
    """Integer (|n| < 2**63) from an int, an integral float or a numeric string; else ``None``."""
    if isinstance(value, bool):
        return None
    result: int | None = None
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            result = int(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"[+-]?\d{1,18}", stripped):
            result = int(stripped)
    if result is None or abs(result) > _MAX_INT:
        return None
    return result


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "sim"}
    return False


def upper_token(value: Any, max_len: int = MAX_EVENT_TYPE_LEN) -> str | None:
    result = text(value, max_len)
    return result.upper() if result else None
