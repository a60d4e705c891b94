"""Running a sync: queue (``start_run``), run here (``run_sync``), "Reprocessar falhas"
(``reprocess``), the run itself (``_execute``/``_finish``), cancel and stale-run detection."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

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
    SyncFailure,
    SyncRun,
)
from app.models.types import utcnow
from app.services.queue import start_queued
from app.services.sync.context import COUNT_KINDS, DEFAULT_PROGRESS_INTERVAL, SyncContext
from app.services.sync.history import active_run, incremental_cursor
from app.services.sync.pool import submit as _submit
from app.services.sync.registry import (
    Canceled,
    Syncer,
    SyncError,
    SyncNotConfigured,
    UnknownSyncer,
    get_syncer,
    source_label,
)

log = logging.getLogger(__name__)

DEFAULT_STALE_MINUTES = 10
STALE_ERROR = "Sincronização interrompida: processo encerrado sem concluir (sem sinal há {m} min)."
ERROR_MAX = 1000


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
    if not start_queued(
        SyncRun, run_id, queued=RUN_QUEUED, running=RUN_RUNNING, what=f"start of sync run {run_id}"
    ):
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
        failures = ctx.failure_rows()
        if failures:
            resource = db.session.scalar(select(SyncRun.resource).where(SyncRun.id == run_id))
            db.session.execute(
                insert(SyncFailure),
                [
                    {
                        "run_id": run_id,
                        "resource": resource,
                        "remote_id": remote_id,
                        "error": text[:ERROR_MAX],
                        "created_at": now,
                    }
                    for remote_id, text in failures
                ],
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
