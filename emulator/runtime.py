"""Mutable per-run state: issued tokens, rate-limit windows, fault rules, request stats."""

from __future__ import annotations

import itertools
import random
import threading
import time
from array import array
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig

APIS = ("hotmart", "kommo", "gestaoclick")


class FixedWindow:
    """A fixed-window request counter: ``limit`` hits per ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.start = 0.0
        self.count = 0
        self.lock = threading.Lock()

    def hit(self) -> tuple[bool, int, float]:
        """Count one request → (allowed, remaining, seconds until the window resets)."""
        with self.lock:
            now = self.clock()
            if now - self.start >= self.window:
                self.start = now
                self.count = 0
            self.count += 1
            reset = max(0.0, self.start + self.window - now)
            remaining = max(0, self.limit - self.count)
            return self.count <= self.limit, remaining, reset

    def reset(self) -> None:
        with self.lock:
            self.start = 0.0
            self.count = 0


class RateRecorder:
    """Arrival times of every request per (API, account), and the most seen in any window.

    ``max_in_window`` is the largest number of requests that arrived within any sliding
    ``window`` seconds (half-open: a request and those less than ``window`` before it). Real
    arrival time (``time.monotonic``), whatever clock the emulator's data runs on: this is what
    the platform's rate limiter would have counted.
    """

    def __init__(self, window: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.clock = clock
        self.lock = threading.Lock()
        self._recent: dict[tuple[str, str], deque] = {}
        self._max: Counter = Counter()
        self._total: Counter = Counter()

    def record(self, api: str, account: str) -> int:
        """Note one arrival → how many arrived in the window ending now (this one included)."""
        key = (api, account)
        with self.lock:
            now = self.clock()
            recent = self._recent.setdefault(key, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.window:
                recent.popleft()
            self._total[key] += 1
            self._max[key] = max(self._max[key], len(recent))
            return len(recent)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            apis: dict[str, Any] = {}
            for (api, account), total in sorted(self._total.items()):
                apis.setdefault(api, {})[account] = {
                    "requests": total,
                    "max_in_window": self._max[(api, account)],
                }
            return {"window_seconds": self.window, "apis": apis}

    def reset(self) -> None:
        with self.lock:
            self._recent.clear()
            self._max.clear()
            self._total.clear()


@dataclass
class FaultRule:
    id: int
    api: str = "*"
    path: str | None = None
    latency_ms: int = 0
    error_rate: float | None = None
    status: int | None = None
    timeout: bool = False
    unauthorized: bool = False
    blocked: bool = False
    count: int | None = None
    remaining: int | None = None
    method: str | None = None  # only requests of this HTTP method (e.g. POST: a write)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "api": self.api,
            "path": self.path,
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "status": self.status,
            "timeout": self.timeout,
            "unauthorized": self.unauthorized,
            "blocked": self.blocked,
            "count": self.count,
            "remaining": self.remaining,
            "method": self.method,
        }


FAULT_KEYS = {
    "api",
    "path",
    "latency_ms",
    "error_rate",
    "status",
    "timeout",
    "unauthorized",
    "blocked",
    "count",
    "method",
}


def parse_fault(data: Any, rule_id: int) -> FaultRule:
    """Validate a fault request body; raises ValueError with a readable message."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    unknown = set(data) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown keys: {sorted(unknown)}")
    api = data.get("api", "*")
    if api not in (*APIS, "*"):
        raise ValueError("api must be one of hotmart, kommo, gestaoclick, *")
    rule = FaultRule(id=rule_id, api=api)
    path = data.get("path")
    if path is not None and not isinstance(path, str):
        raise ValueError("path must be a string")
    rule.path = path
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise ValueError("method must be an HTTP method such as POST")
    rule.method = method.upper() if method else None
    latency = data.get("latency_ms", 0)
    if not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0:
        raise ValueError("latency_ms must be a number >= 0")
    rule.latency_ms = int(latency)
    rate = data.get("error_rate")
    if rate is not None:
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError("error_rate must be between 0 and 1")
        rule.error_rate = float(rate)
    status = data.get("status")
    if status is not None:
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        rule.status = status
    for flag in ("timeout", "unauthorized", "blocked"):
        value = data.get(flag, False)
        if not isinstance(value, bool):
            raise ValueError(f"{flag} must be true or false")
        setattr(rule, flag, value)
    count = data.get("count")
    if count is not None:
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        rule.count = rule.remaining = count
    if not (
        rule.latency_ms
        or rule.error_rate
        or rule.status
        or rule.timeout
        or rule.unauthorized
        or rule.blocked
    ):
        raise ValueError(
            "a fault needs latency_ms, error_rate, status, timeout, unauthorized or blocked"
        )
    return rule


def _request_method() -> str | None:
    """The HTTP method of the request being decided (faults may target writes only)."""
    from flask import has_request_context, request

    return request.method if has_request_context() else None


@dataclass
class FaultDecision:
    latency_ms: int = 0
    kind: str | None = None  # "status" | "timeout" | "unauthorized" | "blocked"
    status: int = 500


@dataclass
class Runtime:
    config: EmulatorConfig
    lock: threading.Lock = field(default_factory=threading.Lock)
    hotmart_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[FaultRule] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    kommo_429s: deque = field(default_factory=deque)
    kommo_blocked_until: float = 0.0
    gc_day: str = ""
    gc_day_count: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _cache: OrderedDict = field(default_factory=OrderedDict)
    rates: RateRecorder = field(default_factory=RateRecorder)

    def __post_init__(self) -> None:
        cfg = self.config
        self.fault_rng = random.Random(f"{cfg.seed}:faults")
        self.hotmart_window = FixedWindow(
            cfg.hotmart_rate_limit, cfg.hotmart_rate_window, cfg.clock
        )
        self.kommo_window = FixedWindow(cfg.kommo_rate_limit, cfg.kommo_rate_window, cfg.clock)
        self.gc_window = FixedWindow(cfg.gc_rate_limit, cfg.gc_rate_window, cfg.clock)
        for spec in cfg.faults:
            self.add_fault(spec)

    # ------------------------------------------------------------------ faults

    def add_fault(self, data: Any) -> FaultRule:
        with self.lock:
            rule = parse_fault(data, next(self._ids))
            self.faults.append(rule)
            return rule

    def clear_faults(self, api: str | None = None, rule_id: int | None = None) -> int:
        with self.lock:
            before = len(self.faults)
            self.faults = [
                r
                for r in self.faults
                if not ((api is None or r.api == api) and (rule_id is None or r.id == rule_id))
            ]
            return before - len(self.faults)

    def list_faults(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.as_dict() for r in self.faults]

    def decide_fault(self, api: str, path: str) -> FaultDecision:
        """Consume matching rules for one request and say what should happen to it."""
        decision = FaultDecision()
        method = _request_method()
        with self.lock:
            for rule in list(self.faults):
                if rule.api not in ("*", api) or (rule.path and rule.path not in path):
                    continue
                if rule.method and method and rule.method != method:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.faults.remove(rule)
                decision.latency_ms += rule.latency_ms
                if decision.kind:
                    continue
                if rule.timeout:
                    decision.kind = "timeout"
                elif rule.unauthorized:
                    decision.kind = "unauthorized"
                elif rule.blocked:
                    decision.kind = "blocked"
                elif rule.error_rate is not None or rule.status is not None:
                    rate = 1.0 if rule.error_rate is None else rule.error_rate
                    if rate >= 1.0 or self.fault_rng.random() < rate:
                        decision.kind = "status"
                        decision.status = rule.status or 500
        return decision

    # ------------------------------------------------------------------ stats

    def count_request(self, api: str, endpoint: str) -> None:
        with self.lock:
            self.stats[("total",)] += 1
            self.stats[("api", api)] += 1
            self.stats[("endpoint", api, endpoint)] += 1

    def count_status(self, api: str, status: int) -> None:
        with self.lock:
            self.stats[("status", api, str(status))] += 1

    def stats_dict(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {"total": self.stats[("total",)], "apis": {}, "endpoints": {}}
            for key, n in self.stats.items():
                if key[0] == "api":
                    out["apis"].setdefault(key[1], {"total": 0, "endpoints": {}, "statuses": {}})
                    out["apis"][key[1]]["total"] = n
            for key, n in self.stats.items():
                if key[0] in ("endpoint", "status"):
                    api_stats = out["apis"].setdefault(
                        key[1], {"total": 0, "endpoints": {}, "statuses": {}}
                    )
                    bucket = "endpoints" if key[0] == "endpoint" else "statuses"
                    api_stats[bucket][key[2]] = n
                    if key[0] == "endpoint":
                        out["endpoints"][key[2]] = n
            return out

    def reset_stats(self) -> None:
        with self.lock:
            self.stats.clear()

    # ------------------------------------------------------------------ limits

    def reset_limits(self) -> None:
        self.hotmart_window.reset()
        self.kommo_window.reset()
        self.gc_window.reset()
        with self.lock:
            self.kommo_429s.clear()
            self.kommo_blocked_until = 0.0
            self.gc_day = ""
            self.gc_day_count = 0

    def kommo_note_429(self) -> None:
        cfg = self.config
        now = cfg.clock()
        with self.lock:
            self.kommo_429s.append(now)
            while self.kommo_429s and now - self.kommo_429s[0] > cfg.kommo_block_window:
                self.kommo_429s.popleft()
            if cfg.kommo_block_after and len(self.kommo_429s) > cfg.kommo_block_after:
                self.kommo_blocked_until = now + cfg.kommo_block_seconds
                self.kommo_429s.clear()

    def kommo_blocked(self) -> bool:
        with self.lock:
            return self.config.clock() < self.kommo_blocked_until

    def gc_daily_hit(self, day: str) -> bool:
        """Count one request against the daily budget → False once it is exhausted."""
        limit = self.config.gc_daily_limit
        with self.lock:
            if self.gc_day != day:
                self.gc_day, self.gc_day_count = day, 0
            self.gc_day_count += 1
            return not limit or self.gc_day_count <= limit

    # ------------------------------------------------------------------ query cache

    def cached_indices(
        self, key: Any, build: Callable[[], Sequence[int]], size: int = 32
    ) -> Sequence[int]:
        """Matching record indices of a filtered query, kept in a small LRU."""
        with self.lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = array("q", build())
        with self.lock:
            self._cache[key] = result
            while len(self._cache) > size:
                self._cache.popitem(last=False)
        return result
