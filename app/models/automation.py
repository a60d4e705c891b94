"""Outbound automation outbox: one row per sale (or cart), target API and step.

Written in the same transaction as the sale change that causes it (``app.services.automations``)
and delivered by a job (``app.services.automation_sender``). The remote ids are recorded after
each call, so a retry after a timeout never creates a second contact or lead.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

DELIVERY_PENDING = "pending"
DELIVERY_SENDING = "sending"
DELIVERY_SENT = "sent"
DELIVERY_FAILED = "failed"  # refused (validation) or out of attempts; "Tentar de novo" re-queues
DELIVERY_CANCELLED = "cancelled"  # nothing to do any more (e.g. a refund of a sale never pushed)
DELIVERY_STATUSES = (
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    DELIVERY_FAILED,
    DELIVERY_CANCELLED,
)

TARGET_KOMMO = "kommo"
TARGET_GESTAO_CLICK = "gestao_click"

STEP_CONTACT_LEAD = "contact_lead"  # approved sale: contact + won lead (+ note)
STEP_LOST = "lost"  # refund / chargeback / cancellation: the lead to the lost status
STEP_CART = "cart"  # abandoned cart / PIX or boleto issued: a recovery lead
STEP_RENEWAL = "renewal_note"  # a renewal: a note on the subscription's lead
# Gestão Click (remote_contact_id = the cliente, remote_lead_id = the venda)
STEP_VENDA = "gc_venda"  # approved sale (or a renewal's payment): cliente + venda
STEP_VENDA_REFUND = "gc_refund"  # refund / chargeback / cancellation: the venda's situação


class AutomationDelivery(db.Model):
    __tablename__ = "automation_deliveries"
    __table_args__ = (
        Index("ix_automation_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_automation_deliveries_target_email", "target", "buyer_email"),
        Index("ix_automation_deliveries_target_document", "target", "buyer_document"),
        # the phone alone: a (target, phone) index tied with (target, document) on the
        # planner's estimates, and PostgreSQL could take it for the Gestão Click document look-up
        Index("ix_automation_deliveries_buyer_phone", "buyer_phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(32))  # kommo | gestao_click
    step: Mapped[str] = mapped_column(String(32))
    # target:step:subject (sale id, or the cart's transaction / buyer + product): unique, so a
    # replayed webhook or a second worker never queues a step twice.
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    sale_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales.id", ondelete="SET NULL"), index=True
    )
    webhook_event_id: Mapped[int | None] = mapped_column()  # its raw body (UTM, checkout link)
    buyer_email: Mapped[str | None] = mapped_column(String(254))
    # The payload's CPF/CNPJ, digits only, set on every write from ``payload`` (below): what
    # the Gestão Click sender looks another delivery of the same document up by (indexed).
    buyer_document: Mapped[str | None] = mapped_column(String(32))
    # The payload's phone, its national digits (``phone_key``), set the same way: the Kommo
    # sender's other key of one buyer (an earlier delivery's contact; one buyer at a time).
    buyer_phone: Mapped[str | None] = mapped_column(String(20))
    # What to send, as known when queued (a cart has no sale row).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Remote ids, recorded after each call (retries pick up where the last attempt stopped).
    # Kommo: contact and lead; Gestão Click: cliente and venda (its ids are digits).
    remote_contact_id: Mapped[int | None] = mapped_column(BigInteger)
    remote_lead_id: Mapped[int | None] = mapped_column(BigInteger)
    note_added: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sale = relationship("Sale", lazy="joined")


def document_digits(value) -> str:
    """A CPF/CNPJ as its digits (``477.182.526-20`` → ``47718252620``)."""
    return "".join(ch for ch in str(value or "") if ch.isdecimal())


def phone_key(value) -> str:
    """A phone as the digits that name it nationally: a Brazilian number's last 11 (area code
    + number; ``+55 (21) 98888-1234`` and ``21988881234`` are one key); shorter than 8 digits:
    no key. A number given without its area code has another key (not matched)."""
    digits = document_digits(value)
    if len(digits) < 8:
        return ""
    if digits.startswith("55") and len(digits) > 11:
        digits = digits[2:]
    return digits[-11:]


def buyer_columns(payload: dict | None) -> dict:
    """The columns a delivery's buyer is looked up by, derived from its payload: the e-mail
    (lower-cased), the CPF/CNPJ's digits and the phone's key. Every writer of rows uses it —
    the ORM (below) and the backfill's bulk ``INSERT`` (``automation_backfill.queue``), which
    no ORM event sees."""
    payload = payload or {}
    email = str(payload.get("buyer_email") or "").strip().lower()[:254]
    doc = document_digits(payload.get("buyer_document"))[:32]
    phone = phone_key(payload.get("buyer_phone"))
    return {
        "buyer_email": email or None,
        "buyer_document": doc or None,
        "buyer_phone": phone or None,
    }


@event.listens_for(AutomationDelivery, "before_insert")
@event.listens_for(AutomationDelivery, "before_update")
def _store_buyer_keys(_mapper, _connection, delivery: AutomationDelivery) -> None:
    keys = buyer_columns(delivery.payload)
    delivery.buyer_document, delivery.buyer_phone = keys["buyer_document"], keys["buyer_phone"]


BACKFILL_QUEUED = "queued"
BACKFILL_RUNNING = "running"
BACKFILL_DONE = "done"
BACKFILL_FAILED = "failed"
BACKFILL_ACTIVE = "active"  # ``AutomationBackfill.active`` of the one queued or running


class AutomationBackfill(db.Model):
    """One "Enviar vendas anteriores": queued from /automacoes, run in the background pool
    (``automation_backfill.start``). ``active`` is ``BACKFILL_ACTIVE`` while it is queued or
    running and NULL once it ends: unique, so a second click (or a second process) finds the
    one going instead of starting another."""

    __tablename__ = "automation_backfills"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=BACKFILL_QUEUED)
    active: Mapped[str | None] = mapped_column(String(16), unique=True)
    since: Mapped[date | None] = mapped_column(Date)  # None: every sale
    targets: Mapped[str] = mapped_column(String(64))  # "kommo,gestao_click"
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # target → rows queued so far
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column()  # the operator (for the audit entry)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def target_list(self) -> tuple[str, ...]:
        return tuple(t for t in (self.targets or "").split(",") if t)

    @property
    def queued(self) -> int:
        return sum(int(n) for n in (self.counts or {}).values())

    @property
    def is_active(self) -> bool:
        return self.status in (BACKFILL_QUEUED, BACKFILL_RUNNING)
