"""Kommo CRM contacts and leads ("negócios"), synced from the API v4 (PLATFORMS.md §6).

Keyed by the Kommo id (``remote_id``). Remote times are Kommo's Unix seconds as UTC datetimes.
A lead's ``price`` is an integer in the account currency (whole units, not cents); ``currency``
is that currency as ``GET /api/v4/account`` reported it when the lead was synced.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, iso, utcnow


class KommoContact(db.Model):
    __tablename__ = "kommo_contacts"
    __table_args__ = (
        # The lists sort by remote_updated_at DESC NULLS LAST, id DESC.
        Index("ix_kommo_contacts_updated_id", "remote_updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(64), index=True)
    responsible_user_id: Mapped[int | None] = mapped_column(BigInteger)
    remote_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    custom_fields: Mapped[list | None] = mapped_column(JSON)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Shares a key with a real approved sale (app.services.customers.matches keeps it): the
    # "won without a sale" report reads it instead of matching every won lead's keys.
    has_sale: Mapped[bool] = mapped_column(default=False, server_default=db.false())

    def to_dict(self) -> dict:
        return {
            "id": self.remote_id,
            "name": self.name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "responsible_user_id": self.responsible_user_id,
            "created_at": iso(self.remote_created_at),
            "updated_at": iso(self.remote_updated_at),
            "last_sync_at": iso(self.last_sync_at),
        }


class KommoLead(db.Model):
    __tablename__ = "kommo_leads"
    __table_args__ = (
        Index("ix_kommo_leads_pipeline_status", "pipeline_id", "status_id"),
        Index("ix_kommo_leads_updated_id", "remote_updated_at", "id"),
        # Won leads by closing date (the cross report "ganhos no Kommo sem venda").
        Index("ix_kommo_leads_won_closed", "is_won", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    remote_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[int | None] = mapped_column(BigInteger)  # whole units of the account currency
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217 of the account, e.g. BRL
    status_id: Mapped[int | None] = mapped_column(BigInteger)
    pipeline_id: Mapped[int | None] = mapped_column(BigInteger)
    status_name: Mapped[str | None] = mapped_column(String(255))
    pipeline_name: Mapped[str | None] = mapped_column(String(255))
    is_won: Mapped[bool] = mapped_column(default=False)
    is_lost: Mapped[bool] = mapped_column(default=False)
    # the main contact (Kommo id)
    contact_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    responsible_user_id: Mapped[int | None] = mapped_column(BigInteger)
    remote_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    custom_fields: Mapped[list | None] = mapped_column(JSON)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def outcome(self) -> str:
        return "won" if self.is_won else "lost" if self.is_lost else "open"

    def to_dict(self) -> dict:
        return {
            "id": self.remote_id,
            "name": self.name,
            "price": self.price,
            "currency": self.currency,
            "status_id": self.status_id,
            "status_name": self.status_name,
            "pipeline_id": self.pipeline_id,
            "pipeline_name": self.pipeline_name,
            "is_won": self.is_won,
            "is_lost": self.is_lost,
            "outcome": self.outcome,
            "contact_id": self.contact_id,
            "responsible_user_id": self.responsible_user_id,
            "created_at": iso(self.remote_created_at),
            "updated_at": iso(self.remote_updated_at),
            "closed_at": iso(self.closed_at),
            "last_sync_at": iso(self.last_sync_at),
        }
