"""The background pool: queued runs execute on a few threads of this process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_futures: dict[object, Future] = {}  # sync run id (or another task's key) → its future


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync")
        return _executor


def submit(app: Flask, run_id: int) -> None:
    from app.services.sync.runner import _execute

    submit_task(app, run_id, _execute, f"sync run {run_id}")


def submit_task(app: Flask, key: object, func: Callable[[object], None], what: str) -> None:
    """Run ``func(key)`` on the pool, in an app context of its own (a sync run, or another
    long task started from a page: the automations' backfill). ``wait_idle`` waits for it."""
    workers = int(app.config.get("SYNC_WORKERS", DEFAULT_WORKERS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        workers = 1  # SQLite has one writer: parallel runs would only queue on its lock
    pool = _pool(workers)
    future = pool.submit(_run_in_app, app, key, func, what)
    _futures[key] = future
    future.add_done_callback(lambda _f: _futures.pop(key, None))


def _run_in_app(app: Flask, key: object, func: Callable[[object], None], what: str) -> None:
    with app.app_context():
        try:
            func(key)
        except Exception:
            log.exception("%s: unexpected failure in the worker", what)
        finally:
            db.session.remove()


def wait_idle(timeout: float | None = None) -> bool:
    """Wait for the background runs of this process to end (tests, shutdown)."""
    pending = list(_futures.values())
    if not pending:
        return True
    _done, not_done = wait_futures(pending, timeout=timeout)
    return not not_done
