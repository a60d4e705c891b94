"""Retry policy of the gateway: which statuses retry, how long a response asks us to wait,
and the backoff (exponential with full jitter; never under the full backoff after a 429)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from .errors import APIError, RateLimitError, build_message, number_of

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    seconds = number_of(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_hint(
    headers: Mapping[str, str], body_hint: float | None = None, status: int = 429
) -> float | None:
    """The wait a response asks for: ``Retry-After``, then the body, then (on a 429 only, since
    Hotmart sends it on every response) ``RateLimit-Reset``."""
    hint = parse_retry_after(headers.get("Retry-After"))
    if hint is not None:
        return hint
    if body_hint is not None:
        return body_hint
    if status != 429:
        return None
    reset = number_of(headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset"))
    if reset is not None and reset > 1_000_000_000:  # an epoch timestamp, not a delta
        reset = max(0.0, reset - time.time())
    return reset


def retry_wait(
    error: APIError,
    attempt: int,
    allowed: int,
    *,
    retry_delay: float,
    max_retry_delay: float,
    max_retry_after: float,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` of ``allowed``, or None to give up.

    A server-demanded wait over ``max_retry_after`` is not slept: the error says how long the
    platform asked for, so the caller can reschedule."""
    if not error.retryable:
        return None
    hint = error.retry_after
    if hint is not None and hint > max_retry_after:
        error.message = build_message(
            f"{error.default_message}; a plataforma pediu para aguardar {hint:.0f} s",
            error.api,
            error.status,
            error.detail,
        )
        error.args = (error.message,)
        return None
    if attempt >= allowed:
        return None
    if hint is not None and hint > 0:
        return hint
    ceiling = min(max_retry_delay, retry_delay * 2 ** (attempt - 1))
    if isinstance(error, RateLimitError):
        # no hint from the server: never hammer it, wait at least the full backoff
        return ceiling + rng.uniform(0, retry_delay)
    return rng.uniform(0, ceiling)  # full jitter


__all__ = ["RETRYABLE_STATUSES", "parse_retry_after", "retry_hint", "retry_wait"]
