"""Storing and dispatching the inbox deliveries that carry no sale (Kommo's account webhooks,
Telegram's Bot API updates): one short transaction stores the raw delivery, then it is applied
inline (tests, ``WEBHOOK_PROCESS_INLINE``) or handed to a worker, like a purchase webhook.

Each platform's module builds the row's values (its dedupe key, event type, auth location)
and its ``apply_row`` (``webhook_processing.ROW_APPLIERS``); this module is the rest, once.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.database import retry_on_lock
from app.extensions import db
from app.models import WebhookEvent
from app.models.webhooks import EVENT_IGNORED
from app.services import webhooks as inbox
from app.services.webhooks import Outcome, Received

log = logging.getLogger("app.services.webhooks")


def store_and_dispatch(
    values: dict[str, Any], parsed: bool, error: str | None, inline: bool | None = None
) -> Received:
    """Store ``values`` as a ``webhook_events`` row (a repeat is answered ``duplicate``), then
    process it; a delivery that did not parse (``parsed`` false) is stored failed, answered 400."""
    platform = values["platform"]
    try:
        stored = retry_on_lock(lambda: _store(values), what=f"webhook {platform}")
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("webhook %s could not be stored", platform)
        return Received(Outcome.UNAVAILABLE, inbox.UNAVAILABLE_MESSAGE)
    if stored.outcome is not Outcome.ACCEPTED:
        return stored
    if not parsed:
        return Received(Outcome.INVALID_JSON, error or "", stored.event_id)
    if inline is None:
        inline = current_app.config.get("WEBHOOK_PROCESS_INLINE", True)
    if inline:
        status = inbox.process(stored.event_id)
        return Received(
            Outcome.IGNORED if status == EVENT_IGNORED else Outcome.ACCEPTED,
            event_id=stored.event_id,
        )
    from app import worker

    worker.submit_event(stored.event_id, None)
    return Received(Outcome.ACCEPTED, event_id=stored.event_id)


def _store(values: dict[str, Any]) -> Received:
    row = WebhookEvent(**values)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # the platform sent the same delivery again
        db.session.rollback()
        existing = inbox._find(values["platform"], values["dedupe_key"])
        inbox._count_duplicate(existing)
        db.session.commit()
        return Received(Outcome.DUPLICATE, event_id=existing.id if existing else None)
    return Received(Outcome.ACCEPTED, event_id=row.id)
