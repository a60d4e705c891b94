"""The last connection outcome of each API integration (the page's status card)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class IntegrationCheck(db.Model):
    """One row per API integration: how its last "Testar conexão" or sync went.

    ``fingerprint`` is a keyed hash of the credentials it used (never the credentials), so a
    change of credentials makes the outcome stale: the page asks for a new test."""

    __tablename__ = "integration_checks"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="test")  # test | sync
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
