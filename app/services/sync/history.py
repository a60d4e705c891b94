"""Queries over the run history: the active and last successful run, the incremental cursor,
the /sincronizacoes list, recent failures, the latest run of each syncer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.sync import ACTIVE_STATUSES, RUN_FAILED, RUN_SUCCEEDED, SyncRun
from app.models.types import utcnow
from app.services.sync.registry import normalize_source, sources


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
