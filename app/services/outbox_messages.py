"""Outgoing e-mail as data: render and queue a message in the caller's transaction, build
its MIME form, and tell whether what it announces still holds (a revoked link, a refunded
sale, a used reset token cancel it before sending). ``app.services.outbox`` claims and sends
(and re-exports these names).
"""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app, render_template
from sqlalchemy import select

from app import events
from app.extensions import db
from app.models.outbox import OutboxEmail
from app.models.types import utcnow
from app.services import mail_settings

SINGLE_USE_REFS = ("activation_link", "password_reset", "operator_invite")


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
    events.mark_outbox_queued()
    return email


def build_message(
    email: OutboxEmail, smtp: mail_settings.SmtpSettings | None = None
) -> EmailMessage:
    """A standards-conforming MIME message: RFC 2047 headers folded under 78 columns, and the
    bodies in quoted-printable/base64 whenever a line would pass SMTP's 998-octet limit (long or
    emoji-rich buyer and product names)."""
    message = mail_settings.new_message(
        smtp or mail_settings.current(), email.to_email, clean_subject(email.subject)
    )
    message.set_content(email.body_text, cte=_cte(email.body_text))
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html", cte=_cte(email.body_html))
    return message


def _cte(body: str) -> str:
    """8bit reads best in raw form; a line over 998 octets must be encoded."""
    too_long = any(len(line.encode("utf-8")) > 900 for line in body.splitlines())
    return "quoted-printable" if too_long else "8bit"


def _stale_reason(email: OutboxEmail) -> str | None:
    """Why ``email`` must not be sent any more, or ``None`` when what it announces still holds.

    Activation e-mail: its link is still pending, unexpired and addressed to this mailbox.
    "Compra adicionada": the sale still grants access. Password reset: the token is unused and
    unexpired. Operator invite: still pending (not used, revoked nor expired). Other kinds have
    nothing to check.
    """
    from app.models import ActivationLink, OperatorInvite, PasswordResetToken, Sale, User
    from app.models.activation import LINK_PENDING
    from app.models.sales import GRANTING_STATUSES

    now = utcnow()
    if email.ref_type == "activation_link":
        link = db.session.get(ActivationLink, email.ref_id) if email.ref_id else None
        if link is None or link.status != LINK_PENDING:
            return "Link de ativação revogado ou substituído antes do envio"
        if link.expires_at <= now:
            return "Link de ativação expirado antes do envio"
        if link.buyer_email != email.to_email:
            return "E-mail do comprador corrigido antes do envio"
        return None
    if email.ref_type == "sale":
        sale = db.session.get(Sale, email.ref_id) if email.ref_id else None
        if sale is None or sale.status not in GRANTING_STATUSES:
            return "Compra reembolsada ou cancelada antes do envio"
        return None
    if email.ref_type == "password_reset":
        token = db.session.get(PasswordResetToken, email.ref_id) if email.ref_id else None
        if token is not None and token.user.email != email.to_email:
            token = None  # rows queued before the token id was kept held the user id
        if token is None:
            token = db.session.scalar(
                select(PasswordResetToken)
                .join(PasswordResetToken.user)
                .where(User.email == email.to_email)
                .order_by(PasswordResetToken.id.desc())
                .limit(1)
            )
        if token is None or token.used_at is not None or token.expires_at <= now:
            return "Link de nova senha usado ou expirado antes do envio"
    if email.ref_type == "operator_invite":
        invite = db.session.get(OperatorInvite, email.ref_id) if email.ref_id else None
        if invite is None or not invite.is_pending(now):
            return "Convite de operador usado, cancelado ou expirado antes do envio"
    return None


def clean_subject(subject: str) -> str:
    """One line (a CR/LF would be refused as a header injection), at most 255 characters."""
    return " ".join(subject.split())[:255]
