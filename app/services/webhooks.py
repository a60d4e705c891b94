"""Receive a platform webhook: verify, store durably, then process (retried if it fails).

One pass per delivery: the body is verified, JSON-decoded and normalized once; the
``NormalizedEvent`` travels with the stored row's id to whoever processes it (inline in tests,
a worker thread or ``flask worker`` process otherwise), so processing re-parses the raw body
only when the event was not handed over in memory (a replay, a restart, another process).

The service answers a domain ``Outcome``; the blueprint maps it to HTTP.

This module is the receipt (verify, dedupe, store) and the facade callers import: processing
one stored event lives in ``app.services.webhook_processing`` (``process``, ``_outcome_values``)
and the inbox-as-a-queue (claims, leases, batches, sweeps, replay) in
``app.services.webhook_queue``; their public names are re-exported here.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta  # noqa: F401 - re-exported (callers build graces with it)
from enum import StrEnum

from flask import current_app
from sqlalchemy import case
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.database import retry_on_lock
from app.extensions import db
from app.models import WebhookEvent
from app.models.webhooks import (
    EVENT_FAILED,
    EVENT_IGNORED,
)
from app.services import sales
from app.services import settings as settings_service
from app.services.webhook_processing import (  # noqa: F401 - re-exported
    BASE_BACKOFF,
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    _apply,
    _apply_event,
    _mark_failed,
    _outcome_values,
    backoff,
    process,
    stored_event,
)
from app.services.webhook_queue import (  # noqa: F401 - re-exported
    BATCH,
    EXHAUSTED_MESSAGE,
    HANDOFF_GRACE,
    PENDING,
    PROCESS_LEASE,
    process_batch,
    process_due,
    replay_failed,
    replayable_ids,
)
from app.services.webhook_store import (  # noqa: F401 - re-exported
    KEPT_HEADERS,
    _count_duplicate,
    _Delivery,
    _find,
    _insert_new,
    _kept_headers,
    _record_rejection,
    _same_body,
    _store,
    rejections,
)
from app.sources import SOURCES
from app.sources.base import (
    InvalidPayload,
    MalformedPayload,
    NormalizedEvent,
    decoded,
)
from app.sources.registry import body_secret_paths, redact_body

log = logging.getLogger(__name__)

# Body key paths that carry a webhook credential (Hotmart hottok, Kirvano token, …).
BODY_SECRETS = body_secret_paths()


class Outcome(StrEnum):
    """What became of one delivery (the blueprint turns it into an HTTP answer)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNAUTHORIZED = "unauthorized"  # bad or missing signature/token: nothing stored
    INVALID_ENCODING = "invalid_encoding"  # not UTF-8
    INVALID_JSON = "invalid_json"  # not a JSON object
    INVALID_EVENT = "invalid_event"  # authenticated, but lacks what its kind needs: stored failed
    UNAVAILABLE = "unavailable"  # not stored (database away): the platform must deliver again


ANSWERED = frozenset({Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.IGNORED})


@dataclass(frozen=True)
class Received:
    outcome: Outcome
    message: str = ""
    event_id: int | None = None

    @property
    def ok(self) -> bool:
        """Stored (or already stored): the platform gets a 2xx."""
        return self.outcome in ANSWERED


UNAVAILABLE_MESSAGE = "Não foi possível registrar o evento agora."


def webhook_secret(platform: str, *, fresh: bool = False) -> str | None:
    """The secret a delivery of ``platform`` must carry (cached per process, see settings)."""
    return settings_service.webhook_secret(platform, fresh=fresh)


def _verify(platform, source, raw, headers, args, body):
    """The source's verdict; a failure with the cached secret is checked once more against a
    fresh read (the secret may have changed in another process)."""
    secret = webhook_secret(platform)
    with decoded(raw, body) if isinstance(body, dict) else nullcontext():
        verdict = source.verify(raw, headers, args, secret)
        if not verdict.ok:
            fresh = webhook_secret(platform, fresh=True)
            if fresh != secret:
                verdict = source.verify(raw, headers, args, fresh)
    return verdict


def refused(
    platform: str, check, headers: Mapping[str, str], remote_addr, logger: logging.Logger
) -> Received | None:
    """The token/secret check of a non-sales webhook (Kommo, Telegram): ``check()`` gives
    (ok, reason). ``None`` when it passes; else the answer — 503 when the database that holds
    the secret is away, 401 logged on ``logger`` and recorded as a rejection."""
    try:
        ok, reason = check()
    except SQLAlchemyError:
        db.session.rollback()
        return Received(Outcome.UNAVAILABLE, UNAVAILABLE_MESSAGE)
    if ok:
        return None
    names = ", ".join(sorted({k.lower() for k in headers.keys()}))
    logger.warning("webhook %s rejected from %s: %s", platform, remote_addr, reason)
    _record_rejection(platform, reason, remote_addr, names)
    return Received(Outcome.UNAUTHORIZED, reason)


def receive(
    platform: str,
    raw: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    remote_addr: str | None = None,
    inline: bool | None = None,
) -> Received:
    """Verify, parse once, store durably (one short transaction), then hand over.

    ``inline``: process in this call (default: ``WEBHOOK_PROCESS_INLINE``), else a worker
    does it right after and the answer is ``accepted``.
    """
    source = SOURCES[platform]
    try:
        body: dict | MalformedPayload = source.decode(raw)  # the one decode of this delivery
    except MalformedPayload as exc:
        body = exc  # answered 400 only once the delivery is authenticated
    try:
        verdict = _verify(platform, source, raw, headers, args, body)
    except SQLAlchemyError:  # the secret lookup reads the database too
        db.session.rollback()
        log.exception("webhook %s: the secret could not be read", platform)
        return Received(Outcome.UNAVAILABLE, UNAVAILABLE_MESSAGE)
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
        return Received(Outcome.UNAUTHORIZED, verdict.reason)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Received(Outcome.INVALID_ENCODING, "O corpo precisa ser JSON em UTF-8.")
    if isinstance(body, MalformedPayload):
        return Received(Outcome.INVALID_JSON, body.reason)
    text = _redacted(body, text)
    try:
        event: NormalizedEvent | InvalidPayload = source.parse(body)
    except InvalidPayload as exc:
        event = exc
    except MalformedPayload as exc:
        return Received(Outcome.INVALID_JSON, exc.reason)
    delivery = _Delivery(platform, text, headers, verdict.location, remote_addr)
    try:
        if isinstance(event, InvalidPayload):
            return retry_on_lock(lambda: _reject(delivery, event), what=f"webhook {platform}")
        stored = retry_on_lock(lambda: _accept(delivery, event), what=f"webhook {platform}")
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("webhook %s could not be stored", platform)
        # Not stored: a 5xx makes the platform deliver it again later.
        return Received(Outcome.UNAVAILABLE, UNAVAILABLE_MESSAGE)
    if stored.outcome is not Outcome.ACCEPTED:
        return stored
    return Received(_dispatch(stored.event_id, event, inline), event_id=stored.event_id)


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


def _reject(delivery: _Delivery, exc: InvalidPayload) -> Received:
    """An authenticated event lacking what its kind needs: stored as failed, answered 422."""
    platform, text = delivery.platform, delivery.text
    key = exc.dedupe_key or f"invalid:sha256:{hashlib.sha256(text.encode()).hexdigest()}"
    existing = _find(platform, key)
    if existing is not None and (existing.status != EVENT_FAILED or _same_body(existing, text)):
        _count_duplicate(existing)
        row = existing
    else:
        row = _store(
            delivery,
            key,
            exc.event_type,
            None,
            status=EVENT_FAILED,
            error=exc.reason,
            supersedes=existing,
        )
    log.warning("webhook %s event %s failed validation: %s", platform, row.id, exc.reason)
    return Received(Outcome.INVALID_EVENT, exc.reason, row.id)


def _accept(delivery: _Delivery, event: NormalizedEvent) -> Received:
    """Store a new event (``ACCEPTED``: to be processed) or recognise a redelivery."""
    row_id = _insert_new(delivery, event)
    if row_id is not None:
        return Received(Outcome.ACCEPTED, event_id=row_id)
    existing = _find(delivery.platform, event.dedupe_key)
    if existing is None:  # the conflicting row went away meanwhile (a purge): store it again
        return Received(
            Outcome.ACCEPTED,
            event_id=_store(delivery, event.dedupe_key, event.event_type, event).id,
        )
    if existing.status != EVENT_FAILED:
        _count_duplicate(existing)
        return Received(Outcome.DUPLICATE, event_id=existing.id)
    if _same_body(existing, delivery.text):
        # The platform delivered again an event we failed to process: try it now.
        _count_duplicate(existing)
        if existing.kind is None:  # failed validation at receipt: still invalid
            return Received(Outcome.DUPLICATE, event_id=existing.id)
        # Due now, whatever its back-off said; a platform's redelivery earns one more attempt
        # even after the automatic ones ran out (it is answered 2xx and never sent again).
        db.session.execute(
            db.update(WebhookEvent)
            .where(WebhookEvent.id == existing.id)
            .values(
                next_attempt_at=None,
                attempts=case(
                    (WebhookEvent.attempts >= MAX_ATTEMPTS, MAX_ATTEMPTS - 1),
                    else_=WebhookEvent.attempts,
                ),
            )
        )
        db.session.commit()
        return Received(Outcome.ACCEPTED, event_id=existing.id)
    # A different body under the key of a failed event is a corrected delivery (e.g. the
    # buyer's e-mail fixed): a new attempt, never a duplicate.
    try:
        row = _store(delivery, event.dedupe_key, event.event_type, event, supersedes=existing)
    except IntegrityError:  # the same correction raced in from a parallel delivery
        db.session.rollback()
        existing = _find(delivery.platform, event.dedupe_key)
        _count_duplicate(existing)
        return Received(Outcome.DUPLICATE, event_id=existing.id if existing else None)
    return Received(Outcome.ACCEPTED, event_id=row.id)


def _dispatch(event_id: int, event: NormalizedEvent, inline: bool | None) -> Outcome:
    """Process now (``WEBHOOK_PROCESS_INLINE``, the tests' default) or hand to a worker."""
    if inline is None:
        inline = current_app.config.get("WEBHOOK_PROCESS_INLINE", True)
    if inline:
        return Outcome.IGNORED if process(event_id, event) == EVENT_IGNORED else Outcome.ACCEPTED
    from app import worker

    worker.submit_event(event_id, event)
    # The answer the inline path would give: an informational event is "ignored" (SPEC §5).
    return Outcome.IGNORED if sales.is_informational(event) else Outcome.ACCEPTED
