"""Request-proof helpers: header and query access, constant-time secret comparison."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

NO_SECRET_REASON = "Segredo do webhook não configurado para esta plataforma"


def lower_headers(headers: Any) -> dict[str, str]:
    """Case-insensitive view of request headers (first value wins); never raises.

    Accepts a mapping, a werkzeug ``Headers`` object or an iterable of ``(name, value)`` pairs.
    """
    result: dict[str, str] = {}
    if headers is None or isinstance(headers, str | bytes):
        return result
    try:
        items: Iterable[Any] = headers.items() if hasattr(headers, "items") else iter(headers)
        for item in items:
            try:
                name, value = item
            except (TypeError, ValueError):
                continue
            if isinstance(name, bytes):
                name = name.decode("latin-1")
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            result.setdefault(name.strip().lower(), value)
    except (AttributeError, TypeError, ValueError):
        return {}
    return result


def get_arg(args: Any, name: str) -> str | None:
    try:
        value = args.get(name) if args is not None else None
    except (AttributeError, TypeError):
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def clean_secret(secret: Any) -> str | None:
    if not isinstance(secret, str):
        return None
    stripped = secret.strip()
    return stripped or None


def secure_equals(given: str | None, expected: str) -> bool:
    """Constant-time comparison of two strings (as UTF-8 bytes)."""
    if given is None:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
