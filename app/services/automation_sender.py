"""Delivers the automation outbox (``automation_deliveries``) to the outbound APIs.

Claimed with ``app.services.queue.claim`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) under a
send lease, as the e-mail outbox does: overlapping senders — the kick after a commit, the
scheduled job, ``flask --app wsgi automations send``, the worker threads — never send one
step twice. Retries with back-off on 429 (the whole account's budget pauses; not counted as an
attempt), 5xx, timeouts and connection errors, and on a refused token (fixing it in Settings
lets them through); never on a 4xx validation error, which fails at once with the API's
message for ``/automacoes``.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import aliased

from app import worker
from app.clients.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UpstreamError,
)
from app.extensions import db
from app.models.automation import (
    DELIVERY_CANCELLED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    TARGET_GESTAO_CLICK,
    TARGET_KOMMO,
    AutomationDelivery,
)
from app.models.types import utcnow
from app.services import automation_stale, automations
from app.services.kicker import Kicker
from app.services.queue import claim

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # 30 s doubling to 1 h: about 5 hours of an API outage
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
SEND_LEASE = timedelta(minutes=5)  # a sender that dies mid-step frees its row after this
BLOCK_PAUSE = timedelta(minutes=15)  # Kommo's 403 abuse block: hammering it extends it
DEFAULT_RATE_WAIT = 60.0
MAX_ERROR = 2000


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


# target → "module:Class" of its pusher (``deliver(d)``, ``pause(seconds)``, ``close()``).
PUSHERS = {
    TARGET_KOMMO: "app.services.kommo_push:KommoPusher",
    TARGET_GESTAO_CLICK: "app.services.gestao_click_push:GestaoClickPusher",
    "telegram": "app.services.telegram_notify:TelegramNotifier",
    "telegram_access": "app.services.telegram_access:TelegramAccessPusher",
}


def _pusher(target: str):
    from importlib import import_module

    module, _, name = PUSHERS[target].partition(":")
    return getattr(import_module(module), name)()


def _claim_next(target: str, counts: dict[str, int] | None = None) -> AutomationDelivery | None:
    """The next due delivery of ``target``, leased to this sender; one whose announcement no
    longer holds (``automation_stale``) is cancelled in the claiming transaction instead, and
    the next one is taken."""
    while True:
        delivery = _claim_one(target)
        if delivery is None:
            return None
        try:
            reason = automation_stale.stale_reason(delivery)
        except Exception:  # a broken check must not hold the queue: the row is simply sent
            log.exception("stale check of automation %s failed; sending it", delivery.id)
            reason = None
        if reason is None:
            db.session.commit()  # the lease is what keeps other senders off; let go of the lock
            return delivery
        delivery.status, delivery.last_error = DELIVERY_CANCELLED, reason
        db.session.commit()
        log.info("automation %s (%s/%s) cancelled: %s", delivery.id, target, delivery.step, reason)
        if counts is not None:
            counts["cancelled"] += 1


def _claim_one(target: str) -> AutomationDelivery | None:
    """Lease one due delivery of ``target`` (not committed unless there is none)."""
    now = utcnow()
    # One buyer at a time: a sender busy with this buyer's other sale (its lease still on)
    # may be creating the contact, so this one waits instead of creating a second. The buyer
    # is the same by e-mail, CPF/CNPJ or phone, or the same sale (a buyer with none of them);
    # NULL keys match nothing.
    other = aliased(AutomationDelivery)
    same_buyer = or_(
        other.buyer_email == AutomationDelivery.buyer_email,
        other.buyer_document == AutomationDelivery.buyer_document,
        other.buyer_phone == AutomationDelivery.buyer_phone,
        other.sale_id == AutomationDelivery.sale_id,
    )
    busy_buyer = (
        select(other.id)
        .where(
            other.target == target,
            same_buyer,
            other.status == DELIVERY_SENDING,
            other.next_attempt_at > now,
            other.id != AutomationDelivery.id,
        )
        .exists()
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Claims of one target one at a time (a lock held until this claim commits): the
        # busy-buyer check then sees the other sender's claim, so two senders never take two
        # sales of one buyer at once (SQLite's write lock already serializes them).
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"automation-claim:{target}"},
        )
    ids = claim(
        AutomationDelivery,
        and_(
            AutomationDelivery.target == target,
            AutomationDelivery.status.in_((DELIVERY_PENDING, DELIVERY_SENDING)),
            AutomationDelivery.next_attempt_at <= now,
            ~busy_buyer,
        ),
        order_by=(AutomationDelivery.next_attempt_at, AutomationDelivery.id),
        values={
            "status": DELIVERY_SENDING,
            "next_attempt_at": now + SEND_LEASE,
            "attempts": AutomationDelivery.attempts + 1,
        },
    )
    if not ids:
        db.session.commit()
        return None
    return db.session.get(AutomationDelivery, ids[0], populate_existing=True)


def send_pending(limit: int = 100) -> dict[str, int]:
    """Deliver due pushes of every switched-on target; returns counts."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
    for target in automations.enabled_targets():
        _send_target(target, limit, counts)
    return counts


def _send_target(target: str, limit: int, counts: dict[str, int]) -> None:
    pusher = None
    try:
        for _ in range(limit):
            started = time.monotonic()
            delivery = _claim_next(target, counts)
            if delivery is None:
                return
            if pusher is None:
                pusher = _pusher(target)
            if not _deliver_one(pusher, delivery, counts):
                return  # the API says stop (429, block, refused token): the rest waits too
            worker.yield_to_ingest(time.monotonic() - started)  # deliveries being answered first
    finally:
        if pusher is not None:
            pusher.close()


def _deliver_one(pusher, d: AutomationDelivery, counts: dict[str, int]) -> bool:
    """One step; the outcome recorded and committed. False: stop this target's run."""
    from app.services.kommo_push import Cancel, Defer

    keep_going = True
    try:
        outcome = pusher.deliver(d)
    except RateLimitError as exc:
        db.session.rollback()
        wait = float(exc.retry_after or DEFAULT_RATE_WAIT)
        pusher.pause(wait)
        d.attempts = max(0, d.attempts - 1)  # the API asked us to wait: not a failed try
        _retry(d, exc.queue_note, timedelta(seconds=wait), counts)
        keep_going = False
    except (AuthenticationError, PaymentRequiredError, PermissionDeniedError) as exc:
        db.session.rollback()
        wait = BLOCK_PAUSE if isinstance(exc, PermissionDeniedError) else backoff(d.attempts)
        _retry(d, exc.message, wait, counts)
        keep_going = False
    except (APIConnectionError, UpstreamError) as exc:  # timeouts, 5xx: maybe applied
        db.session.rollback()
        _retry(d, exc.message, backoff(d.attempts), counts)
    except APIError as exc:  # 400/404/422: the request itself is refused, never retried
        db.session.rollback()
        d.status, d.last_error = DELIVERY_FAILED, exc.message[:MAX_ERROR]
        d.next_attempt_at = utcnow()
        counts["failed"] += 1
        log.warning("automation %s (%s/%s) refused: %s", d.id, d.target, d.step, exc.message)
        _notify_failed(d)
    except Exception as exc:  # a bug must not lose the delivery: kept for a retry
        db.session.rollback()
        log.exception("automation %s (%s/%s) crashed", d.id, d.target, d.step)
        _retry(d, f"Erro interno: {type(exc).__name__}: {exc}", backoff(d.attempts), counts)
    else:
        if isinstance(outcome, Defer):
            d.status, d.last_error = DELIVERY_PENDING, outcome.reason
            d.attempts = max(0, d.attempts - 1)
            d.next_attempt_at = utcnow() + timedelta(seconds=outcome.seconds)
            counts["retry"] += 1
        elif isinstance(outcome, Cancel):
            d.status, d.last_error = DELIVERY_CANCELLED, outcome.reason
            counts["cancelled"] += 1
        else:
            d.status, d.last_error, d.sent_at = DELIVERY_SENT, None, utcnow()
            counts["sent"] += 1
    db.session.commit()
    return keep_going


def _retry(d: AutomationDelivery, message: str, wait: timedelta, counts: dict[str, int]) -> None:
    d.last_error = message[:MAX_ERROR]
    if d.attempts >= MAX_ATTEMPTS:
        d.status = DELIVERY_FAILED
        counts["failed"] += 1
        _notify_failed(d)
    else:
        d.status = DELIVERY_PENDING
        d.next_attempt_at = utcnow() + wait
        counts["retry"] += 1
    log.warning("automation %s (%s/%s) attempt %s: %s", d.id, d.target, d.step, d.attempts, message)


def _notify_failed(d: AutomationDelivery) -> None:
    """A push that failed for good tells the operator on Telegram (not a notification's own)."""
    if d.target == "telegram":
        return
    from app.services import telegram_notify

    what = f"automação {d.target}/{d.step}"
    reason = f"{d.buyer_email or 'sem e-mail'}: {d.last_error or ''}"
    telegram_notify.delivery_failed(what, str(d.id), reason)


def retry(d: AutomationDelivery) -> bool:
    """The operator's "Tentar de novo": a failed (or waiting) delivery due now."""
    if d.status in (DELIVERY_SENT, DELIVERY_CANCELLED, DELIVERY_SENDING):
        return False
    d.status, d.next_attempt_at = DELIVERY_PENDING, utcnow()
    if d.attempts >= MAX_ATTEMPTS:
        d.attempts = MAX_ATTEMPTS - 1
    from app import events

    events.mark_automations_queued()
    return True


def retry_failed(target: str | None = None) -> int:
    rows = db.session.scalars(
        db.select(AutomationDelivery).where(
            AutomationDelivery.status == DELIVERY_FAILED,
            *((AutomationDelivery.target == target,) if target else ()),
        )
    ).all()
    return sum(retry(row) for row in rows)


# Deliver what is due, off the request path unless ``AUTOMATIONS_IN_BACKGROUND`` is off (the
# tests). Called by the session's ``after_commit`` hook (``app.events``).
kick = Kicker("automations", send_pending, background_setting="AUTOMATIONS_IN_BACKGROUND")
