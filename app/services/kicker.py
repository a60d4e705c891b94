"""The kick after a commit, shared by the e-mail outbox and the automation sender.

``app.events`` calls a queue's kick when a transaction that queued rows commits. The kick runs
the queue's delivery on a small thread pool of its own — or right now, on a session of its own,
when the app's background setting is off (the tests) — and queues at most one run per app: a
run queued and not started yet sees every row committed before the kick, so a burst of commits
costs one run, and a worker stopping after a burst finishes it instead of being killed mid-send.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from app.extensions import db

log = logging.getLogger(__name__)


class Kicker:
    """``kicker()`` delivers what is due for one queue (``deliver``: no arguments)."""

    def __init__(
        self,
        name: str,
        deliver: Callable[[], object],
        *,
        background_setting: str,
        workers: Callable[[Flask], int] = lambda app: 1,
    ) -> None:
        self.name = name  # the threads' name prefix and the log's word for the queue
        self._deliver = deliver
        self._background_setting = background_setting
        self._workers = workers
        self._lock = threading.Lock()
        self.executor: ThreadPoolExecutor | None = None
        self.queued_runs: set[int] = set()  # apps (by id) with a run queued, not started

    def __call__(self) -> None:
        app = current_app._get_current_object()
        if not app.config.get(self._background_setting, True):
            # Right now, on a session of its own: the caller's has just committed and cannot
            # run SQL inside its after_commit hook.
            with app.app_context():
                try:
                    self._deliver()
                finally:
                    db.session.remove()
            return
        key = id(app)
        with self._lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(
                    max_workers=max(int(self._workers(app)), 1), thread_name_prefix=self.name
                )
            if key in self.queued_runs:
                return  # a run queued and not started yet will see these rows
            self.queued_runs.add(key)

        def run() -> None:
            with self._lock:
                self.queued_runs.discard(key)  # from here on a new row needs a new run
            with app.app_context():
                try:
                    self._deliver()
                except Exception:  # the scheduled job retries; never crash the pool's thread
                    log.exception("background %s delivery failed", self.name)
                finally:
                    db.session.remove()

        try:
            self.executor.submit(run)
        except RuntimeError:  # interpreter shutting down: the scheduled job delivers it later
            with self._lock:
                self.queued_runs.discard(key)
