"""E-mail outbox: queue in the caller's transaction, deliver later with retries.

This module claims and sends (batches over one SMTP connection, back-off, leases, the
background kick); rendering, MIME building and the "still worth sending?" checks are in
``app.services.outbox_messages`` and re-exported here.
"""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import and_, case, select, update
from sqlalchemy.exc import SQLAlchemyError

from app import events, worker
from app.database import database_unavailable, retry_on_lock
from app.extensions import db
from app.models.outbox import (
    OUTBOX_CANCELLED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OutboxEmail,
)
from app.models.types import utcnow
from app.services import mail_settings
from app.services.kicker import Kicker
from app.services.outbox_messages import (  # noqa: F401 - re-exported
    SINGLE_USE_REFS,
    _cte,
    _stale_reason,
    build_message,
    clean_subject,
    queue,
)
from app.services.queue import claim

log = logging.getLogger(__name__)

# Back-off doubles from 30 s up to 6 h: 20 attempts keep retrying for about 2.6 days (an MTA's
# queue lifetime), so an SMTP outage of hours or a weekend never turns into a given-up e-mail.
# (8 attempts gave up after ~64 minutes of outage.)
MAX_ATTEMPTS = 20
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)


def smtp_configured() -> bool:
    """Is outgoing e-mail set up (Settings page or ``SMTP_HOST``)? Reads the database."""
    return mail_settings.current().configured


def _backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


SEND_LEASE = timedelta(minutes=10)  # a sender that dies mid-send frees its rows after this
RECORD_PATIENCE = SEND_LEASE / 2  # how long a sent e-mail's result waits for the database
REDACTED_BODY = "[conteúdo removido após o envio: continha um link de uso único]"
_OUTBOX = OutboxEmail.__table__


SEND_BATCH = 20  # e-mails a sender claims at once (one commit) and sends over one connection


def _claim_batch(limit: int, counts: dict[str, int], smtp) -> tuple[list[_Outgoing], int]:
    """Take up to ``limit`` due e-mails (``queue.claim``: two senders never take the same row)
    under a send lease, in one transaction that also cancels those no longer worth sending.
    The ones to send (detached before the commit, so it does not expire them; their messages
    built after it), and how many were claimed."""
    now = utcnow()
    ids = claim(
        OutboxEmail,
        and_(
            OutboxEmail.status.in_((OUTBOX_PENDING, OUTBOX_SENDING)),
            OutboxEmail.next_attempt_at <= now,
        ),
        order_by=(OutboxEmail.next_attempt_at, OutboxEmail.id),
        values={
            "status": OUTBOX_SENDING,
            "next_attempt_at": now + SEND_LEASE,
            "attempts": OutboxEmail.attempts + 1,
        },
        limit=limit,
    )
    if not ids:
        db.session.commit()
        return [], 0
    emails = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id.in_(ids))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .execution_options(populate_existing=True)
    ).all()
    kept = []
    for email in emails:
        stale = _stale_reason(email)
        if stale is None:
            kept.append(email)
            continue
        # Decided in the claiming transaction: what the message announces no longer holds.
        email.status, email.last_error = OUTBOX_CANCELLED, stale
        if email.ref_type in SINGLE_USE_REFS:
            email.body_text = email.body_html = REDACTED_BODY
        counts["cancelled"] += 1
        log.info("e-mail %s cancelled before sending: %s", email.id, stale)
    for email in kept:  # kept as read: the commit below must not expire them
        db.session.expunge(email)
    db.session.commit()  # the write lock is free again before the messages are built
    return [_Outgoing.of(email, smtp) for email in kept], len(emails)


_CANCELLED = object()


def _refused_for_this_message(exc: BaseException) -> bool:
    """A definitive refusal of this message (its recipient, or a 5xx answer to its content);
    anything else — the connection, the login, the settings — is worth retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600


def send_pending(limit: int = 100) -> dict[str, int]:
    """Deliver due e-mails; returns counts. Without SMTP configured nothing is attempted.

    A batch is claimed in one commit and sent over one SMTP connection; each e-mail the server
    accepts is committed as sent before the next goes out (``_Results``), so a sender killed
    mid-batch re-sends at most the one message it had in flight (after its send lease):
    delivery is at-least-once on SIGKILL, never more than one duplicate per sender."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
    smtp = mail_settings.current()
    if not smtp.configured:
        return counts
    done = 0
    while done < limit:
        asked = min(SEND_BATCH, limit - done)
        cancelled = {"cancelled": 0}
        batch, claimed = retry_on_lock(
            lambda asked=asked, cancelled=cancelled: _claim_batch(asked, cancelled, smtp),
            what="outbox claim",
        )
        counts["cancelled"] += cancelled["cancelled"]
        if not claimed:
            break
        done += claimed
        started = time.monotonic()
        if batch and not _send_batch(batch, smtp, counts):
            break
        worker.yield_to_ingest(time.monotonic() - started)  # deliveries being answered first
        if claimed < asked:
            break  # nothing else was due (what is queued after this run is kicked anew)
    return counts


class _Results:
    """The results of a batch's e-mails. An e-mail the SMTP server accepted is recorded and
    committed at once, before the next message is handed over (one single-row UPDATE): a
    sender killed (SIGKILL) mid-batch has at most the one message in flight, accepted but
    not recorded, to send again after its send lease. The other outcomes (a retry, a message
    that cannot be built) ride along with that commit, or the batch's last one."""

    def __init__(self):
        self.pending: list[tuple[_Outgoing, dict]] = []

    def add(self, item: _Outgoing, **values) -> None:
        self.pending.append((item, values))
        if values.get("status") == OUTBOX_SENT:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return

        def write() -> None:
            # Core statements on the tables (no ORM evaluation of the session's objects).
            for item, values in pending:
                db.session.execute(_OUTBOX.update().where(_OUTBOX.c.id == item.id).values(**values))
                if values.get("status") == OUTBOX_SENT:
                    _mark_reference_sent(item, values["sent_at"])
            db.session.commit()

        what = f"results of {len(pending)} outbox e-mails"
        if not any(values.get("status") == OUTBOX_SENT for _item, values in pending):
            retry_on_lock(write, what=what)
            return
        # An e-mail the server accepted, not yet recorded: if the database is away now, its
        # result waits for it (sending nothing more meanwhile) rather than leave the row to
        # its send lease and the buyer to a second copy — up to half that lease.
        deadline = time.monotonic() + RECORD_PATIENCE.total_seconds()
        pause = 0.5
        while True:
            try:
                retry_on_lock(write, what=what)
                return
            except SQLAlchemyError as exc:
                if not database_unavailable(exc) or time.monotonic() + pause > deadline:
                    raise
                log.warning("database away while recording %s; waiting %.1f s", what, pause)
                try:
                    db.session.rollback()
                except SQLAlchemyError:  # the connection is gone: nothing to undo
                    pass
                time.sleep(pause)
                pause = min(pause * 2, 15.0)


def _send_batch(items: list[_Outgoing], smtp, counts: dict[str, int]) -> bool:
    """Send ``batch`` over one connection, recording the results as they are known (``_Results``);
    False when the server or the connection failed (the e-mails behind the failed one go back to
    the queue, due, their attempt given back). Whatever stops the run half-way releases the
    e-mails it had not tried yet, instead of leaving them to their send lease."""
    host = None
    done = 0
    results = _Results()
    try:
        for item in items:
            if item.message is None:  # this message cannot be built: retrying will not help
                results.add(item, status=OUTBOX_FAILED, last_error=item.error)
                counts["failed"] += 1
                done += 1
                continue
            try:
                if host is None:
                    host = mail_settings.connect(smtp)
                host.send_message(item.message)
            except Exception as exc:  # one bad message must never block the ones behind it
                error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning(
                    "e-mail %s from the outbox failed (attempt %s): %s",
                    item.id,
                    item.attempts,
                    error,
                )
                if _refused_for_this_message(exc) or item.attempts >= MAX_ATTEMPTS:
                    results.add(item, status=OUTBOX_FAILED, last_error=error)
                    results.flush()  # the failure committed before the operator is told
                    _notify_failed(item, error)
                    counts["failed"] += 1
                    done += 1
                    continue
                # The server, the connection or the settings (a mistyped host, a wrong
                # password): a fix or a recovery makes it go through later. The e-mails behind
                # it would fail the same way, so they keep their attempts for then.
                results.add(
                    item,
                    status=OUTBOX_PENDING,
                    last_error=error,
                    next_attempt_at=utcnow() + _backoff(item.attempts),
                )
                counts["retry"] += 1
                done += 1
                return False
            values = {"status": OUTBOX_SENT, "sent_at": utcnow(), "last_error": None}
            if item.ref_type in SINGLE_USE_REFS:
                values["body_text"] = values["body_html"] = REDACTED_BODY  # no live token at rest
            # Counted before it is recorded: a sent e-mail whose result fails to write is not
            # handed back as due now (it waits for its send lease instead of going out again).
            done += 1
            counts["sent"] += 1
            results.add(item, **values)
    finally:
        try:
            results.flush()
        finally:
            _release([item.id for item in items[done:]])
        if host is not None:
            try:
                host.quit()
            except Exception:  # noqa: BLE001 - the messages are recorded; the close is moot
                host.close()
    return True


@dataclass(frozen=True)
class _Outgoing:
    """What sending one claimed e-mail needs, read before the first commit of the batch."""

    id: int
    attempts: int
    ref_type: str | None
    ref_id: int | None
    message: EmailMessage | None
    error: str | None = None

    @classmethod
    def of(cls, email: OutboxEmail, smtp) -> _Outgoing:
        try:
            message, error = build_message(email, smtp), None
        except Exception as exc:  # noqa: BLE001 - recorded as failed by the sender
            log.exception("e-mail %s from the outbox cannot be built", email.id)
            message, error = None, f"{type(exc).__name__}: {exc}"[:2000]
        return cls(email.id, email.attempts, email.ref_type, email.ref_id, message, error)


def _notify_failed(item: _Outgoing, error: str) -> None:
    """An e-mail that failed for good tells the operator on Telegram (when configured)."""
    from app.services import telegram_notify

    to = item.message["To"] if item.message is not None else "?"
    telegram_notify.failure_committed("e-mail não entregue", str(item.id), f"{to}: {error}")


def _release(ids: list[int]) -> None:
    """Claimed, never tried: back to the queue, due now, the claim's attempt given back."""
    if not ids:
        return

    def write() -> None:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(ids), OutboxEmail.status == OUTBOX_SENDING)
            .values(
                status=OUTBOX_PENDING,
                next_attempt_at=utcnow(),
                attempts=case((OutboxEmail.attempts > 0, OutboxEmail.attempts - 1), else_=0),
            )
        )
        db.session.commit()

    try:
        db.session.rollback()
        retry_on_lock(write, what="outbox release")
    except Exception:  # noqa: BLE001 - their send lease frees them later
        db.session.rollback()
        log.exception("could not give back %s claimed e-mails", len(ids))


def _mark_reference_sent(email, sent_at) -> None:
    if email.ref_type == "activation_link" and email.ref_id:
        from app.models import ActivationLink

        links = ActivationLink.__table__
        db.session.execute(
            links.update()
            .where(links.c.id == email.ref_id, links.c.sent_at.is_(None))
            .values(sent_at=sent_at)
        )


def retry(email: OutboxEmail) -> None:
    """Operator's retry button: queue a failed or delayed e-mail for immediate delivery."""
    if email.status in (OUTBOX_SENT, OUTBOX_CANCELLED):
        return
    email.status = OUTBOX_PENDING
    email.next_attempt_at = utcnow()
    if email.attempts >= MAX_ATTEMPTS:
        email.attempts = MAX_ATTEMPTS - 1
    events.mark_outbox_queued()


def _senders(app) -> int:
    return int(app.config.get("OUTBOX_SENDERS", 2))


# Deliver what is due, off the request path unless ``SEND_MAIL_IN_BACKGROUND`` is off. Called
# by the session's ``after_commit`` hook (``app.events``) whenever a transaction that queued
# mail commits; nobody else needs to call it. Whether e-mail is configured is read by the
# delivery itself (no SQL may run inside the caller's after_commit hook).
kick = Kicker(
    "outbox",
    send_pending,
    background_setting="SEND_MAIL_IN_BACKGROUND",
    workers=_senders,
)
