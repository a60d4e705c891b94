"""Operators (admin) and members (buyers), and password reset tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLE_ADMIN = "admin"
ROLE_MEMBER = "member"


def _session_nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_MEMBER)
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it logs out every session of this user (password change / reset).
    session_nonce: Mapped[str] = mapped_column(String(32), default=_session_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    # The raw token of the server-side session this request runs under (not a column): set at
    # login and by the user loader, so the id Flask-Login keeps in the cookie names that record.
    session_token = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}:{self.session_token or ''}"

    def rotate_session_nonce(self) -> None:
        self.session_nonce = _session_nonce()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One logged-in browser: the cookie carries the raw token, this row its hash.

    Logout deletes the row, so a copy of the cookie taken before it stops working; other devices
    of the same user keep their own rows (a password change ends them all via the nonce).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
