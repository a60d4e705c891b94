"""Single-use activation links e-mailed to buyers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.sales import Sale
from app.models.types import UTCDateTime, utcnow

LINK_PENDING = "pending"
LINK_USED = "used"
LINK_EXPIRED = "expired"
LINK_REVOKED = "revoked"
LINK_STATUSES = (LINK_PENDING, LINK_USED, LINK_EXPIRED, LINK_REVOKED)

REASON_REPLACED = "replaced"  # a resend issued a fresh token
REASON_EMAIL_CHANGED = "email_changed"


USED_HOURS_PG = "(floor(EXTRACT(epoch FROM used_at - created_at) / 3600::numeric)::integer)"


class ActivationLink(db.Model):
    __tablename__ = "activation_links"
    __table_args__ = (
        Index("ix_activation_links_sale_email_status", "sale_id", "buyer_email", "status"),
        Index("ix_activation_links_status_expires", "status", "expires_at"),
        Index("ix_activation_links_created_id", "created_at", "id"),
        Index("ix_activation_links_email_id", "buyer_email", "id"),  # /ativacoes sort
        # Covers the median time to activate (used links by creation time).
        Index(
            "ix_activation_links_status_created_used",
            "status",
            "created_at",
            "used_at",
            "is_test",
            "revoked_reason",
        ),
        # Covers the exact values of the median's hour (app.services.stats.median_time_to_activate).
        # The expression is per dialect: the migration creates SQLite's own (julianday), which
        # SQLite cannot reflect, so only PostgreSQL's is declared and compared here.
        Index(
            "ix_activation_links_used_hour",
            "status",
            text(USED_HOURS_PG),
            "created_at",
            "used_at",
            "is_test",
            "revoked_reason",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    buyer_email: Mapped[str] = mapped_column(String(254), index=True)
    buyer_name: Mapped[str | None] = mapped_column(String(255))
    # Denormalized for fast stats by platform and product.
    platform: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str | None] = mapped_column(String(255))
    product_name: Mapped[str | None] = mapped_column(String(255))
    # Copied from the sale: links of test sales stay out of the funnel and conversion stats.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=db.false())
    status: Mapped[str] = mapped_column(String(16), default=LINK_PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    open_count: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("activation_links.id", ondelete="SET NULL")
    )

    sale: Mapped[Sale] = relationship()

    def effective_status(self, now: datetime | None = None) -> str:
        """Pending links past their expiry read as expired before the cleanup job runs."""
        if self.status == LINK_PENDING and self.expires_at <= (now or utcnow()):
            return LINK_EXPIRED
        return self.status
