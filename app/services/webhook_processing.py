"""Process a stored webhook event: apply it to the sales (Kommo and Telegram deliveries to
their own rows) and record the outcome on its row, or record the failure with its back-off
(retried by the queue).

``app.services.webhooks`` receives and stores; ``app.services.webhook_queue`` claims due
events for the workers and calls ``_apply`` / ``_outcome_values`` from here.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.database import LOCK_RETRIES, is_lock_error, lock_pause
from app.extensions import db
from app.models import WebhookEvent
from app.models.types import utcnow
from app.models.webhooks import EVENT_FAILED, EVENT_IGNORED, EVENT_PROCESSED
from app.services import sales
from app.sources import SOURCES
from app.sources.base import InvalidPayload, MalformedPayload, NormalizedEvent

log = logging.getLogger("app.services.webhooks")

MAX_ATTEMPTS = 10
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def stored_event(row: WebhookEvent) -> NormalizedEvent:
    """Normalize a stored event again from its raw body (replays, restarts, other processes)."""
    source = SOURCES[row.platform]
    return source.parse(source.decode(row.raw_body.encode("utf-8")))


def process(event_id: int, event: NormalizedEvent | None = None, _lock_attempt: int = 1) -> str:
    """(Re)process a stored event; ``event`` is its normalized form when the caller has it
    (else the raw body is parsed again). Never raises: failures are recorded.

    A locked SQLite database is waited out (the work is rolled back and done again) before
    the event would be recorded as failed.
    """
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update()
    )
    if row is None:
        raise LookupError(event_id)
    row.attempts += 1
    return _apply(row, event, _lock_attempt)


def _apply(
    row: WebhookEvent, event: NormalizedEvent | None, _lock_attempt: int = 1, again=None
) -> str:
    """Apply the locked ``row`` (its attempt counted) and commit, or record the failure.

    ``again(lock_attempt)``: how to start over after a locked SQLite database.
    """
    event_id, attempts = row.id, row.attempts
    try:
        status = _apply_event(row, event)
        db.session.commit()
    except (InvalidPayload, MalformedPayload) as exc:
        db.session.rollback()
        _mark_failed(event_id, attempts, exc.reason)
        return EVENT_FAILED
    except SQLAlchemyError as exc:
        db.session.rollback()
        if is_lock_error(exc) and _lock_attempt < LOCK_RETRIES:
            lock_pause(_lock_attempt)
            if again is not None:
                return again(_lock_attempt + 1)
            return process(event_id, event, _lock_attempt + 1)
        log.exception("webhook event %s processing failed (attempt %s)", event_id, attempts)
        _mark_failed(event_id, attempts, f"{type(exc).__name__}: {exc}"[:2000])
        return EVENT_FAILED
    except Exception as exc:  # a bug must not lose the event: keep it for replay
        db.session.rollback()
        log.exception("webhook event %s processing crashed (attempt %s)", event_id, attempts)
        _mark_failed(event_id, attempts, f"{type(exc).__name__}: {exc}"[:2000])
        return EVENT_FAILED
    return status


def _apply_event(row: WebhookEvent, event: NormalizedEvent | None) -> str:
    """Apply ``row``'s event to the sales and record the result on ``row`` (no commit)."""
    values = _outcome_values(row, event)
    for key, value in values.items():
        setattr(row, key, value)
    return row.status


# Inbox platforms that carry no sale: their module's ``apply_row(row)`` applies a delivery.
ROW_APPLIERS = {
    "kommo": "app.services.kommo_webhooks",  # CRM changes (leads, contacts)
    "telegram": "app.services.telegram_webhooks",  # Bot API updates (chat_member joins)
}


def _outcome_values(row: WebhookEvent, event: NormalizedEvent | None) -> dict:
    """Apply ``row``'s event to the sales (no commit); the columns of ``row`` to record."""
    applier = ROW_APPLIERS.get(row.platform)
    if applier is not None:  # not a sale: the module records the result on ``row`` itself
        import_module(applier).apply_row(row)
        return {
            "status": row.status,
            "sale_id": row.sale_id,
            "last_error": row.last_error,
            "processed_at": row.processed_at,
        }
    if event is None:
        event = stored_event(row)
    outcome = sales.apply_event(event, webhook_event_id=row.id)
    return {
        "status": EVENT_PROCESSED if outcome.handled else EVENT_IGNORED,
        "sale_id": outcome.sale.id if outcome.sale is not None else row.sale_id,
        "last_error": outcome.note or None if not outcome.handled else None,
        "processed_at": utcnow(),
    }


def record_failure(event_id: int, attempts: int, error: str) -> None:
    """Mark the event failed, due again after the back-off (no commit)."""
    db.session.execute(
        db.update(WebhookEvent)
        .where(WebhookEvent.id == event_id)
        .values(
            status=EVENT_FAILED,
            attempts=attempts,
            last_error=error,
            next_attempt_at=utcnow() + backoff(attempts),
        )
    )


def _mark_failed(event_id: int, attempts: int, error: str) -> None:
    """Record the failure; a worker retries it after the back-off (``replay`` by hand at once)."""
    try:
        record_failure(event_id, attempts, error)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the failure of webhook event %s", event_id)
        return
    if attempts >= MAX_ATTEMPTS:  # out of automatic retries: a person must look at it
        from app.services import telegram_notify

        reason = f"evento #{event_id} ({error[:300]}); veja /webhooks/{event_id}"
        telegram_notify.failure_committed("webhook falhou", str(event_id), reason)
