"""Catalogue and subscriptions synced from the platforms' REST APIs, and cached API tokens.

Sales synced from Hotmart's sales history go into the shared ``Sale`` table (one row per
platform + transaction, whichever source saw it first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint, func, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import EncryptedText, UTCDateTime, iso, utcnow


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
            "created_at": iso(self.remote_created_at),
            "last_sync_at": iso(self.last_sync_at),
        }


class Subscription(db.Model):
    """A subscription: Hotmart's synced from its subscriptions API, Kiwify's and Kirvano's
    derived from their webhook sales (``app.services.subscriptions``; Kirvano sends no id, so
    ``subscriber_code`` is a digest of e-mail + product + plan)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("platform", "subscriber_code", "product_id"),
        Index("ix_subscriptions_platform_status", "platform", "status"),
        # /assinaturas: next charges and overdue lists, and the header sorts (keyset pages).
        Index("ix_subscriptions_state_next", "state", "is_test", "date_next_charge", "mrr_cents"),
        # The same with a platform or product filter.
        Index(
            "ix_subscriptions_platform_state_next",
            "platform",
            "state",
            "is_test",
            "date_next_charge",
            "mrr_cents",
        ),
        Index(
            "ix_subscriptions_product_state_next",
            "product_id",
            "state",
            "is_test",
            "date_next_charge",
            "mrr_cents",
        ),
        Index(
            "ix_subscriptions_started_id",
            func.coalesce(text("accession_date"), text("created_at")),
            "id",
        ),
        Index("ix_subscriptions_mrr_id", "mrr_cents", "id"),
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
    # Normalized (app.services.subscriptions): active | overdue | canceled | ended | pending,
    # the billing frequency, the plan's monthly value, and when it was canceled or ended.
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    frequency: Mapped[str | None] = mapped_column(String(16))
    mrr_cents: Mapped[int] = mapped_column(db.BigInteger, default=0, server_default="0")
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_test: Mapped[bool] = mapped_column(default=False, server_default=db.false())
    # What ``subscription_movements`` already counts of this subscription (None: nothing yet).
    counted_active: Mapped[bool | None] = mapped_column()
    counted_mrr_cents: Mapped[int | None] = mapped_column(db.BigInteger)
    # The plan those movements count it under ("" for none): a plan switch moves it from there.
    counted_plan_name: Mapped[str | None] = mapped_column(String(255))
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @hybrid_property
    def started_at(self):
        """The date lists sort subscriptions by: accession, else when it was recorded."""
        return self.accession_date or self.created_at

    @started_at.inplace.expression
    @classmethod
    def _started_at_expression(cls):
        return func.coalesce(cls.accession_date, cls.created_at)


class SubscriptionMovement(db.Model):
    """MRR movement per São Paulo month (``YYYY-MM``), platform, product, plan and kind
    (new, churn, reactivation, expansion, contraction): how many subscriptions and how much
    monthly value (positive cents; churn and contraction subtract). Kept by
    ``app.services.subscriptions`` as subscriptions change; the month's MRR is the running
    sum, so the reports read a few rows per month whatever the number of subscriptions."""

    __tablename__ = "subscription_movements"
    __table_args__ = (
        # One slice of the cube (platform, product, plan, each a value or "*"), by month.
        Index("ix_subscription_movements_slice", "platform", "product_id", "plan_name", "month"),
        # The product filter's choices: the per-product slices (platform and plan "*").
        Index("ix_subscription_movements_products", "platform", "plan_name", "product_id"),
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    product_name: Mapped[str] = mapped_column(String(255), default="")
    n: Mapped[int] = mapped_column(default=0)
    mrr_cents: Mapped[int] = mapped_column(db.BigInteger, default=0)


class ApiToken(db.Model):
    """An access token cached between requests and processes (e.g. ``hotmart:sandbox:<id>``)."""

    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    token: Mapped[str] = mapped_column(EncryptedText)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
