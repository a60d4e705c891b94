"""The audit log: what operators did, by whom and when. Rows are only ever inserted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One operator action. Triggers (see the migration) refuse UPDATE and DELETE.

    The actor is a plain id plus an e-mail snapshot, not a foreign key: nothing ever has to
    rewrite an entry, and it still reads right after the account changes.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_action_created", "action", "created_at"),
        Index("ix_audit_entries_actor_created", "actor_email", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column()
    # A snapshot of the e-mail, or "linha de comando" / "sistema" for non-user actors.
    actor_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} by {self.actor_email}>"
