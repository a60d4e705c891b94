"""The access catalogue (issue 15): what a purchase gives the buyer, beyond the product itself.

An ``AccessItem`` is one thing a member can reach: a member-area URL with instructions, a file
to download, or a Telegram chat. An ``AccessRule`` maps a product of one platform (optionally
one offer or plan of it) to one or more items, with a priority; the same item may be mapped
from the same course sold on every platform. ``app.services.access_catalogue`` reads them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

KIND_URL = "url"
KIND_DOWNLOAD = "download"
KIND_TELEGRAM = "telegram"
KINDS = {
    KIND_URL: "Área de membros (link)",
    KIND_DOWNLOAD: "Arquivo para baixar",
    KIND_TELEGRAM: "Grupo ou canal do Telegram",
}

access_rule_items = db.Table(
    "access_rule_items",
    db.Column(
        "rule_id", db.Integer, ForeignKey("access_rules.id", ondelete="CASCADE"), primary_key=True
    ),
    db.Column(
        "item_id", db.Integer, ForeignKey("access_items.id", ondelete="CASCADE"), primary_key=True
    ),
    Index("ix_access_rule_items_item", "item_id"),
)


class AccessItem(db.Model):
    __tablename__ = "access_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(2000))  # url and download items
    chat_id: Mapped[str | None] = mapped_column(String(64), index=True)  # telegram items
    instructions: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rules: Mapped[list[AccessRule]] = relationship(
        secondary=access_rule_items, back_populates="items", order_by="AccessRule.id"
    )

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class AccessRule(db.Model):
    """A product (platform + product id as sales store it; an offer or plan code when set)
    → items. Among the rules that match a sale the highest priority wins (then the one naming
    an offer or plan, then the oldest)."""

    __tablename__ = "access_rules"
    __table_args__ = (
        UniqueConstraint("platform", "product_id", "offer_code", name="uq_access_rules_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str] = mapped_column(String(255))
    product_name: Mapped[str | None] = mapped_column(String(255))
    # "" = every offer and plan of the product; else the sale's offer code or plan name.
    offer_code: Mapped[str] = mapped_column(String(255), default="", server_default="")
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[AccessItem]] = relationship(
        secondary=access_rule_items, back_populates="rules", order_by="AccessItem.title"
    )
