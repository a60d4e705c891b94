"""E-mail outbox: queue in the caller's transaction, deliver later with retries."""

from __future__ import annotations

import logging
import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import select, update

from app.extensions import db
from app.models.outbox import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OutboxEmail,
)
from app.models.types import utcnow

log = logging.getLogger(__name__)

# Back-off doubles from 30 s up to 6 h: 20 attempts keep retrying for about 2.6 days (an MTA's
# queue lifetime), so an SMTP outage of hours or a weekend never turns into a given-up e-mail.
# (8 attempts gave up after ~64 minutes of outage.)
MAX_ATTEMPTS = 20
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_queued_runs: set[int] = set()  # apps (by id) with a background delivery queued, not started


def queue(
    kind: str,
    *,
    to: str,
    subject: str,
    context: dict,
    template: str | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
) -> OutboxEmail:
    """Render ``email/<template>.txt`` and ``.html`` and add the row to the session."""
    name = template or kind
    ctx = {"app_url": current_app.config["APP_URL"], **context}
    email = OutboxEmail(
        kind=kind,
        to_email=to,
        subject=clean_subject(subject),
        body_text=render_template(f"email/{name}.txt", **ctx),
        body_html=render_template(f"email/{name}.html", **ctx),
        ref_type=ref_type,
        ref_id=ref_id,
    )
    db.session.add(email)
    return email


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


class _TimeoutConnection(Connection):
    """Flask-Mail's connection with a socket timeout (it has none by default)."""

    def configure_host(self):
        timeout = current_app.config.get("MAIL_TIMEOUT", 10.0)
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


SEND_LEASE = timedelta(minutes=10)  # a sender that dies mid-send frees its rows after this
REDACTED_BODY = "[conteúdo removido após o envio: continha um link de uso único]"


def _due_ids(limit: int) -> list[int]:
    now = utcnow()
    stmt = (
        select(OutboxEmail.id)
        .where(
            OutboxEmail.status.in_((OUTBOX_PENDING, OUTBOX_SENDING)),
            OutboxEmail.next_attempt_at <= now,
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(stmt))
    db.session.rollback()  # end the read transaction before claiming
    return ids


def _claim(email_id: int) -> OutboxEmail | None:
    """Atomically take one due row: a conditional UPDATE, so two senders never both win."""
    now = utcnow()
    claimed = db.session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id == email_id,
            OutboxEmail.status.in_((OUTBOX_PENDING, OUTBOX_SENDING)),
            OutboxEmail.next_attempt_at <= now,
        )
        .values(
            status=OUTBOX_SENDING,
            next_attempt_at=now + SEND_LEASE,
            attempts=OutboxEmail.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    return db.session.get(OutboxEmail, email_id)


def clean_subject(subject: str) -> str:
    """One line (a CR/LF would be refused as a header injection), at most 255 characters."""
    return " ".join(subject.split())[:255]


def send_pending(limit: int = 100) -> dict[str, int]:
    """Deliver due e-mails; returns counts. Without SMTP configured nothing is attempted."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not smtp_configured():
        return counts
    state = current_app.extensions["mail"]
    for email_id in _due_ids(limit):
        email = _claim(email_id)
        if email is None:
            continue
        try:
            message = Message(
                subject=clean_subject(email.subject),
                recipients=[email.to_email],
                body=email.body_text,
                html=email.body_html,
                sender=current_app.config["MAIL_DEFAULT_SENDER"],
            )
            with _TimeoutConnection(state) as conn:
                conn.send(message)
        except Exception as exc:  # one bad message must never block the ones behind it
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            permanent = not isinstance(exc, (smtplib.SMTPException, OSError)) or isinstance(
                exc, smtplib.SMTPRecipientsRefused
            )
            if permanent or email.attempts >= MAX_ATTEMPTS:
                email.status = OUTBOX_FAILED
                counts["failed"] += 1
            else:
                email.status = OUTBOX_PENDING
                email.next_attempt_at = utcnow() + _backoff(email.attempts)
                counts["retry"] += 1
            log.warning(
                "e-mail %s from the outbox failed (attempt %s): %s",
                email.id,
                email.attempts,
                email.last_error,
            )
        else:
            email.status = OUTBOX_SENT
            email.sent_at = utcnow()
            email.last_error = None
            if email.ref_type in ("activation_link", "password_reset"):
                email.body_text = email.body_html = REDACTED_BODY  # no live token at rest
            counts["sent"] += 1
            _mark_reference_sent(email)
        db.session.commit()
    return counts


def _mark_reference_sent(email: OutboxEmail) -> None:
    if email.ref_type == "activation_link" and email.ref_id:
        from app.models import ActivationLink

        db.session.execute(
            update(ActivationLink)
            .where(ActivationLink.id == email.ref_id, ActivationLink.sent_at.is_(None))
            .values(sent_at=email.sent_at)
        )


def retry(email: OutboxEmail) -> None:
    """Operator's retry button: queue a failed or delayed e-mail for immediate delivery."""
    if email.status == OUTBOX_SENT:
        return
    email.status = OUTBOX_PENDING
    email.next_attempt_at = utcnow()
    if email.attempts >= MAX_ATTEMPTS:
        email.attempts = MAX_ATTEMPTS - 1


def kick() -> None:
    """Deliver what is due right after a commit, off the request path when configured."""
    if not smtp_configured():
        return
    app = current_app._get_current_object()
    if not app.config.get("SEND_MAIL_IN_BACKGROUND", True):
        send_pending()
        return
    global _executor
    key = id(app)
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        if key in _queued_runs:
            # A delivery queued and not started yet will see this e-mail (committed before the
            # kick): one run per burst instead of one per request, so a worker stopping after
            # a burst finishes in one run instead of being killed mid-send by its master.
            return
        _queued_runs.add(key)

    def run():
        with _executor_lock:
            _queued_runs.discard(key)  # from here on a new e-mail needs a new run
        with app.app_context():
            try:
                send_pending()
            except Exception:  # the scheduled job retries; never crash the worker thread
                log.exception("background outbox delivery failed")
            finally:
                db.session.remove()

    try:
        _executor.submit(run)
    except RuntimeError:  # interpreter shutting down: the scheduled job delivers it later
        with _executor_lock:
            _queued_runs.discard(key)
