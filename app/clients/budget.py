"""One rate budget per remote account, shared by every thread, worker, host and CLI process.

A ``RateBudget`` is the gateway's throttle (``app.clients.throttle.ThrottleHook``) for one
platform account. It asks a ``BudgetStore`` for a slot before every request:

- ``MemoryBudgetStore``: one process (unit tests, clients built outside the app);
- ``RedisBudgetStore``: the same slots in Redis (``RATELIMIT_STORAGE_URI=redis://…``, connected
  through the ``limits`` library like Flask-Limiter), claimed by one Lua script;
- the database store (``app.services.rate_budget.DatabaseBudgetStore``): one row per key holding
  the next free slot, claimed with one atomic UPDATE (SQLite and PostgreSQL).

A 429 pauses the budget in the store, so every process waits, not just the thread that got it.
Keys name the platform and the account, never a secret: the Kommo subdomain, a hash of the
Gestão Click access token, a hash of the Hotmart client id. Times are Unix seconds
(``time.time``): hosts sharing a budget need synchronised clocks (NTP).

Budgets (PLATFORMS.md), declared in ``app.registry`` (``RateBudget``, ``RATE_BUDGETS``): Kommo
7 requests/s per account (§6.6, spent at 5/s by default); Gestão Click 3/s per company token
(§7.6, spent at 2/s); Hotmart 500/min per account (§3.5, spent at 8/s = 480/min); Telegram ~30/s
per bot (spent at 20/s). A configured pace above the ceiling is lowered to it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .throttle import BudgetPaused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """A platform's documented ceiling and the pace we spend it at (requests per second)."""

    ceiling: float
    pace: float

    def clamp(self, per_second: float | None) -> float:
        """The pace to use: ``per_second`` (default ``pace``), never above the ceiling."""
        rate = self.pace if per_second is None else float(per_second)
        return min(rate, self.ceiling)


def _declared() -> dict[str, Budget]:
    # The registry declares each platform's limit and pace (``app.registry.RATE_BUDGETS``);
    # it is pure data (no Flask, no database), so clients may read it.
    from app.registry import RATE_BUDGETS

    return {name: Budget(b.ceiling, b.per_second) for name, b in RATE_BUDGETS.items()}


BUDGETS: dict[str, Budget] = _declared()


def hashed(value: str | None) -> str:
    """A short, stable, non-secret stand-in for a credential in a budget key."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def budget_key(platform: str, account: str) -> str:
    return f"{platform}:{account}"


class BudgetStore(Protocol):
    """Where slots and pauses of every budget live."""

    def reserve(
        self, key: str, interval: float, now: float, max_wait: float | None
    ) -> tuple[bool, float]:
        """Claim a slot → ``(booked, wait)``: booked slots start after ``wait`` seconds; when
        not booked, try again after ``wait``. Raises ``BudgetPaused`` when a pause outlasts
        ``max_wait``."""
        ...

    def pause(self, key: str, until: float) -> None:
        """No slot of ``key`` starts before ``until`` (Unix seconds)."""
        ...


class MemoryBudgetStore:
    """Slots in a dict: shared by the threads of one process only."""

    def __init__(self) -> None:
        self._slots: dict[str, list[float]] = {}  # key → [next free slot, paused until]
        self._lock = threading.Lock()

    def reserve(
        self, key: str, interval: float, now: float, max_wait: float | None
    ) -> tuple[bool, float]:
        with self._lock:
            slot = self._slots.setdefault(key, [0.0, 0.0])
            if max_wait is not None and slot[1] - now > max_wait:
                raise BudgetPaused(slot[1] - now)
            start = max(now, slot[0], slot[1])
            slot[0] = start + interval
            return True, start - now

    def pause(self, key: str, until: float) -> None:
        with self._lock:
            slot = self._slots.setdefault(key, [0.0, 0.0])
            slot[1] = max(slot[1], until)

    def reset(self) -> None:
        with self._lock:
            self._slots.clear()


_RESERVE_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local slot = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
if max_wait >= 0 and paused - now > max_wait then
    return {0, string.format('%.6f', paused - now)}
end
local start = math.max(now, slot, paused)
redis.call('HSET', KEYS[1], 'next', string.format('%.6f', start + interval))
redis.call('PEXPIRE', KEYS[1], math.ceil((start + interval - now + 60) * 1000))
return {1, string.format('%.6f', start - now)}
"""

_PAUSE_SCRIPT = """
local now = tonumber(ARGV[1])
local untl = tonumber(ARGV[2])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
if untl > paused then
    redis.call('HSET', KEYS[1], 'paused', ARGV[2])
    local ttl = redis.call('PTTL', KEYS[1])
    local want = math.ceil((untl - now + 60) * 1000)
    if ttl < want then
        redis.call('PEXPIRE', KEYS[1], want)
    end
end
return 1
"""


class RedisBudgetStore:
    """Budgets in Redis (``RATELIMIT_STORAGE_URI``), the same slots as the database store.

    The connection comes from the ``limits`` library (``storage_from_string``: the URI schemes
    Flask-Limiter accepts, ``redis://``, ``rediss://``, sentinel, cluster). Each key is a hash
    ``{next, paused}`` claimed by one Lua script, so every process gets its own slot, spaced by
    ``interval``. (``limits``' own moving window would allow bursts of N at once, which reach the
    platform less than a second after the previous burst whenever one is delayed in transit.)
    """

    def __init__(self, uri: str, prefix: str = "vendas-hub:budget"):
        from limits.storage import storage_from_string

        self.uri = uri
        self.prefix = prefix
        self.storage = storage_from_string(uri)
        self._redis = self.storage.get_connection()
        self._reserve = self._redis.register_script(_RESERVE_SCRIPT)
        self._pause = self._redis.register_script(_PAUSE_SCRIPT)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def reserve(
        self, key: str, interval: float, now: float, max_wait: float | None
    ) -> tuple[bool, float]:
        limit = -1 if max_wait is None else max_wait
        booked, wait = self._reserve(keys=[self._key(key)], args=[repr(now), interval, limit])
        if not int(booked):
            raise BudgetPaused(float(wait))
        return True, max(0.0, float(wait))

    def pause(self, key: str, until: float) -> None:
        self._pause(keys=[self._key(key)], args=[repr(time.time()), repr(until)])

    def reset(self) -> None:
        for name in self._redis.scan_iter(f"{self.prefix}:*"):
            self._redis.delete(name)


class RateBudget:
    """The throttle of one account: ``per_second`` slots from ``store`` under ``key``.

    ``per_second=None`` (or 0) spaces nothing but still honours shared pauses. If the store
    fails (Redis down, database locked), the budget carries on in a process-local store and
    logs it once: a sync slows to one process' budget rather than failing.
    """

    def __init__(
        self,
        store: BudgetStore,
        key: str,
        per_second: float | None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store = store
        self.key = key
        self.per_second = per_second or None
        self.interval = 1.0 / per_second if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._warned = False

    def _fallback(self, exc: Exception) -> BudgetStore:
        if not self._warned:
            log.warning(
                "rate budget %s: shared store unavailable (%s); using this process' budget",
                self.key,
                type(exc).__name__,
            )
            self._warned = True
        return process_store

    def acquire(self, max_wait: float | None = None) -> float:
        waited = 0.0
        while True:
            try:
                booked, wait = self.store.reserve(self.key, self.interval, self._clock(), max_wait)
            except BudgetPaused:
                raise
            except Exception as exc:  # noqa: BLE001 - any store failure falls back
                booked, wait = self._fallback(exc).reserve(
                    self.key, self.interval, self._clock(), max_wait
                )
            if wait > 0:
                self._sleep(wait)
                waited += wait
            if booked:
                return waited

    def pause_for(self, seconds: float) -> None:
        until = self._clock() + max(0.0, seconds)
        try:
            self.store.pause(self.key, until)
        except Exception as exc:  # noqa: BLE001
            self._fallback(exc).pause(self.key, until)

    def __repr__(self) -> str:
        return f"RateBudget({self.key!r}, per_second={self.per_second!r})"


# The default store of clients built outside the app: every client of one account in this
# process shares it.
process_store = MemoryBudgetStore()


def budget_for(
    platform: str,
    account: str,
    per_second: float | None,
    store: BudgetStore | None = None,
) -> RateBudget:
    """The budget of ``account`` on ``platform`` at ``per_second`` (clamped to the ceiling)."""
    rate = BUDGETS[platform].clamp(per_second) if per_second else None
    return RateBudget(store or process_store, budget_key(platform, account), rate)


__all__ = [
    "BUDGETS",
    "Budget",
    "BudgetStore",
    "MemoryBudgetStore",
    "RateBudget",
    "RedisBudgetStore",
    "apply_budget",
    "budget_for",
    "budget_key",
    "hashed",
    "process_store",
]


def apply_budget(platform: str, account: str, gateway_options: dict) -> None:
    """Put the account's ``RateBudget`` in ``gateway_options["throttle"]`` (from its
    ``throttle_per_second`` and optional ``budget_store``).

    Left alone when the caller chose a ``throttle`` or injected a ``clock``/``sleep`` (unit
    tests): the gateway then builds a process-local ``Throttle`` on that clock."""
    store = gateway_options.pop("budget_store", None)
    if any(k in gateway_options for k in ("throttle", "clock", "sleep")):
        return
    per_second = gateway_options.pop("throttle_per_second", None)
    gateway_options["throttle"] = budget_for(platform, account, per_second, store)
