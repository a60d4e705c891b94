"""``SyncContext``: what a running syncer reports through (totals, counts, heartbeat, cancel)."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models.sync import TRIGGER_MANUAL, SyncRun
from app.models.types import utcnow
from app.services.sync.registry import Canceled

log = logging.getLogger(__name__)

COUNT_KINDS = ("created", "updated", "unchanged", "failed")
DEFAULT_PROGRESS_INTERVAL = 0.5  # seconds between progress/heartbeat writes
FAILURES_KEPT = 1000  # failed records listed per run (the run's failed_count has them all)


class SyncContext:
    """Handed to a syncer: report totals, progress and counts; check for cancellation."""

    def __init__(
        self,
        run_id: int,
        *,
        full: bool = False,
        trigger: str = TRIGGER_MANUAL,
        last_success_at: datetime | None = None,
        progress_interval: float = DEFAULT_PROGRESS_INTERVAL,
    ):
        self.run_id = run_id
        self.full = full
        self.trigger = trigger
        # the incremental cursor: start of the last successful run without failed records
        # (None on a full or first run); see ``incremental_cursor``
        self.last_success_at = last_success_at
        self.total: int | None = None
        self.done = 0
        self.counts = dict.fromkeys(COUNT_KINDS, 0)
        self.cancel_requested = False
        # the failed records to list on the run's page: remote id -> pt-BR error (first wins;
        # a page written again after a lock reports the same record once)
        self.failures: dict[str | None, str] = {}
        self._anonymous_failures: list[str] = []
        self._interval = progress_interval
        self._last_flush = float("-inf")

    def set_total(self, total: int | None) -> None:
        self.total = None if total is None else max(int(total), 0)
        self.flush(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.flush()

    def count(self, kind: str, n: int = 1) -> None:
        if kind not in self.counts:
            raise ValueError(f"unknown count {kind!r}; use one of {', '.join(COUNT_KINDS)}")
        self.counts[kind] += n
        self.flush()

    def item(self, outcome: str) -> None:
        """One item handled: count it under ``outcome`` and advance the progress by one."""
        if outcome not in self.counts:
            raise ValueError(f"unknown count {outcome!r}; use one of {', '.join(COUNT_KINDS)}")
        self.counts[outcome] += 1
        self.done += 1
        self.flush()

    def tally(self, counts: dict[str, int]) -> None:
        """Several items handled at once (a page): add ``counts`` and advance by their sum."""
        for kind, n in counts.items():
            if kind not in self.counts:
                raise ValueError(f"unknown count {kind!r}; use one of {', '.join(COUNT_KINDS)}")
            self.counts[kind] += n
            self.done += n
        self.flush()

    def fail(self, remote_id, error: str) -> None:
        """Note why record ``remote_id`` (``None``: it came without one) was not saved.

        Only lists it for the run's page; count it with ``item``/``tally`` as usual."""
        if len(self.failures) + len(self._anonymous_failures) >= FAILURES_KEPT:
            return
        if remote_id is None or str(remote_id).strip() == "":
            self._anonymous_failures.append(error)
        else:
            self.failures.setdefault(str(remote_id)[:128], error)

    def failure_rows(self) -> list[tuple[str | None, str]]:
        """``(remote_id, error)`` of the noted failures, in the order they happened."""
        return [*self.failures.items(), *((None, e) for e in self._anonymous_failures)]

    def check_cancel(self) -> None:
        """Raise ``Canceled`` if the operator asked to stop (the flag is re-read when due)."""
        self.flush()
        if self.cancel_requested:
            raise Canceled()

    def flush(self, force: bool = False) -> None:
        """Write progress, counts and heartbeat (throttled); read the cancel flag back."""
        now = time.monotonic()
        if not force and now - self._last_flush < self._interval:
            return
        self._last_flush = now
        values = self.values()
        values["heartbeat_at"] = utcnow()
        try:
            with db.engine.connect() as conn:
                previous = _short_sqlite_wait(conn)
                try:
                    with conn.begin():
                        conn.execute(
                            update(SyncRun).where(SyncRun.id == self.run_id).values(**values)
                        )
                        flag = conn.execute(
                            select(SyncRun.cancel_requested).where(SyncRun.id == self.run_id)
                        ).scalar()
                finally:
                    if previous is not None:
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={int(previous)}")
                        conn.commit()
        except OperationalError as exc:
            # SQLite: the syncer's own session holds the write lock (uncommitted work); the
            # progress is written at the next chance or when the run ends.
            log.debug("progress of sync run %s not written now: %s", self.run_id, exc)
            return
        self.cancel_requested = bool(flag)

    def values(self) -> dict:
        return {
            "progress_done": self.done,
            "progress_total": self.total,
            "created_count": self.counts["created"],
            "updated_count": self.counts["updated"],
            "unchanged_count": self.counts["unchanged"],
            "failed_count": self.counts["failed"],
        }


def _short_sqlite_wait(conn) -> int | None:
    """On SQLite wait briefly for the lock (the holder may be this very thread)."""
    if conn.dialect.name != "sqlite":
        return None
    previous = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    conn.exec_driver_sql("PRAGMA busy_timeout=50")
    conn.commit()  # ends SQLAlchemy's autobegun transaction; nothing was written
    return previous
