"""The "Testar conexão" error ladder, once for every client.

``check_connection(probe, messages, details, host=…)`` runs the client's probe (Hotmart's first
product page, Kommo's ``/account``, Gestão Click's ``/lojas``) and turns any ``APIError`` into a
``ConnectionResult`` with the client's pt-BR text, or returns the probe's value on success.
Each client only supplies its ``ConnectionMessages``.

What a status means follows PLATFORMS.md:

- 401: the credentials are wrong, revoked or expired (``invalid_credentials``; Kommo says
  ``invalid_token``/``token_expired``, its client maps that itself);
- 402: the platform subscription ended (Kommo) or payment is pending (Hotmart);
- 403 (``permission_denied``): the credentials were recognised but refused — Hotmart
  ``unauthorized_client`` (no permission for that data), Kommo's block after repeated 429s or
  a token without admin rights, Gestão Click's API module inactive or user without permission;
- 429: the rate limit (``rate_limited``), with the wait when the platform said it;
- timeouts, connection failures, 5xx, other 4xx, anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UpstreamError,
)
from .results import ConnectionResult

T = TypeVar("T")


@dataclass(frozen=True)
class ConnectionMessages:
    """One client's pt-BR texts. Placeholders: ``{status}``, ``{detail}``, ``{host}``,
    ``{wait}`` (e.g. "30 s"), ``{used}`` (requests today, when the client counts them),
    ``{url}`` (the configured API URL)."""

    invalid: str
    permission: str
    rate_limited: str
    timeout: str
    connection: str
    upstream: str
    invalid_request: str
    unexpected: str
    payment: str | None = None  # None: a 402 is "unexpected"
    not_found: str | None = None  # None: a 404 is "unexpected"


def wait_text(seconds: float | None) -> str:
    """A wait for a person: "alguns instantes", "30 s", "5 min"."""
    if seconds is None or seconds <= 0:
        return "alguns instantes"
    if seconds < 90:
        return f"{int(seconds + 0.999)} s"
    return f"{int(seconds / 60 + 0.999)} min"


def check_connection(
    probe: Callable[[], T],
    messages: ConnectionMessages,
    details: dict[str, Any],
    *,
    host: Callable[[], str],
    url: str = "",
    used: Callable[[], str] = lambda: "?",
    on_auth: Callable[[AuthenticationError, dict[str, Any]], ConnectionResult | None] | None = None,
) -> T | ConnectionResult:
    """``probe()``'s value, or the failed ``ConnectionResult`` for the ``APIError`` it raised.

    ``on_auth`` may answer a 401 itself (Kommo tells an expired token from a wrong one);
    ``details`` gets ``status`` (and ``retry_after``) of the failure."""

    def fail(template: str, code: str, exc: APIError | None = None, **extra: Any):
        if exc is not None and exc.status is not None:
            details["status"] = exc.status
        values = {
            "status": getattr(exc, "status", None),
            "detail": getattr(exc, "detail", None) or getattr(exc, "code", None),
            "wait": wait_text(getattr(exc, "retry_after", None)),
            "url": url,
            **extra,
        }
        text = template.format(**values)
        return ConnectionResult(False, text, code, details)

    try:
        return probe()
    except AuthenticationError as exc:
        details["status"] = exc.status
        answer = on_auth(exc, details) if on_auth else None
        return answer or fail(messages.invalid, "invalid_credentials", exc)
    except PaymentRequiredError as exc:
        if messages.payment is None:
            return fail(messages.unexpected, "error", exc, detail=exc.message)
        return fail(messages.payment, "payment_required", exc)
    except PermissionDeniedError as exc:
        return fail(messages.permission, "permission_denied", exc)
    except RateLimitError as exc:
        details.update(status=exc.status, retry_after=exc.retry_after)
        return fail(messages.rate_limited, "rate_limited", exc, used=used())
    except APITimeoutError as exc:
        return fail(messages.timeout, "timeout", exc, host=host())
    except APIConnectionError as exc:
        return fail(messages.connection, "connection_error", exc, host=host())
    except UpstreamError as exc:
        return fail(messages.upstream, "upstream_error", exc)
    except NotFoundError as exc:
        if messages.not_found is None:
            return fail(messages.unexpected, "error", exc, detail=exc.message)
        return fail(messages.not_found, "not_found", exc)
    except InvalidRequestError as exc:
        return fail(messages.invalid_request, "invalid_request", exc)
    except APIError as exc:
        details["status"] = exc.status
        return fail(messages.unexpected, "error", None, detail=exc.message)


__all__ = ["ConnectionMessages", "check_connection", "wait_text"]
