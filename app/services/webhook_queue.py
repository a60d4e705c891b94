"""The webhook inbox as a queue: workers (``app.worker``, ``flask worker``) claim due events —
one handed over at receipt, a batch, a sweep of abandoned or failed ones, a replay by hand —
and process them through ``app.services.webhook_processing``.

Claims go through ``app.services.queue.claim`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
a claim counts the attempt, so a poison event runs out of tries instead of looping.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import and_, bindparam, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.database import LOCK_RETRIES, is_lock_error, lock_pause
from app.extensions import db
from app.models import WebhookEvent
from app.models.types import utcnow
from app.models.webhooks import (
    EVENT_FAILED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    PENDING_CONDITION,
)
from app.services.queue import claim
from app.services.webhook_processing import (
    MAX_ATTEMPTS,
    _apply,
    _apply_event,
    _outcome_values,
    record_failure,
)
from app.sources.base import InvalidPayload, MalformedPayload, NormalizedEvent

log = logging.getLogger("app.services.webhooks")

PENDING = (EVENT_RECEIVED, EVENT_FAILED)
_PENDING = text(f"webhook_events.{PENDING_CONDITION}")
# A sweep or a replay (events no hand-over brought: failed ones, or ones whose process died)
# counts the attempt durably before processing, under this lease: a poison event that kills
# its processing is not retried forever (MAX_ATTEMPTS, then failed, visible and replayable).
PROCESS_LEASE = timedelta(minutes=2)
# A just-stored event is handed in memory to a worker thread of the process that stored it;
# a sweep leaves it to that thread this long (then it was lost with its process: claim it).
HANDOFF_GRACE = timedelta(seconds=30)


def _due(now, grace: timedelta, backoff_over: bool = True, exhausted: bool = False):
    """Events a worker may claim: received (past the hand-over grace and any processing
    lease) or failed and due (``backoff_over=False``: failed ones whatever their back-off, for
    a replay by hand); and received ones whose attempts ran out under a lease that ended (a
    processing that kept dying: claimed only to be recorded as failed)."""
    lease_over = or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now)
    failed_due = WebhookEvent.status == EVENT_FAILED
    if backoff_over:
        failed_due = and_(failed_due, lease_over)
    received_due = and_(
        WebhookEvent.status == EVENT_RECEIVED,
        WebhookEvent.received_at <= now - grace,
        lease_over,
    )
    due = and_(WebhookEvent.attempts < MAX_ATTEMPTS, or_(received_due, failed_due))
    if exhausted:
        due = or_(due, and_(WebhookEvent.attempts >= MAX_ATTEMPTS, received_due))
    # Led by the pending index's own condition (implied by the rest, spelled as the index
    # spells it): the planner reads the backlog, never the whole inbox.
    return and_(
        _PENDING,
        WebhookEvent.kind.is_not(None),  # kind NULL: failed validation at receipt
        due,
    )


def process_due(
    event_id: int | None = None,
    event: NormalizedEvent | None = None,
    *,
    grace: timedelta = HANDOFF_GRACE,
    _lock_attempt: int = 1,
) -> tuple[int, str] | None:
    """Claim one due event — ``event_id`` (handed over at receipt, or chosen by a replay: no
    grace, no back-off) or the oldest — and process it in the claiming transaction.

    ``(id, status)``, or ``None`` when there is nothing (left) to do: already processed, or
    claimed by another worker."""
    now = utcnow()
    if event_id is not None:  # the caller chose it: no grace, no back-off
        due = and_(WebhookEvent.id == event_id, _due(now, timedelta(0), backoff_over=False))
    else:
        due = _due(now, grace)
    try:
        ids = claim(
            WebhookEvent,
            due,
            order_by=(WebhookEvent.id,),
            values={"attempts": WebhookEvent.attempts + 1, "next_attempt_at": now + PROCESS_LEASE},
        )
        if ids:
            db.session.commit()  # counted before processing: a poison event runs out of tries
    except SQLAlchemyError as exc:
        db.session.rollback()
        if is_lock_error(exc) and _lock_attempt < LOCK_RETRIES:
            lock_pause(_lock_attempt)
            return process_due(event_id, event, grace=grace, _lock_attempt=_lock_attempt + 1)
        raise
    if not ids:
        db.session.rollback()
        return None
    row_id = ids[0]
    if event_id is None:
        event = None  # another event than the one handed over: parse its stored body

    def locked_apply(lock_attempt: int) -> str:
        # (Again, after a locked SQLite database rolled the work back: the count stands.)
        row = db.session.scalar(
            select(WebhookEvent)
            .where(WebhookEvent.id == row_id, WebhookEvent.status.in_(PENDING))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:  # done meanwhile by another worker (after the lease)
            db.session.rollback()
            return EVENT_PROCESSED
        return _apply(row, event, lock_attempt, again=locked_apply)

    return row_id, locked_apply(_lock_attempt)


BATCH = 20  # events a worker claims and processes in one transaction (one commit)
EXHAUSTED_MESSAGE = (
    "O processamento foi interrompido {attempts} vezes sem terminar (o processo do worker "
    "parou no meio); reprocesse pela página do evento depois de corrigir a causa."
)


def process_batch(
    handed: Mapping[int, NormalizedEvent | None] | None = None,
    *,
    limit: int = BATCH,
    grace: timedelta = HANDOFF_GRACE,
) -> list[tuple[int, str]]:
    """Claim due events — those ``handed`` over at receipt (id → normalized event), else the
    oldest due — and process them in one transaction: one commit for the batch. A batch that
    fails is rolled back and done again one event at a time, each in a savepoint, so a
    failing event is recorded as failed without undoing the others. ``(id, status)`` of each
    event this worker claimed (none when others took them)."""
    handed = dict(handed or {})
    rows = _claim_batch(handed, limit, grace)
    if not rows:
        return []
    culprit: tuple[int, str] | None = None  # the event that failed the batch, and why
    try:
        results, updates = [], []
        for row in rows:
            if row.attempts > MAX_ATTEMPTS:
                updates.append(_exhausted(row))
            else:
                event_id, attempts = row.id, row.attempts
                try:
                    values = _outcome_values(row, handed.get(event_id))
                except (InvalidPayload, MalformedPayload) as exc:
                    culprit = (event_id, exc.reason)
                    raise
                except Exception as exc:
                    log.exception(
                        "webhook event %s processing failed (attempt %s)", event_id, attempts
                    )
                    culprit = (event_id, f"{type(exc).__name__}: {exc}"[:2000])
                    raise
                updates.append({"b_id": event_id, **values})
            results.append((row.id, updates[-1]["status"]))
        _record_outcomes(updates)
        db.session.commit()
        return results
    except Exception:  # noqa: BLE001 - done again one by one, the culprit recorded failed
        db.session.rollback()
    return _process_isolated(handed, [row.id for row in rows], culprit)


def _claim_batch(handed: dict, limit: int, grace: timedelta) -> list[WebhookEvent]:
    """Claim (attempt counted) and load the batch's rows. A sweep commits the count under a
    ``PROCESS_LEASE`` first: what kills the processing cannot undo it."""
    now = utcnow()
    values: dict = {"attempts": WebhookEvent.attempts + 1}
    if handed:
        due = and_(WebhookEvent.id.in_(list(handed)), _due(now, timedelta(0), backoff_over=False))
        limit = len(handed)
    else:
        due = _due(now, grace, exhausted=True)
        values["next_attempt_at"] = now + PROCESS_LEASE
    ids = claim(WebhookEvent, due, order_by=(WebhookEvent.id,), values=values, limit=limit)
    if not ids:
        db.session.rollback()
        return []
    if not handed:
        db.session.commit()  # the attempt is counted whatever happens next
        locked = (
            select(WebhookEvent.id)
            .where(WebhookEvent.id.in_(ids), WebhookEvent.status.in_(PENDING))
            .with_for_update()
        )
        ids = list(db.session.scalars(locked))  # still to do (not done meanwhile elsewhere)
        if not ids:
            db.session.rollback()
            return []
    return list(
        db.session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.id.in_(ids))
            .order_by(WebhookEvent.id)
            .execution_options(populate_existing=True)
        )
    )


def _exhausted(row: WebhookEvent) -> dict:
    attempts = row.attempts - 1  # this claim only records the failure
    log.error("webhook event %s: processing never finished in %s attempts", row.id, attempts)
    return {
        "b_id": row.id,
        "status": EVENT_FAILED,
        "attempts": attempts,
        "last_error": EXHAUSTED_MESSAGE.format(attempts=attempts),
        "next_attempt_at": None,
    }


def _record_outcomes(updates: list[dict]) -> None:
    """The batch's rows updated in one ``executemany`` per set of columns (one round trip on
    PostgreSQL with psycopg's pipeline) instead of one UPDATE per event. The session's pending
    changes (an access's ``access_until``, a Kommo lead's new status) are flushed first: the
    ``expire_all`` below would otherwise drop them."""
    db.session.flush()
    table = WebhookEvent.__table__
    by_columns: dict[tuple, list[dict]] = {}
    for values in updates:
        by_columns.setdefault(tuple(sorted(values)), []).append(values)
    for columns, params in by_columns.items():
        stmt = (
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in columns if c != "b_id"})
        )
        db.session.connection().execute(stmt, params)
    db.session.expire_all()  # the ORM copies of these rows are stale now


def _process_isolated(
    handed: dict, ids: list[int], culprit: tuple[int, str] | None
) -> list[tuple[int, str]]:
    """The events of a failed batch again, each in a savepoint: a failing one is recorded as
    failed (with its back-off) without undoing the others; ``culprit`` (the event that failed
    the batch, and its error) is recorded failed without being run a second time."""
    now = utcnow()
    # This worker's own batch: no grace, no back-off, its own lease (a sweep's) ignored.
    due = and_(WebhookEvent.id.in_(ids), WebhookEvent.status.in_(PENDING))
    values: dict = {"attempts": WebhookEvent.attempts + 1}
    if not handed:  # counted already by the sweep's own claim
        values = {"next_attempt_at": now + PROCESS_LEASE}
    claimed = claim(WebhookEvent, due, order_by=(WebhookEvent.id,), values=values, limit=len(ids))
    if not claimed:
        db.session.rollback()
        return []
    rows = db.session.scalars(
        select(WebhookEvent)
        .where(WebhookEvent.id.in_(claimed))
        .order_by(WebhookEvent.id)
        .execution_options(populate_existing=True)
    ).all()
    results, failures = [], []
    for row in rows:
        event_id, attempts = row.id, row.attempts
        if culprit is not None and event_id == culprit[0]:
            failures.append((event_id, attempts, culprit[1]))
            continue
        try:
            with db.session.begin_nested():
                results.append((event_id, _apply_event(row, handed.get(event_id))))
        except (InvalidPayload, MalformedPayload) as exc:
            failures.append((event_id, attempts, exc.reason))
        except Exception as exc:  # a bug must not lose the event: keep it for replay
            log.exception("webhook event %s processing failed (attempt %s)", event_id, attempts)
            failures.append((event_id, attempts, f"{type(exc).__name__}: {exc}"[:2000]))
    for event_id, attempts, error in failures:
        record_failure(event_id, attempts, error)
        results.append((event_id, EVENT_FAILED))
    db.session.commit()
    return results


def replayable_ids(limit: int = 200, *, backoff_over: bool = True) -> list[int]:
    """Failed events that are due and have attempts left, and 'received' ones no worker took
    (the process that stored them died), oldest first."""
    return list(
        db.session.scalars(
            select(WebhookEvent.id)
            .where(_due(utcnow(), HANDOFF_GRACE, backoff_over))
            .order_by(WebhookEvent.id)
            .limit(limit)
        )
    )


def replay_failed(limit: int = 200, *, now: bool = False) -> dict[str, int]:
    """Retry due failed (and abandoned 'received') events, each claimed like a worker does;
    ``now``: failed ones whatever their back-off (the operator's ``--failed``)."""
    counts = {"processed": 0, "ignored": 0, "failed": 0}
    ids = replayable_ids(limit, backoff_over=not now)
    db.session.rollback()  # end the read before claiming
    for event_id in ids:
        result = process_due(event_id)
        if result is None:
            continue  # taken by a worker meanwhile
        status = result[1]
        counts[status if status in counts else "failed"] += 1
    return counts
