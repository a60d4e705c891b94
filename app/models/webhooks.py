"""The durable inbox: every received webhook, committed before we answer 2xx."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

EVENT_RECEIVED = "received"
EVENT_PROCESSED = "processed"
EVENT_IGNORED = "ignored"
EVENT_FAILED = "failed"
# A failed event replaced by a later, different delivery of the same event (a corrected body):
# kept for the record under a renamed key, never replayed.
EVENT_SUPERSEDED = "superseded"
EVENT_STATUSES = (EVENT_RECEIVED, EVENT_PROCESSED, EVENT_IGNORED, EVENT_FAILED, EVENT_SUPERSEDED)
# The events a worker may still have to process, as the partial index of them spells it (a
# claim names this very condition, literally, so SQLite's planner sees the index applies).
PENDING_CONDITION = "status IN ('received', 'failed')"


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("platform", "dedupe_key"),
        Index("ix_webhook_events_status_received", "status", "received_at"),
        Index("ix_webhook_events_received_id", "received_at", "id"),
        # /webhooks header sorts.
        Index("ix_webhook_events_platform_id", "platform", "id"),
        Index("ix_webhook_events_status_id", "status", "id"),
        Index("ix_webhook_events_platform_received", "platform", "received_at", "id"),
        # The events still to process, by id: what every worker claim and idle poll reads
        # (app.services.webhook_queue). Partial, so its size is the backlog's, not the
        # inbox's: without it SQLite walked every event ever received on each claim.
        Index(
            "ix_webhook_events_pending",
            "id",
            sqlite_where=text(PENDING_CONDITION),
            postgresql_where=text(PENDING_CONDITION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    transaction_id: Mapped[str | None] = mapped_column(String(255), index=True)
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    raw_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    auth_location: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=EVENT_RECEIVED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A failed event is retried by a worker from this time on (back-off); None: due now.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duplicates: Mapped[int] = mapped_column(default=0)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales.id", ondelete="SET NULL"))
    # "platform" (the platform's own test tool) or "panel" ("Enviar teste"); None for real ones.
    test_origin: Mapped[str | None] = mapped_column(String(16))


class WebhookRejection(db.Model):
    """Deliveries refused before storing (401), one row per platform: what the operator needs
    to fix the platform's configuration (nothing of the body is kept)."""

    __tablename__ = "webhook_rejections"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_reason: Mapped[str] = mapped_column(String(255))
    last_remote_addr: Mapped[str | None] = mapped_column(String(64))
    last_header_names: Mapped[str | None] = mapped_column(String(500))
