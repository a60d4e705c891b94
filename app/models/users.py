"""Operators (admin) and members (buyers), password reset tokens and operator invites.

Every operator has ``role == ROLE_ADMIN`` (so ``is_admin`` keeps meaning "an operator of any
role") and one of three team roles in ``operator_role``: the owner manages the team and the
secrets, an operator does everything else, a read-only operator only looks and downloads.
"""

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

OPERATOR_OWNER = "owner"
OPERATOR_OPERATOR = "operator"
OPERATOR_READ_ONLY = "read_only"
# What a seller reads (pt-BR), in the order of the role menu.
OPERATOR_ROLES = {
    OPERATOR_OWNER: "Proprietário",
    OPERATOR_OPERATOR: "Operador",
    OPERATOR_READ_ONLY: "Somente leitura",
}


def _session_nonce() -> str:
    return secrets.token_hex(8)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_MEMBER)
    # The team role of an operator (OPERATOR_ROLES); None for buyers.
    operator_role: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Changing it logs out every session of this user (password change / reset).
    session_nonce: Mapped[str] = mapped_column(String(32), default=_session_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_owner(self) -> bool:
        return self.is_admin and self.operator_role == OPERATOR_OWNER

    @property
    def is_read_only(self) -> bool:
        """An operator who may look at everything and change nothing (an unknown role too)."""
        return self.is_admin and self.operator_role not in (OPERATOR_OWNER, OPERATOR_OPERATOR)

    @property
    def operator_role_label(self) -> str:
        return OPERATOR_ROLES.get(self.operator_role or "", OPERATOR_ROLES[OPERATOR_READ_ONLY])

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


class OperatorInvite(db.Model):
    """A single-use link that lets one e-mail address join the team with a role.

    Only the token's hash is stored; the raw link exists in the e-mail and on the page that
    created it. Accepting sets ``used_at``; the owner may revoke it before (``revoked_at``).
    """

    __tablename__ = "operator_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    operator_role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def role_label(self) -> str:
        return OPERATOR_ROLES.get(self.operator_role, self.operator_role)

    def is_pending(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
