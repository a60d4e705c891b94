"""Receive a platform webhook: verify, store durably, then process (retried if it fails).

One pass per delivery: the body is verified, JSON-decoded and normalized once; the
``NormalizedEvent`` travels with the stored row's id to whoever processes it (inline in tests,
a worker thread or ``flask worker`` process otherwise), so processing re-parses the raw body
only when the event was not handed over in memory (a replay, a restart, another process).

The service answers a domain ``Outcome``; the blueprint maps it to HTTP.

Over ~400 lines on purpose for now: receipt and the inbox-as-a-queue (claim, batch, retry)
share the dedupe and supersede rules and the row layout; the registry work splitting the
webhook sources is the moment to move the queue half into its own module.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.dialects import postgresql, sqlite
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
from app.services.queue import claim
from app.sources import SOURCES
from app.sources.base import (
    InvalidPayload,
    MalformedPayload,
    NormalizedEvent,
    clamp_key,
    decoded,
)
from app.sources.registry import body_secret_paths, redact_body

log = logging.getLogger(__name__)

# Body key paths that carry a webhook credential (Hotmart hottok, Kirvano token, …).
BODY_SECRETS = body_secret_paths()
# Header values worth keeping with the raw event (never the ones that carry secrets).
KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "traceparent", "x-forwarded-for")
MAX_ATTEMPTS = 10


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


def _kept_headers(headers: Mapping[str, str]) -> dict:
    lower = {k.lower(): v for k, v in headers.items()}
    return {name: lower[name][:500] for name in KEPT_HEADERS if name in lower}


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
    dialect = db.session.get_bind().dialect.name
    if dialect not in _INSERTS:  # another database: the portable way
        try:
            row = WebhookEvent(**values)
            db.session.add(row)
            db.session.commit()
            return row.id
        except IntegrityError:
            db.session.rollback()
            return None
    row_id = db.session.connection().execute(_insert_statement(dialect), values).scalar()
    if row_id is not None:
        db.session.commit()  # a duplicate goes on in the same transaction (counted, one commit)
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


def _outcome_values(row: WebhookEvent, event: NormalizedEvent | None) -> dict:
    """Apply ``row``'s event to the sales (no commit); the columns of ``row`` to record."""
    if row.platform == "kommo":  # CRM changes, not sales (app.services.kommo_webhooks)
        from app.services import kommo_webhooks

        kommo_webhooks.apply_row(row)
        return {
            "status": row.status,
            "sale_id": row.sale_id,
            "last_error": row.last_error,
            "processed_at": row.processed_at,
        }
    if row.platform == "telegram":  # Bot API updates (app.services.telegram_webhooks)
        from app.services import telegram_webhooks

        telegram_webhooks.apply_row(row)
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


def _mark_failed(event_id: int, attempts: int, error: str) -> None:
    """Record the failure; a worker retries it after the back-off (``replay`` by hand at once)."""
    try:
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
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the failure of webhook event %s", event_id)
        return
    if attempts >= MAX_ATTEMPTS:  # out of automatic retries: a person must look at it
        from app.services import telegram_notify

        reason = f"evento #{event_id} ({error[:300]}); veja /webhooks/{event_id}"
        telegram_notify.failure_committed("webhook falhou", str(event_id), reason)


# ---------------------------------------------------------------------------------------------
# The inbox as a queue: workers claim due events (app.worker, ``flask worker``)

PENDING = (EVENT_RECEIVED, EVENT_FAILED)
# A sweep or a replay (events no hand-over brought: failed ones, or ones whose process died)
# counts the attempt durably before processing, under this lease: a poison event that kills
# its processing is not retried forever (MAX_ATTEMPTS, then failed, visible and replayable).
PROCESS_LEASE = timedelta(minutes=2)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# A just-stored event is handed in memory to a worker thread of the process that stored it;
# a sweep leaves it to that thread this long (then it was lost with its process: claim it).
HANDOFF_GRACE = timedelta(seconds=30)


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


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
    return and_(WebhookEvent.kind.is_not(None), due)  # kind NULL: failed validation at receipt


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
