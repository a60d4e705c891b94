"""Scheduled jobs: the catalogue, operator overrides (``JobSetting``) and run bookkeeping.

``app.scheduler`` decides *when* and *where* (one leader); this module says *what* runs and
records how it went, so the Settings page can show it from any process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.sync import TRIGGER_SCHEDULED, JobSetting, SchedulerLease
from app.models.types import utcnow
from app.services import automation_backfill, sync

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_SKIPPED = "skipped"
MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 7 * 24 * 3600
MESSAGE_MAX = 1000


class JobSkipped(Exception):
    """Raised by a job that had nothing it could do (e.g. credentials not configured)."""


@dataclass(frozen=True)
class Job:
    id: str
    label: str
    func: Callable[[], str | None]  # returns a short summary for the Settings page
    default_interval: float  # seconds
    kind: str = "maintenance"  # maintenance | sync


# ---------------------------------------------------------------------------------------------
# The catalogue


def _activation_cleanup() -> str:
    from app.services import activation

    expired = activation.expire_links()
    ended = activation.end_lapsed_access()
    db.session.commit()
    return f"links expirados: {expired}, acessos encerrados: {ended}"


def _outbox_send() -> str:
    from app.services import outbox

    if not outbox.smtp_configured():
        raise JobSkipped("SMTP não configurado: os e-mails continuam na fila.")
    counts = outbox.send_pending(limit=500)
    return (
        f"enviados: {counts['sent']}, nova tentativa: {counts['retry']}, "
        f"falharam: {counts['failed']}"
    )


def _automations_send() -> str:
    from app.services import automation_sender, automations

    if not automations.enabled_targets():
        raise JobSkipped("Nenhuma automação ligada.")
    counts = automation_sender.send_pending(limit=500)
    return (
        f"enviados: {counts['sent']}, nova tentativa: {counts['retry']}, "
        f"falharam: {counts['failed']}, cancelados: {counts['cancelled']}"
    )


def _webhook_replay() -> str:
    from app.services import outbox, webhooks

    counts = webhooks.replay_failed()
    outbox.send_pending()
    return (
        f"processados: {counts['processed']}, ignorados: {counts['ignored']}, "
        f"falharam: {counts['failed']}"
    )


def _reconciliation_check() -> str:
    from app.services import reconciliation_watch as watch

    result = watch.check()
    mailed = watch.notify_operators(result)
    db.session.commit()
    summary = f"compradores sem acesso: {result['count']}, novos: {result['new']}"
    return summary + (f", operadores avisados: {mailed}" if mailed else "")


def _telegram_summary() -> str:
    from app.services import telegram, telegram_notify

    if not telegram.switched_on(telegram.DAILY_SUMMARY_KEY):
        raise JobSkipped("Resumo diário do Telegram desligado (ou avisos não configurados).")
    day = telegram_notify.queue_daily_summary()
    db.session.commit()
    if day is None:
        return "resumo de ontem já enviado"
    return f"resumo de {day.strftime('%d/%m/%Y')} na fila"


def _stale_runs() -> str:
    runs = sync.mark_stale_runs()
    backfills = automation_backfill.release_stale()
    db.session.commit()
    return f"sincronizações interrompidas: {runs}; envios de vendas anteriores: {backfills}"


MAINTENANCE_JOBS: tuple[Job, ...] = (
    Job("outbox_send", "Envio de e-mails pendentes", _outbox_send, 60),
    Job("webhook_replay", "Reprocessar webhooks com falha", _webhook_replay, 300),
    Job(
        "automations_send",
        "Envio ao Kommo, ao Gestão Click e ao Telegram",
        _automations_send,
        60,
    ),
    Job(
        "activation_cleanup",
        "Expirar links e encerrar acessos vencidos",
        _activation_cleanup,
        3600,
    ),
    Job("stale_sync_runs", "Detectar envios e sincronizações interrompidos", _stale_runs, 300),
    Job(
        "reconciliation_check",
        "Conferir compradores que pagaram e não receberam acesso",
        _reconciliation_check,
        900,
    ),
    # Runs often; sends once per São Paulo day, right after midnight (dedupe key per day).
    Job("telegram_daily_summary", "Resumo diário no Telegram", _telegram_summary, 900),
)


def _sync_job(syncer: sync.Syncer) -> Job:
    def run() -> str:
        if not syncer.is_enabled():
            raise JobSkipped("Credenciais não configuradas.")
        run = sync.run_sync(syncer.source, syncer.resource, trigger=TRIGGER_SCHEDULED)
        if run.is_active:
            raise JobSkipped(f"Já em andamento (execução #{run.id}).")
        if run.status == "failed":
            raise sync.SyncError(f"Execução #{run.id}: {run.error}")
        return (
            f"execução #{run.id} ({run.status}): criados {run.created_count}, "
            f"atualizados {run.updated_count}, sem mudança {run.unchanged_count}, "
            f"falhas {run.failed_count}"
        )

    return Job(syncer.job_id, f"Sincronizar {syncer.title}", run, syncer.interval, kind="sync")


def catalogue() -> list[Job]:
    """Every scheduled job: maintenance first, then one per syncer with a default interval."""
    return [*MAINTENANCE_JOBS, *(_sync_job(s) for s in sync.syncers() if s.interval)]


def find(job_id: str, jobs: list[Job] | None = None) -> Job | None:
    return next((j for j in (jobs if jobs is not None else catalogue()) if j.id == job_id), None)


# ---------------------------------------------------------------------------------------------
# Settings


def settings_map() -> dict[str, JobSetting]:
    return {s.job_id: s for s in db.session.scalars(select(JobSetting))}


def effective(job: Job, setting: JobSetting | None) -> tuple[float, bool]:
    """(interval seconds, enabled) after the operator's overrides."""
    if setting is None:
        return float(job.default_interval), True
    interval = setting.interval_seconds or job.default_interval
    return float(interval), bool(setting.enabled)


def save(job: Job, interval_seconds: int, enabled: bool, by: str | None = None) -> bool:
    """Store the operator's choice (does not commit); returns True when something changed."""
    if not MIN_INTERVAL_SECONDS <= interval_seconds <= MAX_INTERVAL_SECONDS:
        raise ValueError(interval_seconds)
    setting = db.session.get(JobSetting, job.id)
    stored = None if interval_seconds == round(job.default_interval) else interval_seconds
    if setting is None:
        if stored is None and enabled:
            return False
        setting = _setting_row(job.id)  # the scheduler may be inserting it right now
    elif setting.interval_seconds == stored and setting.enabled == enabled:
        return False
    setting.interval_seconds = stored
    setting.enabled = enabled
    setting.updated_at = utcnow()
    setting.updated_by = by
    return True


def _setting_row(job_id: str) -> JobSetting:
    """The job's row, inserted first when missing with ``INSERT … ON CONFLICT DO NOTHING``:
    the operator's save (the Settings page) and the scheduler's ``record`` both write it, each
    from its own process, and a plain INSERT of the second lost to the first's (UNIQUE
    ``job_id``: a 500 on the page). Then updated like any row (does not commit)."""
    from app.services.bulk import insert_for

    setting = db.session.get(JobSetting, job_id)
    if setting is not None:
        return setting
    stmt = insert_for(JobSetting.__table__).values(job_id=job_id, enabled=True)
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["job_id"]))
    return db.session.get(JobSetting, job_id, populate_existing=True)


def record(job_id: str, **values) -> None:
    """Upsert what the scheduler knows about a job (commits; never raises)."""
    for _ in range(2):
        try:
            setting = _setting_row(job_id)
            for key, value in values.items():
                setattr(setting, key, value)
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()  # a conflict the upsert did not absorb: once more
        except Exception:
            db.session.rollback()
            log.exception("could not record the state of job %s", job_id)
            return


def execute(job: Job, next_run_at: datetime | None = None) -> str:
    """Run one job, log and record the outcome; returns the status. Never raises."""
    started = time.monotonic()
    now = utcnow()
    try:
        message = job.func()
        db.session.commit()
        status = STATUS_OK
    except JobSkipped as exc:
        db.session.rollback()
        status, message = STATUS_SKIPPED, str(exc)
        log.info("job %s skipped: %s", job.id, message)
    except Exception as exc:
        db.session.rollback()
        status, message = STATUS_ERROR, sync.error_text(exc)
        log.exception("job %s failed", job.id)
    message = (message or "")[:MESSAGE_MAX] or None
    record(
        job.id,
        last_run_at=now,
        last_status=status,
        last_message=message,
        last_duration_ms=int((time.monotonic() - started) * 1000),
        next_run_at=next_run_at,
    )
    return status


# ---------------------------------------------------------------------------------------------
# For the Settings page


def lease_status() -> dict:
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    active = lease is not None and lease.expires_at > utcnow()
    return {"active": active, "holder": lease.holder if lease else None, "lease": lease}


def overview() -> dict:
    settings = settings_map()
    status = lease_status()
    rows = []
    for job in catalogue():
        setting = settings.get(job.id)
        interval, enabled = effective(job, setting)
        rows.append(
            {
                "job": job,
                "interval_seconds": interval,
                "interval_minutes": max(1, round(interval / 60)),
                "default_minutes": max(1, round(job.default_interval / 60)),
                "enabled": enabled,
                "setting": setting,
                "next_run_at": setting.next_run_at
                if setting is not None and enabled and status["active"]
                else None,
            }
        )
    return {"jobs": rows, "scheduler": status}
