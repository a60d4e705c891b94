"""Gestão Click daily request count: 30,000 a day per company (PLATFORMS.md §7.6), counted
per São Paulo calendar day, in this process (every attempt, refused ones included)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .budget import hashed

DAILY_LIMIT = 30_000
TIMEZONE = ZoneInfo("America/Sao_Paulo")


class UsageCounter:
    """Requests sent per São Paulo day, per account (one process; thread-safe).

    The platform counts every request it receives against 30,000 a day, refused ones included;
    so does this counter (each attempt, retries included).
    """

    def __init__(self, clock=None) -> None:
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def today(self) -> str:
        now = datetime.fromtimestamp(self._clock(), TIMEZONE) if self._clock else None
        return (now or datetime.now(TIMEZONE)).date().isoformat()

    def add(self, account: str, n: int = 1) -> int:
        day = self.today()
        with self._lock:
            for key in [k for k in self._counts if k[0] != day]:  # keep only today
                del self._counts[key]
            value = self._counts.get((day, account), 0) + n
            self._counts[(day, account)] = value
            return value

    def get(self, account: str) -> int:
        with self._lock:
            return self._counts.get((self.today(), account), 0)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


usage_counter = UsageCounter()


def account_key(access_token: str | None) -> str:
    """A non-secret key for an account: a short hash of its access token."""
    return hashed(access_token)


def usage(access_token: str | None) -> dict[str, Any]:
    """Today's request count for the account of ``access_token`` (this process only)."""
    used = usage_counter.get(account_key(access_token))
    return {
        "date": usage_counter.today(),
        "used": used,
        "limit": DAILY_LIMIT,
        "percent": round(used * 100 / DAILY_LIMIT, 1),
    }


__all__ = ["DAILY_LIMIT", "TIMEZONE", "UsageCounter", "account_key", "usage", "usage_counter"]
