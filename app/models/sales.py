"""Sales from every platform (webhooks and syncs feed the same table), their status history,
and the access each sale gives a member."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

# Normalized statuses (app.sources.base.normalize_status) and their forward-only rank.
STATUS_RANK = {
    "pending": 0,
    "abandoned": 0,
    "expired": 0,
    "refused": 0,
    "overdue": 1,
    "approved": 1,
    "complete": 1,
    "disputed": 1,
    "refunded": 2,
    "chargeback": 2,
    "canceled": 2,
}
GRANTING_STATUSES = {"approved", "complete", "disputed", "overdue"}
REVOKED_STATUSES = {"refunded", "chargeback", "canceled"}

ACCESS_ACTIVE = "active"
ACCESS_REVOKED = "revoked"


class Sale(db.Model):
    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("platform", "transaction_id"),
        Index("ix_sales_platform_product", "platform", "product_id"),
        Index("ix_sales_subscription", "platform", "subscription_id"),
        Index("ix_sales_parent", "platform", "parent_transaction_id"),
        # The time every sales list sorts and filters by (keyset pages of /vendas, the
        # overview's latest sales and the partial first day of its window).
        Index(
            "ix_sales_when_id",
            func.coalesce(
                text("ordered_at"), text("approved_at"), text("status_at"), text("created_at")
            ),
            "id",
        ),
        # Header sorts of /vendas (app.sales_pages.routes.SORTS), keyset pages at size.
        Index("ix_sales_amount_id", func.coalesce(text("amount_cents"), text("0")), "id"),
        Index("ix_sales_platform_id", "platform", "id"),
        Index("ix_sales_status_id", "status", "id"),
        # Covers the overview's revoked count (status changes in the window).
        Index("ix_sales_status_status_at", "status", "status_at", "is_test", "approved_at"),
        # Reconciliation (app.services.reconciliation): approved sales by approval date; and
        # the same for the gaps' count, only over real main-product sales (a partial index:
        # the count reads its two cheap conditions from the index, not from each sale's row;
        # partial, so no other query's planner takes it for a walk it reads in order).
        Index("ix_sales_status_approved", "status", "approved_at"),
        Index(
            "ix_sales_main_approved",
            "status",
            "approved_at",
            sqlite_where=text("is_test IS 0 AND parent_transaction_id IS NULL"),
            postgresql_where=text("is_test IS false AND parent_transaction_id IS NULL"),
        ),
        # The access catalogue's products seen in real sales: a skip scan of (platform,
        # product) and each one's name by max() (app.services.access_catalogue). is_test
        # last: led by it, SQLite's planner took this index for every is_test filter.
        Index("ix_sales_real_products", "platform", "product_id", "product_name", "is_test"),
        # One buyer's sales by e-mail in any case: the cross report "comprou fora do CRM"
        # checks each buyer it lists (app.services.cross_reports._not_in_crm_walk).
        Index("ix_sales_buyer_email_lower", func.lower(text("buyer_email"))),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), index=True)
    buyer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    buyer_name: Mapped[str | None] = mapped_column(String(255))
    buyer_phone: Mapped[str | None] = mapped_column(String(32))
    buyer_document: Mapped[str | None] = mapped_column(String(32))
    buyer_document_type: Mapped[str | None] = mapped_column(String(8))
    product_id: Mapped[str | None] = mapped_column(String(255))
    product_name: Mapped[str | None] = mapped_column(String(255))
    offer_code: Mapped[str | None] = mapped_column(String(255))
    plan_name: Mapped[str | None] = mapped_column(String(255))
    amount_cents: Mapped[int | None] = mapped_column(db.BigInteger)
    currency: Mapped[str | None] = mapped_column(String(8))
    payment_method: Mapped[str | None] = mapped_column(String(32))
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    recurrence_number: Mapped[int | None] = mapped_column()
    # Subscription sales (app.services.subscriptions): the plan's billing frequency
    # (app.sources.recurrence) and the next charge date the platform announced.
    plan_frequency: Mapped[str | None] = mapped_column(String(16))
    next_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_order_bump: Mapped[bool] = mapped_column(default=False)
    # Several products in one purchase: the other products' sales point at the main one's
    # transaction (a Hotmart bump's parent_purchase_transaction; a Kirvano sale_id).
    parent_transaction_id: Mapped[str | None] = mapped_column(String(255))
    # Where the sale came from (app.sources.tracking): UTM parameters and the platforms'
    # tracking codes (Hotmart src/sck/xcod, Kiwify/Kirvano src/sck, Eduzz tracker codes).
    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    utm_content: Mapped[str | None] = mapped_column(String(255))
    utm_term: Mapped[str | None] = mapped_column(String(255))
    src: Mapped[str | None] = mapped_column(String(255))
    sck: Mapped[str | None] = mapped_column(String(255))
    xcod: Mapped[str | None] = mapped_column(String(255))
    # A test delivery (the platform's own tool or the panel's "Enviar teste"): kept apart from
    # every total, shown only when a filter asks for tests.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=db.false(), index=True)
    source: Mapped[str] = mapped_column(String(16), default="webhook")  # webhook | sync
    # The cross reports' CRM match, kept by app.services.customers.matches whenever customer
    # keys, Kommo contacts or leads change: one of the buyer's keys is a Kommo contact's, and
    # the responsible user the revenue report credits the sale to (NULL: none).
    crm_matched: Mapped[bool] = mapped_column(default=False, server_default=db.false())
    crm_owner_id: Mapped[int | None] = mapped_column(db.BigInteger)
    # "Comprou fora do CRM" counts distinct buyers from these (sales_daily_buyers): the São
    # Paulo day of the previous real approved BRL sale of the same e-mail, over all of them /
    # those in the CRM, on any platform / this one ('' when none, or this sale is not one).
    # Kept by triggers (app.services.summaries.buyers_trigger_statements).
    prev_buyer_day: Mapped[str] = mapped_column(String(10), default="", server_default="")
    prev_buyer_crm_day: Mapped[str] = mapped_column(String(10), default="", server_default="")
    prev_platform_day: Mapped[str] = mapped_column(String(10), default="", server_default="")
    prev_platform_crm_day: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # When the buyer ordered (the platform's order/creation date), when known.
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Time of the event that set the current status (orders out-of-order deliveries).
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    history: Mapped[list[SaleStatusChange]] = relationship(
        back_populates="sale", order_by="SaleStatusChange.id", cascade="all, delete-orphan"
    )

    @hybrid_property
    def listed_at(self):
        """The date lists show, sort and filter a sale by: the order date, else approval,
        else the last status change (a refund or cancellation seen first), else when it was
        recorded. In SQL the same ``coalesce`` the ``ix_sales_when_id`` expression index
        and the ``sales_daily`` triggers (``app.services.summaries.SALE_WHEN``) hold."""
        return self.ordered_at or self.approved_at or self.status_at or self.created_at

    @listed_at.inplace.expression
    @classmethod
    def _listed_at_expression(cls):
        return func.coalesce(cls.ordered_at, cls.approved_at, cls.status_at, cls.created_at)

    @hybrid_property
    def amount_sort(self):
        """The amount /vendas sorts by: a sale without one as zero (``ix_sales_amount_id``)."""
        return self.amount_cents or 0

    @amount_sort.inplace.expression
    @classmethod
    def _amount_sort_expression(cls):
        return func.coalesce(cls.amount_cents, 0)

    @property
    def tracking_items(self) -> list[tuple[str, str]]:
        """(pt-BR label, value) of the non-empty origin fields (UTM, src, sck, xcod)."""
        from app.sources.tracking import LABELS, TRACKING_FIELDS

        return [(LABELS[n], getattr(self, n)) for n in TRACKING_FIELDS if getattr(self, n)]

    @property
    def grants_access(self) -> bool:
        return self.status in GRANTING_STATUSES

    @property
    def purchase_key(self) -> str:
        """The transaction that names the whole purchase (main product and its bumps)."""
        return self.parent_transaction_id or self.transaction_id


class SaleStatusChange(db.Model):
    __tablename__ = "sale_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    event_type: Mapped[str | None] = mapped_column(String(64))
    webhook_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sale: Mapped[Sale] = relationship(back_populates="history")


class Access(db.Model):
    """A member's access to what one sale bought."""

    __tablename__ = "accesses"
    __table_args__ = (UniqueConstraint("user_id", "sale_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ACCESS_ACTIVE)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    # Subscription canceled: access continues until the paid period ends.
    access_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sale: Mapped[Sale] = relationship()
