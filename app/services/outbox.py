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
from app.models.outbox import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, OutboxEmail
from app.models.types import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


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
        subject=subject,
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


def _due_ids(limit: int) -> list[int]:
    stmt = (
        select(OutboxEmail.id)
        .where(OutboxEmail.status == OUTBOX_PENDING, OutboxEmail.next_attempt_at <= utcnow())
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def _claim(email_id: int) -> OutboxEmail | None:
    """Lock one due row (SKIP LOCKED on PostgreSQL so several senders never double-send)."""
    stmt = (
        select(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == OUTBOX_PENDING)
        .with_for_update(skip_locked=True)
    )
    return db.session.scalar(stmt)


def send_pending(limit: int = 100) -> dict[str, int]:
    """Deliver due e-mails; returns counts. Without SMTP configured nothing is attempted."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not smtp_configured():
        return counts
    state = current_app.extensions["mail"]
    for email_id in _due_ids(limit):
        email = _claim(email_id)
        if email is None:
            db.session.rollback()
            continue
        message = Message(
            subject=email.subject,
            recipients=[email.to_email],
            body=email.body_text,
            html=email.body_html,
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
        )
        email.attempts += 1
        try:
            with _TimeoutConnection(state) as conn:
                conn.send(message)
        except (smtplib.SMTPException, OSError) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OUTBOX_FAILED
                counts["failed"] += 1
            else:
                email.next_attempt_at = utcnow() + _backoff(email.attempts)
                counts["retry"] += 1
            log.warning(
                "e-mail %s to outbox failed (attempt %s): %s",
                email.id,
                email.attempts,
                email.last_error,
            )
        else:
            email.status = OUTBOX_SENT
            email.sent_at = utcnow()
            email.last_error = None
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
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")

    def run():
        with app.app_context():
            try:
                send_pending()
            except Exception:  # the scheduled job retries; never crash the worker thread
                log.exception("background outbox delivery failed")
            finally:
                db.session.remove()

    _executor.submit(run)
