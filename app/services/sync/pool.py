"""The background pool: queued runs execute on a few threads of this process."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from flask import Flask

from app.extensions import db

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_futures: dict[int, Future] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync")
        return _executor


def submit(app: Flask, run_id: int) -> None:
    workers = int(app.config.get("SYNC_WORKERS", DEFAULT_WORKERS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        workers = 1  # SQLite has one writer: parallel runs would only queue on its lock
    pool = _pool(workers)
    future = pool.submit(_run_in_app, app, run_id)
    _futures[run_id] = future
    future.add_done_callback(lambda _f: _futures.pop(run_id, None))


def _run_in_app(app: Flask, run_id: int) -> None:
    from app.services.sync.runner import _execute

    with app.app_context():
        try:
            _execute(run_id)
        except Exception:
            log.exception("sync run %s: unexpected failure in the worker", run_id)
        finally:
            db.session.remove()


def wait_idle(timeout: float | None = None) -> bool:
    """Wait for the background runs of this process to end (tests, shutdown)."""
    pending = list(_futures.values())
    if not pending:
        return True
    _done, not_done = wait_futures(pending, timeout=timeout)
    return not not_done
