"""Outgoing e-mail, written in the same transaction as the change that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import EncryptedText, UTCDateTime, utcnow

OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"  # gave up after the maximum attempts; a retry button re-queues it
OUTBOX_CANCELLED = "cancelled"  # what it announced no longer held when its turn came (refund…)


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # activation, purchase_added, password_reset…
    to_email: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    # Encrypted: until sent they hold a single-use link (wiped once delivered).
    body_text: Mapped[str] = mapped_column(EncryptedText)
    body_html: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(16), default=OUTBOX_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optional link to what caused the e-mail (e.g. an activation link id).
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column()
