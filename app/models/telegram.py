"""Telegram: who joined which chat through which invite link (``chat_member`` updates).

Written by ``POST /webhook/telegram`` (``app.services.telegram_webhooks``): one row per chat and
Telegram user, updated on every later status change (left, kicked, rejoined). The access
slice reads it to know a member's Telegram user id from the invite link they used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class TelegramMember(db.Model):
    __tablename__ = "telegram_members"
    __table_args__ = (UniqueConstraint("chat_id", "user_id", name="uq_telegram_members_chat_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    chat_title: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # member, left, kicked, administrator…
    # The link of the last join (a link the bot made comes back in full; "…" otherwise).
    invite_link: Mapped[str | None] = mapped_column(String(255), index=True)
    invite_link_name: Mapped[str | None] = mapped_column(String(64))
    webhook_event_id: Mapped[int | None] = mapped_column()
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
