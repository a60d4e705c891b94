"""Telegram: who joined which chat through which invite link (``chat_member`` updates).

Written by ``POST /webhook/telegram`` (``app.services.telegram_webhooks``): one row per chat and
Telegram user, updated on every later status change (left, kicked, rejoined). The access
slice reads it to know a member's Telegram user id from the invite link they used.

``telegram_invites``: the personal invite link of each member and chat
(``app.services.telegram_access``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
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


INVITE_PENDING = "pending"  # to be created (by the outbox, or on demand when /conta opens)
INVITE_ACTIVE = "active"  # created, nobody joined through it yet
INVITE_USED = "used"  # the member joined through it (their Telegram user is known)
INVITE_REVOKED = "revoked"  # access ended: the link was revoked and the member removed
INVITE_STATUSES = (INVITE_PENDING, INVITE_ACTIVE, INVITE_USED, INVITE_REVOKED)


class TelegramInvite(db.Model):
    """A member's personal invite link to one chat (``createChatInviteLink``, member_limit 1).

    One row per member and chat: "Gerar novo link" and a new purchase after a removal reuse
    the row (``generation`` + 1), so the link shown on /conta is always this row's. The
    Telegram user who joined through it is kept for the removal on a refund.
    """

    __tablename__ = "telegram_invites"
    __table_args__ = (UniqueConstraint("user_id", "chat_id", name="uq_telegram_invites_user_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[str] = mapped_column(String(64))  # as configured: -100… or @channel
    status: Mapped[str] = mapped_column(String(16), default=INVITE_PENDING)
    generation: Mapped[int] = mapped_column(default=1)
    invite_link: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    link_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # banned + unbanned

    def usable(self, now: datetime | None = None) -> bool:
        """A link the member can still join through."""
        return (
            self.status == INVITE_ACTIVE
            and bool(self.invite_link)
            and (self.expires_at is None or self.expires_at > (now or utcnow()))
        )
