"""The webhook inbox's rows: store a delivery durably (one ``INSERT … ON CONFLICT DO
NOTHING``), find and count redeliveries, supersede a failed event by its corrected body, and
count refused deliveries for the operator's page. ``app.services.webhooks`` decides what to
store; this module only writes and reads ``webhook_events`` / ``webhook_rejections``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.models import WebhookEvent, WebhookRejection
from app.models.types import utcnow
from app.models.webhooks import EVENT_RECEIVED, EVENT_SUPERSEDED
from app.sources.base import NormalizedEvent, clamp_key

# Header values worth keeping with the raw event (never the ones that carry secrets).
KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "traceparent", "x-forwarded-for")


def _kept_headers(headers: Mapping[str, str]) -> dict:
    lower = {k.lower(): v for k, v in headers.items()}
    return {name: lower[name][:500] for name in KEPT_HEADERS if name in lower}


@dataclass(frozen=True)
class _Delivery:
    platform: str
    text: str  # the body as stored (credentials redacted)
    headers: Mapping[str, str]
    location: str | None
    remote_addr: str | None


def _record_rejection(platform: str, reason: str, remote_addr, header_names: str) -> None:
    """Count a refused delivery for the operator's page; never fails the 401 itself."""
    now = utcnow()
    values = {
        "last_at": now,
        "last_reason": reason[:255],
        "last_remote_addr": (remote_addr or "")[:64] or None,
        "last_header_names": header_names[:500] or None,
    }
    try:
        updated = db.session.execute(
            db.update(WebhookRejection)
            .where(WebhookRejection.platform == platform)
            .values(count=WebhookRejection.count + 1, **values)
        ).rowcount
        if not updated:
            db.session.add(WebhookRejection(platform=platform, count=1, first_at=now, **values))
        db.session.commit()
    except SQLAlchemyError:  # a concurrent first insert, or the database is away
        db.session.rollback()


def rejections() -> dict[str, WebhookRejection]:
    return {row.platform: row for row in db.session.scalars(select(WebhookRejection))}


def _canonical(text: str) -> str:
    """The body as canonical JSON, so a re-serialized copy of the same object compares equal."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _same_body(row: WebhookEvent, text: str) -> bool:
    return row.raw_body == text or _canonical(row.raw_body) == _canonical(text)


def _find(platform: str, key: str) -> WebhookEvent | None:
    return db.session.scalar(
        select(WebhookEvent).where(
            WebhookEvent.platform == platform, WebhookEvent.dedupe_key == key
        )
    )


def _count_duplicate(row: WebhookEvent | None) -> None:
    if row is None:
        return
    db.session.execute(
        db.update(WebhookEvent)
        .where(WebhookEvent.id == row.id)
        .values(duplicates=WebhookEvent.duplicates + 1)
    )
    db.session.commit()


def _row_values(delivery: _Delivery, key, event_type, event, status, error) -> dict:
    return {
        "platform": delivery.platform,
        "dedupe_key": key,
        "event_type": (event_type or "unknown")[:64],
        "kind": event.kind.value if event else None,
        "transaction_id": event.transaction_id if event else None,
        "buyer_email": event.buyer_email if event else None,
        "test_origin": event.test_origin if event else None,
        "raw_body": delivery.text,
        "headers": _kept_headers(delivery.headers),
        "auth_location": delivery.location,
        "remote_addr": (delivery.remote_addr or "")[:64] or None,
        "status": status,
        "last_error": error,
    }


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@functools.cache
def _insert_statement(dialect: str):
    """One Core ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` per dialect, built once: its
    compiled form is cached by SQLAlchemy and only the parameters change per delivery (no ORM
    object, no per-request statement building)."""
    table = WebhookEvent.__table__
    return (
        _INSERTS[dialect](table)
        .on_conflict_do_nothing(index_elements=["platform", "dedupe_key"])
        .returning(table.c.id)
    )


def _insert_new(delivery: _Delivery, event: NormalizedEvent) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id``: the id of the new row (committed), or
    ``None`` when the (platform, dedupe key) is already stored. One statement, one commit."""
    values = _row_values(delivery, event.dedupe_key, event.event_type, event, EVENT_RECEIVED, None)
    session = db.session()  # the request's session, looked up once
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect not in _INSERTS:  # another database: the portable way
        try:
            row = WebhookEvent(**values)
            session.add(row)
            session.commit()
            return row.id
        except IntegrityError:
            session.rollback()
            return None
    row_id = connection.execute(_insert_statement(dialect), values).scalar()
    if row_id is not None:
        session.commit()  # a duplicate goes on in the same transaction (counted, one commit)
    return row_id


def _store(
    delivery: _Delivery,
    key,
    event_type,
    event,
    status=EVENT_RECEIVED,
    error=None,
    supersedes: WebhookEvent | None = None,
) -> WebhookEvent:
    """Commit the raw event before anything else happens.

    ``supersedes``: a failed event with the same key and another body; it keeps its body under
    a renamed key (status ``superseded``) and the new delivery takes the key.
    """
    if supersedes is not None:
        supersedes.dedupe_key = clamp_key(f"{key}~superseded:{supersedes.id}")
        supersedes.status = EVENT_SUPERSEDED
        db.session.flush()  # free the key before the INSERT
    row = WebhookEvent(**_row_values(delivery, key, event_type, event, status, error))
    db.session.add(row)
    db.session.flush()
    if supersedes is not None:
        supersedes.last_error = f"Substituído pela entrega corrigida #{row.id}"
    db.session.commit()
    return row
