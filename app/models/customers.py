"""Normalized matching keys of buyers, Kommo contacts and Gestão Click clients.

One row per (record, key): ``source`` is ``sale`` | ``kommo`` | ``gc`` and ``source_id`` the
local id (``sales.id``, ``kommo_contacts.id``, ``gc_clients.id``); ``kind`` is ``email`` |
``phone`` | ``doc`` | ``name`` (``app.services.customers.keys``). Kept on write by
``app.services.customers.index`` and rebuilt by ``flask customers rebuild``; the customer page
and the search read it by index, never scanning the source tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class CustomerKey(db.Model):
    __tablename__ = "customer_keys"
    __table_args__ = (
        UniqueConstraint("source", "source_id", "kind", "value", name="uq_customer_keys_record"),
        # Lookups by key and prefix searches (value range) with keyset order by id.
        Index("ix_customer_keys_kind_value", "kind", "value", "id"),
        # The cross reports' probe "does another source hold this key?" (index only).
        Index("ix_customer_keys_match", "kind", "value", "source", "source_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # Bytewise on both databases (SQLite's default BINARY; "C" on PostgreSQL) so prefix
    # searches are index ranges and keyset pages follow the index order.
    value: Mapped[str] = mapped_column(
        String(254).with_variant(String(254, collation="C"), "postgresql")
    )
    source: Mapped[str] = mapped_column(String(8))
    source_id: Mapped[int] = mapped_column(BigInteger)
