"""Sync engine: a registry of syncers, ``SyncRun`` bookkeeping, background runs and progress.

An integration plugs in with::

    from app.services import sync

    def sync_products(ctx: sync.SyncContext, full: bool) -> None:
        since = None if full else ctx.last_success_at   # incremental when possible
        ctx.set_total(total)                             # when the API says how many
        for item in items:
            ctx.check_cancel()                           # raises sync.Canceled when asked to stop
            ...upsert by remote id...
            db.session.commit()                          # commit your work in small batches
            ctx.item("created" | "updated" | "unchanged" | "failed")  # count + advance

    sync.register("hotmart", "products", sync_products, "Produtos",
                  interval=3600, enabled=lambda: hotmart_configured(),
                  source_label="Hotmart")

Progress, counts and the heartbeat are written on their own short transactions (not the
syncer's session), at most every ``SYNC_PROGRESS_INTERVAL`` seconds, so the polling UI sees them
while the syncer's own work stays in its hands. Raise ``SyncError`` with a pt-BR message for
failures the operator should read; any other exception is recorded as an unexpected error
(never with a stack trace, which goes to the log).

Every ``ctx`` call doubles as the heartbeat: call one at least every few minutes (page by page
is plenty), or the run is taken for dead after ``SYNC_STALE_MINUTES`` and marked failed.
Source names use underscores (``gestao_click``); the CLI also accepts ``gestao-click``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.database import retry_on_lock
from app.extensions import db
from app.models.sync import (
    ACTIVE_STATUSES,
    RUN_CANCELED,
    RUN_FAILED,
    RUN_QUEUED,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    TRIGGER_MANUAL,
    TRIGGERS,
    SyncRun,
)
from app.models.types import utcnow

log = logging.getLogger(__name__)

COUNT_KINDS = ("created", "updated", "unchanged", "failed")
DEFAULT_WORKERS = 2
DEFAULT_PROGRESS_INTERVAL = 0.5  # seconds between progress/heartbeat writes
DEFAULT_STALE_MINUTES = 10
STALE_ERROR = "Sincronização interrompida: processo encerrado sem concluir (sem sinal há {m} min)."
ERROR_MAX = 1000


class SyncError(Exception):
    """A failure with a message meant for the operator (pt-BR)."""


class SyncNotConfigured(SyncError):
    """The integration behind this syncer has no credentials yet."""


class UnknownSyncer(LookupError):
    pass


class Canceled(BaseException):
    """Raised by ``SyncContext.check_cancel``.

    A BaseException, like ``KeyboardInterrupt``: a per-item ``except Exception`` in a syncer must
    not swallow a cancellation.
    """


# ---------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class Syncer:
    source: str
    resource: str
    func: Callable[[SyncContext, bool], object]
    label: str
    interval: float | None = None  # default schedule (seconds); None: manual only
    enabled: Callable[[], bool] | None = None
    source_label: str | None = None

    @property
    def job_id(self) -> str:
        return f"sync:{self.source}:{self.resource}"

    @property
    def title(self) -> str:
        return f"{source_label(self.source)} · {self.label}"

    def is_enabled(self) -> bool:
        """False when the integration is not configured; errors count as not configured."""
        if self.enabled is None:
            return True
        try:
            return bool(self.enabled())
        except Exception:
            log.exception("enabled() of syncer %s/%s failed", self.source, self.resource)
            return False


_registry: dict[tuple[str, str], Syncer] = {}
_source_labels: dict[str, str] = {
    "hotmart": "Hotmart",
    "kommo": "Kommo",
    "gestao_click": "Gestão Click",
    "webhooks": "Webhooks",
}


def normalize_source(source: str) -> str:
    """``gestao-click`` (the CLI spelling) and ``gestao_click`` name the same source."""
    return source.strip().lower().replace("-", "_")


def register(
    source: str,
    resource: str,
    func: Callable[[SyncContext, bool], object],
    label: str,
    *,
    interval: float | None = None,
    enabled: Callable[[], bool] | None = None,
    source_label: str | None = None,
) -> Syncer:
    """Register (or replace) the syncer of ``source``/``resource``.

    ``interval``: default seconds between scheduled runs (editable in /configuracoes); ``None``
    leaves it manual only. ``enabled``: returns False while credentials are missing; the
    scheduler then skips it and the buttons answer 409.
    """
    source = normalize_source(source)
    syncer = Syncer(source, resource, func, label, interval, enabled, source_label)
    _registry[(source, resource)] = syncer
    if source_label:
        _source_labels[source] = source_label
    return syncer


def unregister(source: str, resource: str) -> None:
    _registry.pop((normalize_source(source), resource), None)


def get_syncer(source: str, resource: str) -> Syncer | None:
    return _registry.get((normalize_source(source), resource))


def syncers(source: str | None = None) -> list[Syncer]:
    items = sorted(_registry.values(), key=lambda s: (s.source, s.resource))
    if source is not None:
        source = normalize_source(source)
        items = [s for s in items if s.source == source]
    return items


def sources() -> list[str]:
    return sorted({s.source for s in _registry.values()})


def source_label(source: str) -> str:
    return _source_labels.get(source, source.replace("_", " ").title())


def resource_label(source: str, resource: str) -> str:
    syncer = get_syncer(source, resource)
    return syncer.label if syncer is not None else resource


# ---------------------------------------------------------------------------------------------
# Progress reporting


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


# ---------------------------------------------------------------------------------------------
# Starting and running


def _require(source: str, resource: str) -> Syncer:
    syncer = get_syncer(source, resource)
    if syncer is None:
        raise UnknownSyncer(f"{source}/{resource}")
    if not syncer.is_enabled():
        raise SyncNotConfigured(
            f"{source_label(syncer.source)}: credenciais não configuradas. "
            "Informe-as em Configurações."
        )
    return syncer


def active_run(source: str, resource: str) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun)
        .where(
            SyncRun.source == normalize_source(source),
            SyncRun.resource == resource,
            SyncRun.status.in_(ACTIVE_STATUSES),
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    )


def last_success(source: str, resource: str) -> SyncRun | None:
    return db.session.scalar(
        select(SyncRun)
        .where(
            SyncRun.source == normalize_source(source),
            SyncRun.resource == resource,
            SyncRun.status == RUN_SUCCEEDED,
        )
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
    )


def incremental_cursor(source: str, resource: str) -> datetime | None:
    """Where the next incremental run reads from (``None``: everything / the lookback).

    The start of the last successful run — unless that run had failed records: then the cursor
    it read from itself, so the next run fetches the failed records again. A failed or
    canceled run never moves the cursor.
    """
    previous = last_success(source, resource)
    if previous is None:
        return None
    if not previous.failed_count:
        return previous.started_at
    return None if previous.full else previous.cursor_at


def _create_run(
    syncer: Syncer,
    trigger: str,
    full: bool,
    requested_by: str | None,
    retry_of: SyncRun | None = None,
) -> tuple[SyncRun, bool]:
    """Insert a queued run, or return the one already queued/running (commits).

    The partial unique index on (source, resource) for active runs makes two racing callers end
    up with the same run: the loser's INSERT fails and it reads the winner's row.
    """
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    for _ in range(5):
        existing = active_run(syncer.source, syncer.resource)
        if existing is not None:
            db.session.commit()  # end the read transaction: callers poll with fresh snapshots
            return existing, False
        now = utcnow()
        run = SyncRun(
            source=syncer.source,
            resource=syncer.resource,
            trigger=trigger,
            full=bool(full),
            status=RUN_QUEUED,
            requested_by=requested_by,
            created_at=now,
            heartbeat_at=now,
        )
        if retry_of is not None:  # read the original run's window again
            run.retry_of_id = retry_of.id
            run.cursor_at = None if retry_of.full else retry_of.cursor_at
        db.session.add(run)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            continue
        return run, True
    raise SyncError("Não foi possível iniciar a sincronização; tente novamente.")


def start_run(
    source: str,
    resource: str,
    trigger: str = TRIGGER_MANUAL,
    full: bool = False,
    requested_by: str | None = None,
) -> tuple[SyncRun, bool]:
    """Queue a run in the background pool; returns ``(run, created)``.

    If a run of the same source/resource is queued or running, that one is returned with
    ``created=False`` and nothing new starts. Commits the session.
    """
    syncer = _require(source, resource)
    run, created = _create_run(syncer, trigger, full, requested_by)
    if created:
        _submit(current_app._get_current_object(), run.id)
    return run, created


def run_sync(
    source: str,
    resource: str,
    full: bool = False,
    trigger: str = TRIGGER_MANUAL,
    requested_by: str | None = None,
) -> SyncRun:
    """Run synchronously (CLI, scheduler) and return the finished run.

    When a run of the same source/resource is already queued or running, that run is returned
    as is (still active) and nothing runs here.
    """
    syncer = _require(source, resource)
    run, created = _create_run(syncer, trigger, full, requested_by)
    if not created:
        return run
    _execute(run.id)
    db.session.expire_all()
    return db.session.get(SyncRun, run.id)


def reprocess(
    run_id: int,
    requested_by: str | None = None,
    *,
    background: bool = True,
    trigger: str = TRIGGER_MANUAL,
) -> tuple[SyncRun, bool]:
    """ "Reprocessar falhas": a new run that reads the window of run ``run_id`` again.

    The new run starts from the cursor the original read from (a full run is read in full
    again), so every record that failed there is fetched and written once more; records already
    stored come back ``unchanged``. Returns ``(run, created)`` like ``start_run`` (the run
    already going when one is). ``background=False`` runs it here (CLI) and returns it
    finished. Raises ``LookupError`` for an unknown run and ``SyncError`` when it has nothing
    to reprocess.
    """
    original = db.session.get(SyncRun, run_id)
    if original is None:
        raise LookupError(run_id)
    if not original.can_reprocess:
        raise SyncError(f"A execução #{run_id} não tem falhas para reprocessar.")
    syncer = _require(original.source, original.resource)
    run, created = _create_run(syncer, trigger, original.full, requested_by, retry_of=original)
    if not created:
        return run, False
    if background:
        _submit(current_app._get_current_object(), run.id)
        return run, True
    _execute(run.id)
    db.session.expire_all()
    return db.session.get(SyncRun, run.id), True


def _execute(run_id: int) -> None:
    """Claim a queued run, call its syncer and record the outcome. Never raises."""
    now = utcnow()

    def claim() -> int:
        claimed = db.session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id, SyncRun.status == RUN_QUEUED)
            .values(status=RUN_RUNNING, started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return claimed

    if retry_on_lock(claim, what=f"start of sync run {run_id}") != 1:
        return  # canceled (or marked stale) before it started
    run = db.session.get(SyncRun, run_id)
    if run.retry_of_id is None:
        cursor = None if run.full else incremental_cursor(run.source, run.resource)
        retry_on_lock(lambda: _set_cursor(run_id, cursor), what=f"sync run {run_id} cursor")
        db.session.refresh(run)
    ctx = SyncContext(
        run_id,
        full=run.full,
        trigger=run.trigger,
        last_success_at=run.cursor_at,
        progress_interval=float(
            current_app.config.get("SYNC_PROGRESS_INTERVAL", DEFAULT_PROGRESS_INTERVAL)
        ),
    )
    syncer = get_syncer(run.source, run.resource)
    label = f"{run.source}/{run.resource}"
    error = None
    try:
        if syncer is None:
            raise SyncError("Esta sincronização não está mais disponível nesta versão do app.")
        log.info("sync run %s (%s, %s) started", run_id, label, run.trigger)
        syncer.func(ctx, run.full)
        db.session.commit()
        status = RUN_CANCELED if ctx.cancel_requested else RUN_SUCCEEDED
    except Canceled:
        db.session.rollback()
        status = RUN_CANCELED
    except Exception as exc:
        db.session.rollback()
        status, error = RUN_FAILED, error_text(exc)
        if is_operator_error(exc):
            log.warning("sync run %s (%s) failed: %s", run_id, label, error)
        else:
            log.exception("sync run %s (%s) crashed", run_id, label)
    _finish(run_id, ctx, status, error)


def _set_cursor(run_id: int, cursor: datetime | None) -> None:
    db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(cursor_at=cursor)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _finish(run_id: int, ctx: SyncContext, status: str, error: str | None) -> None:
    values = ctx.values()
    if status == RUN_SUCCEEDED and (ctx.total is None or ctx.total < ctx.done):
        values["progress_total"] = ctx.done
    now = utcnow()

    def record() -> None:
        db.session.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(status=status, error=error, finished_at=now, heartbeat_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    try:
        retry_on_lock(record, what=f"end of sync run {run_id}")
    except Exception:
        db.session.rollback()
        log.exception("could not record the end of sync run %s", run_id)
        return
    log.info(
        "sync run %s finished: %s (created %s, updated %s, unchanged %s, failed %s)",
        run_id,
        status,
        *(ctx.counts[k] for k in COUNT_KINDS),
    )


def is_operator_error(exc: BaseException) -> bool:
    """Failures whose message is written for the operator: ours and the API clients' errors."""
    if isinstance(exc, SyncError):
        return True
    try:
        from app.clients.errors import APIError
    except ImportError:  # pragma: no cover - clients not installed
        return False
    return isinstance(exc, APIError)


def error_text(exc: BaseException) -> str:
    """A readable, secret-masked message for the run's error column (no stack trace)."""
    from app.logs import MASKING_FILTER, mask_text

    message = str(exc).strip()
    if not is_operator_error(exc):
        name = type(exc).__name__
        message = f"Erro inesperado ({name})" + (f": {message}" if message else ".")
    text = mask_text(message or "Erro.", MASKING_FILTER.known_secrets)
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Background pool

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_futures: dict[int, Future] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync")
        return _executor


def _submit(app: Flask, run_id: int) -> None:
    workers = int(app.config.get("SYNC_WORKERS", DEFAULT_WORKERS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        workers = 1  # SQLite has one writer: parallel runs would only queue on its lock
    pool = _pool(workers)
    future = pool.submit(_run_in_app, app, run_id)
    _futures[run_id] = future
    future.add_done_callback(lambda _f: _futures.pop(run_id, None))


def _run_in_app(app: Flask, run_id: int) -> None:
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


# ---------------------------------------------------------------------------------------------
# Cancel, stale detection, queries


def cancel(run_id: int) -> SyncRun:
    """Cancel a queued run at once, or ask a running one to stop at its next check.

    Raises ``LookupError`` for an unknown id. A finished run is returned unchanged.
    """
    run = db.session.get(SyncRun, run_id)
    if run is None:
        raise LookupError(run_id)
    now = utcnow()
    db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RUN_QUEUED)
        .values(status=RUN_CANCELED, cancel_requested=True, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status == RUN_RUNNING)
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(run)
    return run


def stale_after() -> timedelta:
    return timedelta(minutes=float(current_app.config.get("SYNC_STALE_MINUTES", 10)))


def mark_stale_runs(max_silence: timedelta | None = None) -> int:
    """Fail the active runs whose heartbeat is older than ``max_silence`` (process died)."""
    silence = max_silence if max_silence is not None else stale_after()
    now = utcnow()
    threshold = now - silence
    minutes = max(1, round(silence.total_seconds() / 60))
    result = db.session.execute(
        update(SyncRun)
        .where(
            SyncRun.status.in_(ACTIVE_STATUSES),
            or_(
                SyncRun.heartbeat_at < threshold,
                (SyncRun.heartbeat_at.is_(None)) & (SyncRun.created_at < threshold),
            ),
        )
        .values(status=RUN_FAILED, error=STALE_ERROR.format(m=minutes), finished_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    count = result.rowcount or 0
    if count:
        log.warning("%s sync run(s) without heartbeat marked as failed", count)
    return count


def get_run(run_id: int) -> SyncRun | None:
    return db.session.get(SyncRun, run_id)


def history_query(source: str | None = None, status: str | None = None):
    stmt = select(SyncRun).order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
    if source:
        stmt = stmt.where(SyncRun.source == normalize_source(source))
    if status:
        stmt = stmt.where(SyncRun.status == status)
    return stmt


def active_runs() -> list[SyncRun]:
    return list(
        db.session.scalars(
            select(SyncRun).where(SyncRun.status.in_(ACTIVE_STATUSES)).order_by(SyncRun.id)
        )
    )


def recent_failures(hours: int = 24, limit: int = 10) -> list[SyncRun]:
    since = utcnow() - timedelta(hours=hours)
    return list(
        db.session.scalars(
            select(SyncRun)
            .where(SyncRun.status == RUN_FAILED, SyncRun.created_at >= since)
            .order_by(SyncRun.created_at.desc())
            .limit(limit)
        )
    )


def known_sources() -> list[str]:
    """Registered sources plus any that appear in the history."""
    seen = set(db.session.scalars(select(SyncRun.source).group_by(SyncRun.source)))
    return sorted(seen | set(sources()))


def latest_runs() -> dict[tuple[str, str], SyncRun]:
    """The most recent run of each source/resource."""
    newest = (
        select(func.max(SyncRun.id).label("id"))
        .group_by(SyncRun.source, SyncRun.resource)
        .subquery()
    )
    rows = db.session.scalars(select(SyncRun).where(SyncRun.id.in_(select(newest.c.id))))
    return {(r.source, r.resource): r for r in rows}
