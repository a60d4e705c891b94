"""Server-side login sessions: one row per logged-in browser, removed at logout."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from app import crypto
from app.extensions import db
from app.models import User, UserSession
from app.models.types import utcnow


def open_session(user: User) -> str:
    """A fresh session record for this login (never reuses a token: no fixation); commits."""
    now = utcnow()
    # Housekeeping: this user's lapsed records go away on their next login.
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    token = crypto.new_token()
    days = int(current_app.config.get("SESSION_LIFETIME_DAYS", 30))
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=crypto.token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    db.session.commit()
    user.session_token = token
    return token


def is_open(user_id: int, token: str) -> bool:
    if not token:
        return False
    row = db.session.scalar(
        select(UserSession.expires_at).where(
            UserSession.token_hash == crypto.token_hash(token), UserSession.user_id == user_id
        )
    )
    return row is not None and row > utcnow()


def close_session(token: str | None) -> None:
    """Logout: the record goes, so any copy of that cookie is dead; commits."""
    if not token:
        return
    db.session.execute(
        delete(UserSession).where(UserSession.token_hash == crypto.token_hash(token))
    )
    db.session.commit()


def close_all(user: User) -> None:
    """Every session of the user ends (password change/reset); the caller commits."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
