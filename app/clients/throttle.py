"""The gateway's one throttle hook, and its in-process implementation.

``HttpGateway`` calls ``throttle.acquire(max_wait)`` before every attempt and
``throttle.pause_for(seconds)`` when the server answers 429 with a wait. Anything with those two
methods will do: ``Throttle`` below (one process, injectable clock, for unit tests of the
gateway) or ``app.clients.budget.RateBudget`` (one budget per remote account, shared by every
process through Redis or the database).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol


class ThrottleHook(Protocol):
    """What the gateway needs from a throttle."""

    def acquire(self, max_wait: float | None = None) -> float:
        """Wait for the next slot and return the seconds waited.

        When the wait would exceed ``max_wait`` (a 429 pause longer than the caller accepts),
        raise ``BudgetPaused`` at once instead of sleeping."""
        ...

    def pause_for(self, seconds: float) -> None:
        """Hold every caller of this budget back for ``seconds`` (after a 429)."""
        ...


class BudgetPaused(Exception):
    """The budget is paused for longer than the caller is willing to wait."""

    def __init__(self, wait: float):
        super().__init__(f"rate budget paused for {wait:.1f} s")
        self.wait = wait


class Throttle:
    """Thread-safe request spacing: at most ``per_second`` on average, bursts of ``burst``.

    A GCRA-style reservation: each caller books the next slot under a lock and sleeps outside it,
    so concurrent threads queue up fairly. ``pause_until`` holds everyone back (after a 429).
    ``per_second=None`` disables spacing but keeps pauses. One process only.
    """

    def __init__(
        self,
        per_second: float | None = None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive (or None to disable)")
        self.interval = 1.0 / per_second if per_second else 0.0
        self.burst = max(1, int(burst))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat: float | None = None  # theoretical arrival time of the next request
        self._paused_until = -math.inf

    def reserve(self, max_wait: float | None = None) -> float:
        """Book a slot and return how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            if max_wait is not None and self._paused_until - now > max_wait:
                raise BudgetPaused(self._paused_until - now)
            start = max(now, self._paused_until)
            if self.interval:
                tat = start if self._tat is None else max(self._tat, start)
                self._tat = tat + self.interval
                allowed = max(start, self._tat - self.burst * self.interval)
            else:
                allowed = start
            return max(0.0, allowed - now)

    def acquire(self, max_wait: float | None = None) -> float:
        """Wait for the next slot; returns the seconds waited."""
        wait = self.reserve(max_wait)
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause_until(self, deadline: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, deadline)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + max(0.0, seconds))


__all__ = ["BudgetPaused", "Throttle", "ThrottleHook"]
