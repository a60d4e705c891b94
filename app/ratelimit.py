"""Rate limiting shared by every worker, and a loud warning when it would not be.

Flask-Limiter counts in the storage named by ``RATELIMIT_STORAGE_URI``. With the default
``memory://`` each process counts on its own, so N gunicorn workers accept N times every limit
(login, resend, webhooks). With ``redis://…`` all workers and hosts share one count.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import shlex
import threading
import time
from collections.abc import Mapping

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter

log = logging.getLogger(__name__)

_STATE_KEY = "vendas_limiter_state"
# The attributes Flask-Limiter binds in init_app that make up one app's counting machinery.
_PER_APP = (
    "_storage",
    "_limiter",
    "_storage_options",
    "_storage_dead",
    "_fallback_storage",
    "_fallback_limiter",
)


class _PerAppAttribute:
    """Reads and writes an attribute of the Limiter in the current app's own state."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return _state(obj).get(self.name)

    def __set__(self, obj, value):
        _state(obj)[self.name] = value


def _state(limiter: Limiter) -> dict:
    if has_app_context():
        state = current_app.extensions.get(_STATE_KEY)
        if state is not None:
            return state
    return limiter.__dict__.setdefault("_vendas_default_state", {})


class AppLimiter(Limiter):
    """A Limiter whose storage belongs to each app, not to the shared extension object.

    Upstream keeps one storage per Limiter instance, so the last ``create_app()`` in a process
    silently takes over the counters of every other app. Here each app keeps its own (and two
    apps share counts only when their storage really is shared, e.g. the same Redis), which is
    what several gunicorn workers see. Outside an app context the last app's state is used,
    like upstream.
    """

    _storage = _PerAppAttribute()
    _limiter = _PerAppAttribute()
    _storage_options = _PerAppAttribute()
    _storage_dead = _PerAppAttribute()
    _fallback_storage = _PerAppAttribute()
    _fallback_limiter = _PerAppAttribute()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._vendas_initial = copy.deepcopy(self.__dict__["_vendas_default_state"])

    def init_app(self, app: Flask) -> None:
        state = copy.deepcopy(self._vendas_initial)
        app.extensions[_STATE_KEY] = state
        with app.app_context():
            super().init_app(app)
        self.__dict__["_vendas_default_state"] = state

    def reset(self) -> None:
        """Clear the counters; an unreachable storage is logged, not raised (maintenance op)."""
        try:
            super().reset()
        except Exception as exc:  # noqa: BLE001
            log.warning("rate limit storage could not be reset: %s", exc)
        if has_app_context():
            reset_webhook_counts(current_app)


def configured_workers(environ: Mapping[str, str] | None = None) -> int:
    """How many server processes will run this app, as far as the environment tells.

    ``VENDAS_WORKERS`` is set by our gunicorn.conf.py from gunicorn's final settings; otherwise
    gunicorn's own sources: ``--workers`` in ``GUNICORN_CMD_ARGS`` and ``WEB_CONCURRENCY``.
    """
    env = os.environ if environ is None else environ
    for name in ("VENDAS_WORKERS",):
        if (env.get(name) or "").strip().isdecimal():
            return int(env[name])
    try:
        args = shlex.split(env.get("GUNICORN_CMD_ARGS") or "")
    except ValueError:
        args = []
    for i, arg in enumerate(args):
        if arg in ("-w", "--workers") and i + 1 < len(args) and args[i + 1].isdecimal():
            return int(args[i + 1])
        if arg.startswith("--workers=") and arg.split("=", 1)[1].isdecimal():
            return int(arg.split("=", 1)[1])
        if arg.startswith("-w") and arg[2:].isdecimal():
            return int(arg[2:])
    if (env.get("WEB_CONCURRENCY") or "").strip().isdecimal():
        return int(env["WEB_CONCURRENCY"])
    return 1


def is_process_local(storage_uri: str | None) -> bool:
    return (storage_uri or "memory://").strip().lower().startswith("memory://")


def multiplied_limits_warning(storage_uri: str | None, workers: int) -> str | None:
    """The start-up warning text when this configuration multiplies every limit, else None."""
    if workers <= 1 or not is_process_local(storage_uri):
        return None
    return (
        f"RATE LIMITS ARE MULTIPLIED BY {workers}: RATELIMIT_STORAGE_URI is memory:// and "
        f"{workers} workers will run, each counting on its own (login, activation resend and "
        f"webhook limits accept {workers}x their value). Set RATELIMIT_STORAGE_URI="
        "redis://127.0.0.1:6379/0 (see docs/deploy.md)."
    )


def warn_if_multiplied(app: Flask, environ: Mapping[str, str] | None = None) -> str | None:
    message = multiplied_limits_warning(
        app.config.get("RATELIMIT_STORAGE_URI"), configured_workers(environ)
    )
    if message:
        log.warning(message)
    return message


# ---------------------------------------------------------------------------------------------
# Webhook deliveries: a cheaper count than Flask-Limiter's per-request machinery
#
# A webhook is the hottest path of the app (bursts of hundreds a second). Flask-Limiter's
# ``memory://`` moving window keeps one entry per hit in a list it shifts on every hit and
# starts a ``threading.Timer`` to expire them; with a shared storage (Redis) the count has to
# be shared, so it goes to that storage through the limiter's own strategy.


class _LocalWindows:
    """Sliding-window counters per key in this process (the previous fixed window weighted by
    how much of it still overlaps the sliding one): O(1) per hit, no thread, bounded memory."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], tuple[int, int, int]] = {}
        self._pruned = -1

    def hit(self, key: str, amount: int, seconds: int, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        window = int(now // seconds)
        slot = (key, seconds)
        with self._lock:
            start, previous, current = self._counts.get(slot, (window, 0, 0))
            if window != start:
                previous = current if window == start + 1 else 0
                current, start = 0, window
            overlap = 1.0 - (now - window * seconds) / seconds
            if previous * overlap + current + 1 > amount:
                self._counts[slot] = (start, previous, current)
                return False
            self._counts[slot] = (start, previous, current + 1)
            if len(self._counts) > 50_000 and self._pruned != window:
                # Many addresses: drop the windows that are over, once per window (a scan per
                # hit would stall every delivery behind the lock); past twice the cap the
                # counts start again rather than grow without bound.
                self._pruned = window
                for stale in [k for k, v in self._counts.items() if v[0] < window - 1]:
                    del self._counts[stale]
                if len(self._counts) > 100_000:
                    self._counts.clear()
            return True

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


_WEBHOOK_WINDOWS_KEY = "vendas_webhook_windows"


@functools.lru_cache(maxsize=32)
def _parsed(limit_string: str) -> tuple:
    from limits import parse_many

    return tuple(parse_many(limit_string))


def webhook_allowed(app: Flask, limiter: Limiter, key: str, limit_string: str) -> bool:
    """Count one delivery under ``key``; False when ``limit_string`` is exceeded.

    ``memory://`` (each process counts on its own anyway): in-process sliding windows.
    A shared storage: the limiter's strategy on it, so every worker and host shares the count;
    an unreachable storage falls back to this process's count (never a 500).
    """
    items = _parsed(limit_string)
    if not is_process_local(app.config.get("RATELIMIT_STORAGE_URI")):
        try:
            strategy = limiter.limiter
            return all(strategy.hit(item, "webhook", key) for item in items)
        except Exception as exc:  # noqa: BLE001 - storage down: count here instead
            log.warning("rate limit storage unreachable for webhooks: %s", exc)
    windows = app.extensions.get(_WEBHOOK_WINDOWS_KEY)
    if windows is None:
        windows = app.extensions.setdefault(_WEBHOOK_WINDOWS_KEY, _LocalWindows())
    return all(windows.hit(key, item.amount, item.get_expiry()) for item in items)


def reset_webhook_counts(app: Flask) -> None:
    windows = app.extensions.get(_WEBHOOK_WINDOWS_KEY)
    if windows is not None:
        windows.clear()


# ---------------------------------------------------------------------------------------------
# The per-account login limit (app/auth/routes.py ``login``) and its reset


LOGIN_ENDPOINT = "auth.login"


def login_account_key(email: str) -> str:
    """The key the per-account login limit counts under (one per e-mail address)."""
    return "login:" + (email or "").strip().lower()[:254]


def clear_login_limit(email: str) -> None:
    """Forget the failed-login count of one account (after a password reset by e-mail): a
    stranger hammering the address cannot keep its owner out. Storage down: logged only."""
    from app.extensions import limiter

    items = _parsed(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    # The arguments Flask-Limiter counts a decorated limit under: [prefix,] key, scope (the
    # endpoint, as the limit is neither shared nor per method).
    args = [login_account_key(email), LOGIN_ENDPOINT]
    if limiter._key_prefix:
        args.insert(0, limiter._key_prefix)
    try:
        for item in items:
            limiter.limiter.clear(item, *args)
    except Exception as exc:  # noqa: BLE001 - the reset itself already succeeded
        log.warning("login limit of an account could not be cleared: %s", exc)
