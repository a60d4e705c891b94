"""Receive a platform webhook: verify, store durably, then process (retried if it fails)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.database import LOCK_RETRIES, is_lock_error, lock_pause, retry_on_lock
from app.extensions import db
from app.models import WebhookEvent, WebhookRejection
from app.models.types import utcnow
from app.models.webhooks import (
    EVENT_FAILED,
    EVENT_IGNORED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    EVENT_SUPERSEDED,
)
from app.services import sales
from app.services import settings as settings_service
from app.sources import SOURCES
from app.sources.base import InvalidPayload, MalformedPayload, clamp_key
from app.sources.registry import body_secret_paths, redact_body

log = logging.getLogger(__name__)

# Header values worth keeping with the raw event (never the ones that carry secrets).
# Body key paths that carry a webhook credential (Hotmart hottok, Kirvano token, …).
BODY_SECRETS = body_secret_paths()
KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "traceparent", "x-forwarded-for")
MAX_ATTEMPTS = 10


@dataclass
class Received:
    status_code: int
    body: dict
    event_id: int | None = None


def _error(status: int, code: str, message: str) -> Received:
    return Received(status, {"success": False, "error": {"code": code, "message": message}})


def _kept_headers(headers: Mapping[str, str]) -> dict:
    lower = {k.lower(): v for k, v in headers.items()}
    return {name: lower[name][:500] for name in KEPT_HEADERS if name in lower}


def receive(
    platform: str,
    raw: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    remote_addr: str | None = None,
) -> Received:
    source = SOURCES[platform]
    try:
        secret = settings_service.webhook_secret(platform)
    except SQLAlchemyError:  # the secret lookup reads the database too
        db.session.rollback()
        log.exception("webhook %s: the secret could not be read", platform)
        return _error(503, "unavailable", "Não foi possível registrar o evento agora.")
    verdict = source.verify(raw, headers, args, secret)
    if not verdict.ok:
        header_names = ", ".join(sorted({k.lower() for k, _ in headers.items()}))
        log.warning(
            "webhook %s rejected from %s: %s (headers present: %s)",
            platform,
            remote_addr,
            verdict.reason,
            header_names,
        )
        _record_rejection(platform, verdict.reason, remote_addr, header_names)
        return _error(401, "unauthorized", verdict.reason)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "invalid_encoding", "O corpo precisa ser JSON em UTF-8.")
    try:
        body = source.decode(raw)
    except MalformedPayload as exc:
        return _error(400, "invalid_json", exc.reason)
    text = _redacted(body, text)
    try:
        return retry_on_lock(
            lambda: _accept(platform, source, body, text, headers, verdict.location, remote_addr),
            what=f"webhook {platform}",
        )
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("webhook %s could not be stored", platform)
        # Not stored: a 5xx makes the platform deliver it again later.
        return _error(503, "unavailable", "Não foi possível registrar o evento agora.")


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


def _redacted(body: dict, text: str) -> str:
    """Drop credentials some platforms repeat inside the body before the body is stored."""
    clean = redact_body(body, BODY_SECRETS)
    if clean is None:
        return text
    redacted = json.dumps(clean, ensure_ascii=False)
    try:
        redacted.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800) in a value: keep it escaped
        return json.dumps(clean)
    return redacted


def _accept(platform, source, body, text, headers, location, remote_addr) -> Received:
    try:
        event = source.parse(body)
    except InvalidPayload as exc:
        key = exc.dedupe_key or f"invalid:sha256:{hashlib.sha256(text.encode()).hexdigest()}"
        existing = _find(platform, key)
        if existing is not None and (existing.status != EVENT_FAILED or _same_body(existing, text)):
            _count_duplicate(existing)
            row = existing
        else:
            row = _store(
                platform,
                key,
                exc.event_type,
                None,
                text,
                headers,
                location,
                remote_addr,
                status=EVENT_FAILED,
                error=exc.reason,
                supersedes=existing,
            )
        log.warning("webhook %s event %s failed validation: %s", platform, row.id, exc.reason)
        return _error(422, "invalid_event", exc.reason)
    except MalformedPayload as exc:
        return _error(400, "invalid_json", exc.reason)

    existing = _find(platform, event.dedupe_key)
    supersedes = None
    if existing is not None:
        if existing.status != EVENT_FAILED:
            _count_duplicate(existing)
            return Received(200, {"status": "duplicate"}, existing.id)
        if _same_body(existing, text):
            # The platform delivered again an event we failed to process: try it now.
            _count_duplicate(existing)
            if existing.kind is None:  # failed validation at receipt: still invalid
                return Received(200, {"status": "duplicate"}, existing.id)
            status = process(existing.id)
            return Received(200, {"status": _answer(status)}, existing.id)
        # A different body under the key of a failed event is a corrected delivery (e.g. the
        # buyer's e-mail fixed): a new attempt, never a duplicate.
        supersedes = existing
    try:
        row = _store(
            platform,
            event.dedupe_key,
            event.event_type,
            event,
            text,
            headers,
            location,
            remote_addr,
            supersedes=supersedes,
        )
    except IntegrityError:  # the same event raced in from a parallel delivery
        db.session.rollback()
        existing = _find(platform, event.dedupe_key)
        _count_duplicate(existing)
        return Received(200, {"status": "duplicate"}, existing.id if existing else None)
    status = process(row.id)
    return Received(200, {"status": _answer(status)}, row.id)


def _answer(status: str) -> str:
    return "ignored" if status == EVENT_IGNORED else "accepted"


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


def _store(
    platform,
    key,
    event_type,
    event,
    text,
    headers,
    location,
    remote_addr,
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
    row = WebhookEvent(
        platform=platform,
        dedupe_key=key,
        event_type=(event_type or "unknown")[:64],
        kind=event.kind.value if event else None,
        transaction_id=event.transaction_id if event else None,
        buyer_email=event.buyer_email if event else None,
        test_origin=event.test_origin if event else None,
        raw_body=text,
        headers=_kept_headers(headers),
        auth_location=location,
        remote_addr=(remote_addr or "")[:64] or None,
        status=status,
        last_error=error,
    )
    db.session.add(row)
    db.session.flush()
    if supersedes is not None:
        supersedes.last_error = f"Substituído pela entrega corrigida #{row.id}"
    db.session.commit()
    return row


def process(event_id: int, _lock_attempt: int = 1) -> str:
    """(Re)process a stored event from its raw body. Never raises: failures are recorded.

    A locked SQLite database is waited out (the work is rolled back and done again) before
    the event would be recorded as failed.
    """
    row = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.id == event_id).with_for_update()
    )
    if row is None:
        raise LookupError(event_id)
    source = SOURCES[row.platform]
    row.attempts += 1
    attempts = row.attempts
    try:
        event = source.parse(source.decode(row.raw_body.encode("utf-8")))
        outcome = sales.apply_event(event, webhook_event_id=row.id)
        row.status = EVENT_PROCESSED if outcome.handled else EVENT_IGNORED
        row.sale_id = outcome.sale.id if outcome.sale is not None else row.sale_id
        row.last_error = outcome.note or None if not outcome.handled else None
        row.processed_at = utcnow()
        db.session.commit()
    except (InvalidPayload, MalformedPayload) as exc:
        db.session.rollback()
        _mark_failed(event_id, attempts, exc.reason)
        return EVENT_FAILED
    except SQLAlchemyError as exc:
        db.session.rollback()
        if is_lock_error(exc) and _lock_attempt < LOCK_RETRIES:
            lock_pause(_lock_attempt)
            return process(event_id, _lock_attempt + 1)
        log.exception("webhook event %s processing failed (attempt %s)", event_id, attempts)
        _mark_failed(event_id, attempts, f"{type(exc).__name__}: {exc}"[:2000])
        return EVENT_FAILED
    except Exception as exc:  # a bug must not lose the event: keep it for replay
        db.session.rollback()
        log.exception("webhook event %s processing crashed (attempt %s)", event_id, attempts)
        _mark_failed(event_id, attempts, f"{type(exc).__name__}: {exc}"[:2000])
        return EVENT_FAILED
    return row.status


def _mark_failed(event_id: int, attempts: int, error: str) -> None:
    try:
        db.session.execute(
            db.update(WebhookEvent)
            .where(WebhookEvent.id == event_id)
            .values(status=EVENT_FAILED, attempts=attempts, last_error=error)
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the failure of webhook event %s", event_id)


def replayable_ids(limit: int = 200) -> list[int]:
    """Failed (and stuck 'received') events that have attempts left, oldest first."""
    stuck_before = utcnow() - timedelta(minutes=2)  # leave in-flight events alone
    return list(
        db.session.scalars(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.kind.is_not(None),  # failed validation at receipt: replay by hand
                WebhookEvent.attempts < MAX_ATTEMPTS,
                or_(
                    WebhookEvent.status == EVENT_FAILED,
                    and_(
                        WebhookEvent.status == EVENT_RECEIVED,
                        WebhookEvent.received_at < stuck_before,
                    ),
                ),
            )
            .order_by(WebhookEvent.received_at)
            .limit(limit)
        )
    )


def replay_failed(limit: int = 200) -> dict[str, int]:
    """Retry failed (and stuck 'received') events that have attempts left."""
    counts = {"processed": 0, "ignored": 0, "failed": 0}
    for event_id in replayable_ids(limit):
        status = process(event_id)
        counts[status if status in counts else "failed"] += 1
    return counts
