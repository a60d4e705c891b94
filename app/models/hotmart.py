"""Catalogue and subscriptions synced from the platforms' REST APIs, and cached API tokens.

Sales synced from Hotmart's sales history go into the shared ``Sale`` table (one row per
platform + transaction, whichever source saw it first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import EncryptedText, UTCDateTime, utcnow


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("platform", "remote_id"),
        Index("ix_products_platform_name", "platform", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str] = mapped_column(String(64))
    ucode: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str | None] = mapped_column(String(32), index=True)
    format: Mapped[str | None] = mapped_column(String(32))
    price_cents: Mapped[int | None] = mapped_column(db.BigInteger)
    currency: Mapped[str | None] = mapped_column(String(8))
    is_subscription: Mapped[bool] = mapped_column(default=False)
    warranty_period: Mapped[int | None] = mapped_column()
    remote_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[dict | None] = mapped_column(JSON)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "platform": self.platform,
            "remote_id": self.remote_id,
            "ucode": self.ucode,
            "name": self.name,
            "status": self.status,
            "format": self.format,
            "price_cents": self.price_cents,
            "currency": self.currency,
            "is_subscription": self.is_subscription,
            "warranty_period": self.warranty_period,
            "created_at": _iso(self.remote_created_at),
            "last_sync_at": _iso(self.last_sync_at),
        }


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "subscriber_code", "product_id"),
        Index("ix_subscriptions_platform_status", "platform", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    subscriber_code: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str] = mapped_column(String(64))  # remote product id
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(255))
    product_ucode: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    plan_id: Mapped[str | None] = mapped_column(String(64))
    plan_name: Mapped[str | None] = mapped_column(String(255))
    buyer_name: Mapped[str | None] = mapped_column(String(255))
    buyer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    accession_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_next_charge: Mapped[datetime | None] = mapped_column(UTCDateTime)
    price_cents: Mapped[int | None] = mapped_column(db.BigInteger)
    currency: Mapped[str | None] = mapped_column(String(8))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ApiToken(db.Model):
    """An access token cached between requests and processes (e.g. ``hotmart:sandbox:<id>``)."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    token: Mapped[str] = mapped_column(EncryptedText)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
