"""One way to claim work from a table of jobs (rows as jobs), shared by every queue.

The webhook inbox and the e-mail outbox are their own queues: a job is the row its data lives
in, written in the same transaction (nothing to enqueue elsewhere, nothing to keep in step).
``claim`` takes due rows for this worker in the current transaction:

- PostgreSQL: ``UPDATE … WHERE id IN (SELECT id … FOR UPDATE SKIP LOCKED)``: concurrent
  workers on any number of hosts never wait for each other nor take the same row;
- SQLite: the same statement under the database's single write lock (``BEGIN IMMEDIATE``,
  ``app.database``), which serializes the claims of the in-process worker threads.

The rows stay locked until the transaction ends: a worker that processes in the claiming
transaction (webhook events) holds them to its commit, and a worker killed mid-way simply
rolls back — the row is due again. A worker that must let go before slow work (an SMTP
send) writes a lease in ``values`` (``next_attempt_at = now + lease``) and commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select, update

from app.database import retry_on_lock
from app.extensions import db
from app.models.types import utcnow


def claim(
    model,
    due: ColumnElement[bool],
    *,
    order_by: Sequence[Any],
    values: Mapping[str, Any],
    limit: int = 1,
) -> list[int]:
    """Mark up to ``limit`` rows of ``model`` matching ``due`` with ``values``; their ids.

    Does not commit: the rows are this transaction's until it ends.
    """
    pk = model.__mapper__.primary_key[0]
    if db.session.get_bind().dialect.name == "sqlite" and (
        db.session.scalar(select(pk).where(due).limit(1)) is None
    ):
        return []  # nothing due: a read (autocommit) instead of taking the write lock
    chosen = (
        select(pk).where(due).order_by(*order_by).limit(limit).with_for_update(skip_locked=True)
    )
    stmt = (
        update(model)
        .where(pk.in_(chosen.scalar_subquery()))
        .values(**values)
        .returning(pk)
        .execution_options(synchronize_session=False)
    )
    return list(db.session.scalars(stmt))


def start_queued(model, row_id: int, *, queued: str, running: str, what: str) -> bool:
    """Move one queued background run (a sync run, a backfill) to ``running``, started and
    heartbeat now, committed and retried on a locked SQLite file → whether this caller got it
    (False: cancelled or marked stale before it could start)."""
    now = utcnow()

    def claim() -> int:
        claimed = db.session.execute(
            update(model)
            .where(model.id == row_id, model.status == queued)
            .values(status=running, started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return claimed

    return retry_on_lock(claim, what=what) == 1
