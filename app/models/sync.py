"""Sync runs (history and live progress), the scheduler lease and editable job schedules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

RUN_QUEUED = "queued"
RUN_RUNNING = "running"
RUN_SUCCEEDED = "succeeded"
RUN_FAILED = "failed"
RUN_CANCELED = "canceled"
RUN_STATUSES = (RUN_QUEUED, RUN_RUNNING, RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELED)
ACTIVE_STATUSES = (RUN_QUEUED, RUN_RUNNING)
FINISHED_STATUSES = (RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELED)

TRIGGER_MANUAL = "manual"
TRIGGER_SCHEDULED = "scheduled"
TRIGGERS = (TRIGGER_MANUAL, TRIGGER_SCHEDULED)

# At most one queued/running run per (source, resource): two clicks racing get the same run.
_ACTIVE_WHERE = text("status IN ('queued', 'running')")


class SyncRun(db.Model):
    __tablename__ = "sync_runs"
    __table_args__ = (
        Index(
            "uq_sync_runs_active_source_resource",
            "source",
            "resource",
            unique=True,
            sqlite_where=_ACTIVE_WHERE,
            postgresql_where=_ACTIVE_WHERE,
        ),
        Index("ix_sync_runs_status_heartbeat", "status", "heartbeat_at"),
        Index("ix_sync_runs_source_created", "source", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16), default=TRIGGER_MANUAL)
    full: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=RUN_QUEUED)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(254))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Incremental cursor this run read from (None: everything / the lookback window).
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Reprocessar falhas": the run whose failed records this run reads again.
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def can_reprocess(self) -> bool:
        """Finished with failed records (or failed as a whole): its window can be read again."""
        if self.status not in FINISHED_STATUSES:
            return False
        return self.failed_count > 0 or self.status == RUN_FAILED

    @property
    def percent(self) -> int | None:
        if self.status == RUN_SUCCEEDED:
            return 100
        if not self.progress_total:
            return None
        return max(0, min(100, int(self.progress_done * 100 / self.progress_total)))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(0.0, (end - self.started_at).total_seconds())

    def to_dict(self) -> dict:
        """The SPEC §5 shape of ``GET /api/sync-runs/<id>``."""
        return {
            "id": self.id,
            "source": self.source,
            "resource": self.resource,
            "status": self.status,
            "progress": {"done": self.progress_done, "total": self.progress_total},
            "counts": {
                "created": self.created_count,
                "updated": self.updated_count,
                "unchanged": self.unchanged_count,
                "failed": self.failed_count,
            },
            "error": self.error,
        }


class SyncFailure(db.Model):
    """One record a run could not save: which (remote id, resource) and why, in pt-BR.

    Written when the run ends (at most ``sync.context.FAILURES_KEPT`` per run; the run's
    ``failed_count`` keeps the full count). Deleted with its run.
    """

    __tablename__ = "sync_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True)
    resource: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchedulerLease(db.Model):
    """One row per lease name; whoever holds an unexpired row runs the scheduled jobs."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobSetting(db.Model):
    """Operator overrides of a scheduled job, plus what its last run did (written by the leader)."""

    __tablename__ = "job_settings"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    interval_seconds: Mapped[int | None] = mapped_column()  # None: the default in code
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))  # ok | error | skipped
    last_message: Mapped[str | None] = mapped_column(Text)
    last_duration_ms: Mapped[int | None] = mapped_column()
