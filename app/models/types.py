"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator

from app import crypto


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: date | datetime | None) -> str | None:
    """A date or time as ISO 8601 text for the JSON answers (``None`` stays ``None``)."""
    return value.isoformat() if value else None


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EncryptedText(TypeDecorator):
    """Text encrypted with the app's MultiFernet; decrypted transparently on load."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else crypto.encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else crypto.decrypt(value)
