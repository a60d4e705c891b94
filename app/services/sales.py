"""Apply a normalized purchase event to the Sale table and to the buyer's access.

Size: one job (a sale's status ladder, its items, subscription cancellations and the access
that follows), about 400 lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Sale, SaleStatusChange
from app.models.sales import GRANTING_STATUSES, REVOKED_STATUSES, STATUS_RANK
from app.models.types import utcnow
from app.services import activation, automations, subscriptions
from app.services.customers import index as customer_index
from app.sources import SOURCES
from app.sources.base import TEST_PLATFORM, Item, Kind, NormalizedEvent
from app.sources.descriptor import MATCH_PLAN, MATCH_PRODUCT, MATCH_SUBSCRIPTION
from app.sources.tracking import TRACKING_FIELDS

log = logging.getLogger(__name__)

# Descriptive fields copied from events (newer non-empty values win).
SALE_FIELDS = (
    "buyer_email",
    "buyer_name",
    "buyer_phone",
    "buyer_document",
    "buyer_document_type",
    "product_id",
    "product_name",
    "offer_code",
    "plan_name",
    "amount_cents",
    "currency",
    "payment_method",
    "subscription_id",
    "recurrence_number",
    "plan_frequency",
    "next_charge_at",
    "parent_transaction_id",
    *TRACKING_FIELDS,  # utm_*, src, sck, xcod
    "ordered_at",
)


# Column widths, so an over-long value from a platform is cut rather than refused by the database.
_MAX_LENGTHS = {
    column.key: column.type.length
    for column in Sale.__table__.columns
    if getattr(column.type, "length", None)
}


@dataclass
class Outcome:
    handled: bool  # False: informational, stored as "ignored"
    sale: Sale | None = None
    status_changed: bool = False
    note: str = ""
    issue: bool = False  # a link/e-mail is due, left to the caller (several products)


_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _get_or_create_sale(platform: str, transaction_id: str, defaults: dict) -> tuple[Sale, bool]:
    """The sale, locked; True when this call created it.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` first (a new sale: one statement, no
    savepoint; a concurrent creator is waited for by the database), else the existing row
    ``FOR UPDATE``."""
    stmt = (
        select(Sale)
        .where(Sale.platform == platform, Sale.transaction_id == transaction_id)
        .with_for_update()
    )
    insert = _UPSERTS.get(db.session.get_bind().dialect.name)
    if insert is not None:
        created = db.session.scalars(
            insert(Sale)
            .values(platform=platform, transaction_id=transaction_id, **defaults)
            .on_conflict_do_nothing(index_elements=["platform", "transaction_id"])
            .returning(Sale)
        ).first()
        if created is not None:
            customer_index.index_sale(created)
            return created, True
        return db.session.scalar(stmt), False
    sale = db.session.scalar(stmt)
    if sale is not None:
        return sale, False
    try:
        with db.session.begin_nested():
            sale = Sale(platform=platform, transaction_id=transaction_id, **defaults)
            db.session.add(sale)
    except IntegrityError:  # created concurrently by another delivery
        return db.session.scalar(stmt), False
    return sale, True


def next_status(
    sale: Sale,
    new: str | None,
    occurred_at: datetime | None,
    is_new: bool,
    renewal: bool = False,
) -> str | None:
    """Forward-only state machine. Shared by webhooks and syncs: the status ``sale`` should move
    to, or ``None`` to keep it.

    Refunds and chargebacks are final: none of the three platforms documents a reversal event
    (PLATFORMS.md §2.2 lists none), so a later approval — a replay, a re-sent demo, an
    out-of-order delivery — never restores access. A cancellation is final once the sale had
    been approved, except for a newer *renewal* (a documented paid event: Kiwify
    ``subscription_renewed`` reuses the order id); a sale canceled before it was ever approved
    (Hotmart ``PURCHASE_CANCELED`` = refused card) may still be approved by a newer event.
    """
    if new is None or new not in STATUS_RANK:
        return None
    if is_new:
        return new
    current = sale.status
    if current == new:
        return None
    newer = occurred_at is None or sale.status_at is None or occurred_at >= sale.status_at
    if STATUS_RANK[new] > STATUS_RANK[current]:
        return new
    if STATUS_RANK[new] == STATUS_RANK[current]:
        return new if newer else None
    if (
        new in GRANTING_STATUSES
        and current == "canceled"
        and not is_final(sale, renewal)
        and occurred_at
        and sale.status_at
        and occurred_at > sale.status_at
    ):
        return new  # refused first, paid later
    return None  # stale or out-of-order event: state only moves forward


FINAL_NOTES = {
    "refunded": "venda já reembolsada",
    "chargeback": "venda já estornada (chargeback)",
    "canceled": "venda já cancelada",
}


def is_final(sale: Sale, renewal: bool = False) -> bool:
    """Revoked for good: a refund or chargeback, or a cancellation after an approval (which a
    renewal payment may still reverse)."""
    if sale.status in ("refunded", "chargeback"):
        return True
    return sale.status == "canceled" and sale.approved_at is not None and not renewal


def _next_status(sale: Sale, event: NormalizedEvent, is_new: bool) -> str | None:
    return next_status(
        sale, event.status, event.occurred_at, is_new, renewal=event.kind is Kind.RENEW
    )


def set_status(
    sale: Sale,
    new: str,
    occurred_at: datetime | None,
    event_type: str | None,
    is_new: bool,
    webhook_event_id: int | None = None,
) -> None:
    """Move ``sale`` to ``new`` and record the change in its history."""
    db.session.add(
        SaleStatusChange(
            sale=sale,
            from_status=None if is_new else sale.status,
            to_status=new,
            event_type=event_type,
            webhook_event_id=webhook_event_id,
            occurred_at=occurred_at,
        )
    )
    sale.status = new
    sale.status_at = occurred_at or utcnow()
    if new in GRANTING_STATUSES and sale.approved_at is None:
        sale.approved_at = occurred_at or utcnow()


def clip(field: str, value):
    """A value cut to its ``Sale`` column width (platforms send over-long strings)."""
    limit = _MAX_LENGTHS.get(field)
    return value[:limit] if limit and isinstance(value, str) else value


def apply_synced_sale(
    platform: str,
    transaction_id: str,
    fields: dict,
    status: str | None,
    occurred_at: datetime | None = None,
    approved_at: datetime | None = None,
) -> tuple[Sale, str]:
    """Upsert a sale read from a platform's REST API; returns ``(sale, outcome)``.

    ``outcome`` is ``created``, ``updated`` or ``unchanged``. A row a webhook created first
    keeps its data: only empty fields are filled. The status follows the same forward-only
    rule as webhooks (history ``event_type`` "sync"). A synced sale never issues an activation
    link or e-mail (historic buyers must not be mailed); a revocation still ends access.
    """
    sale, is_new = _get_or_create_sale(
        platform, transaction_id, {"status": status or "pending", "source": "sync"}
    )
    changed = is_new
    for field in SALE_FIELDS:
        value = fields.get(field)
        if value is None or value == "":
            continue
        value = clip(field, value)
        current = getattr(sale, field)
        if is_new or current is None or current == "":
            if current != value:
                setattr(sale, field, value)
                changed = True
    if approved_at is not None and sale.approved_at is None:
        sale.approved_at = approved_at
        changed = True
    was_granting = not is_new and sale.status in GRANTING_STATUSES
    new = next_status(sale, status, occurred_at, is_new)
    if new is not None:
        set_status(sale, new, occurred_at, "sync", is_new)
        changed = True
        if was_granting and new in REVOKED_STATUSES:
            activation.revoke_for_sale(sale, new)
    if is_new:
        return sale, "created"
    return sale, "updated" if changed else "unchanged"


def _record(sale: Sale, event: NormalizedEvent, webhook_event_id: int | None, is_new: bool) -> bool:
    # An order is placed once, before anything else happens to it: a delivery dated later (a
    # refund stamped with its own creation time) never moves the date the lists and reports
    # file the sale under, whichever arrives first.
    known_order_date = sale.ordered_at
    for field in SALE_FIELDS:
        value = getattr(event, field)
        if value is not None and value != "":
            setattr(sale, field, clip(field, value))
    if known_order_date is not None and known_order_date < sale.ordered_at:
        sale.ordered_at = known_order_date
    sale.is_order_bump = event.is_order_bump or sale.is_order_bump
    if event.test_origin:
        sale.is_test = True
    new = _next_status(sale, event, is_new)
    if new is None:
        return False
    set_status(sale, new, event.occurred_at, event.event_type, is_new, webhook_event_id)
    return True


def _subscription_match(platform: str) -> str:
    source = SOURCES.get(platform)
    return source.subscription_match if source is not None else MATCH_SUBSCRIPTION


def _cancels_subscription(event: NormalizedEvent) -> bool:
    source = SOURCES.get(event.platform)
    return source is not None and source.cancels_subscription(event)


def _subscription_sales(event: NormalizedEvent) -> list[Sale]:
    stmt = select(Sale).where(Sale.platform == event.platform)
    match = _subscription_match(event.platform)
    if match == MATCH_PRODUCT and event.buyer_email and event.product_id:
        # The invoices may not carry the subscription id: its id or e-mail + product.
        same_buyer = (Sale.buyer_email == event.buyer_email) & (Sale.product_id == event.product_id)
        if event.subscription_id:
            same_buyer = same_buyer | (Sale.subscription_id == event.subscription_id)
        stmt = stmt.where(same_buyer)
    elif event.subscription_id:
        stmt = stmt.where(Sale.subscription_id == event.subscription_id)
    elif event.transaction_id:
        stmt = stmt.where(Sale.transaction_id == event.transaction_id)
    elif event.buyer_email and event.product_id:
        # Kirvano sends no subscription id: e-mail + product (+ plan), and only subscription
        # sales; an e-mail alone would also cancel the buyer's one-off purchases.
        stmt = stmt.where(
            Sale.buyer_email == event.buyer_email, Sale.product_id == event.product_id
        )
        if event.plan_name:
            stmt = stmt.where(Sale.plan_name == event.plan_name)
        if match == MATCH_PLAN:
            stmt = stmt.where(Sale.plan_name.is_not(None))
        else:
            stmt = stmt.where(Sale.subscription_id.is_not(None))
    else:
        return []
    return list(db.session.scalars(stmt.with_for_update()))


def _cancel_subscription(event: NormalizedEvent, webhook_event_id: int | None) -> Outcome:
    sales = _subscription_sales(event)
    if not sales:
        return Outcome(handled=True, note="nenhuma venda encontrada para esta assinatura")
    for sale in sales:
        if sale.status in GRANTING_STATUSES:
            db.session.add(
                SaleStatusChange(
                    sale=sale,
                    from_status=sale.status,
                    to_status="canceled",
                    event_type=event.event_type,
                    webhook_event_id=webhook_event_id,
                    occurred_at=event.occurred_at,
                )
            )
            sale.status, sale.status_at = "canceled", event.occurred_at or utcnow()
            automations.sale_revoked(sale, webhook_event_id)
        activation.revoke_for_sale(sale, "subscription_canceled", until=event.access_until)
    return Outcome(handled=True, sale=sales[-1], status_changed=True)


def item_event(event: NormalizedEvent, item: Item) -> NormalizedEvent:
    """The event as it applies to one more product of the same purchase (its own sale)."""
    return replace(
        event,
        transaction_id=clip("transaction_id", f"{event.transaction_id}:{item.product_id}"),
        product_id=item.product_id,
        product_name=item.product_name,
        offer_code=item.offer_code,
        amount_cents=item.amount_cents,
        is_order_bump=item.is_order_bump,
        extra_items=(),
        parent_transaction_id=event.transaction_id,
    )


def subscription_only(event: NormalizedEvent) -> bool:
    """An event about a subscription and no sale (Hotmart plan switch, charge-date change)."""
    return (
        event.subscription_update is not None
        and not event.transaction_id
        and not _cancels_subscription(event)
    )


def is_informational(event: NormalizedEvent) -> bool:
    """Stored and answered ``ignored``: no sale changes (PIX/boleto issued, carts, unknown
    events); known from the event alone, so the receiver can say so before processing."""
    if _cancels_subscription(event) or subscription_only(event):
        return False
    return event.kind in (Kind.INFO, Kind.NOOP) or not event.transaction_id


def apply_event(event: NormalizedEvent, webhook_event_id: int | None = None) -> Outcome:
    """Idempotent: applying the same event twice leaves the same state.

    A purchase of several products (``extra_items``) becomes one sale per product — each its
    own access and amount — with one activation link (or one "compra adicionada") for all.
    The sale's subscription (Kiwify, Kirvano) follows (``app.services.subscriptions``).
    """
    if subscription_only(event):
        if subscriptions.record_update(event):
            return Outcome(handled=True, note="assinatura atualizada")
        return Outcome(handled=False, note="assinatura ainda não recebida nem sincronizada")
    cancels = _cancels_subscription(event)
    outcome = _cancel_subscription(event, webhook_event_id) if cancels else None
    if outcome is None:
        outcome = _apply_purchase(event, webhook_event_id)
    subscriptions.record_event(event, outcome.sale, cancels=cancels)
    return outcome


def _apply_purchase(event: NormalizedEvent, webhook_event_id: int | None) -> Outcome:
    if is_informational(event):
        automations.cart_event(event, webhook_event_id)  # a recovery lead, when switched on
        return Outcome(handled=False, note="evento informativo")
    outcome = _apply_one(event, webhook_event_id, issue=not event.extra_items)
    if not event.extra_items or outcome.sale is None:
        return outcome
    for item in event.extra_items:
        _apply_one(item_event(event, item), webhook_event_id, issue=False)
    if outcome.issue:
        db.session.flush()
        activation.issue_for_sale(outcome.sale, renewal=event.kind is Kind.RENEW)
    return outcome


def _tell_the_operator(
    sale: Sale, event: NormalizedEvent, webhook_event_id: int | None, note: str
) -> None:
    from app.services import telegram_notify

    subject = f"{sale.platform} {sale.transaction_id}"
    reason = f"{subject} ({sale.buyer_email or 'sem e-mail'}): {note}."
    telegram_notify.delivery_failed(
        "renovação de venda reembolsada",
        f"{subject}:{webhook_event_id or event.occurred_at}",
        reason,
    )


def _apply_one(event: NormalizedEvent, webhook_event_id: int | None, issue: bool) -> Outcome:
    sale, is_new = _get_or_create_sale(
        event.platform, event.transaction_id, {"status": event.status or "pending"}
    )
    renewal = event.kind is Kind.RENEW
    if not is_new and event.kind in (Kind.GRANT, Kind.RENEW) and is_final(sale, renewal):
        # Sales only move forward: no status change, no link, no e-mail, nothing overwritten.
        note = FINAL_NOTES[sale.status]
        if renewal:
            # A new charge of a subscription whose earlier charge was refunded (Kiwify renews
            # under the same order): the buyer may have paid again — a person decides.
            note = f"{note}; renovação paga depois disso: confira na plataforma"
            _tell_the_operator(sale, event, webhook_event_id, note)
        return Outcome(handled=False, sale=sale, note=note)
    was_granting = not is_new and sale.status in GRANTING_STATUSES
    changed = _record(sale, event, webhook_event_id, is_new)
    db.session.flush()
    if event.status == "complete":
        # Hotmart PURCHASE_COMPLETE grants only when the approval was missed; after it, the
        # link already went out (and may have expired by the end of the refund window).
        issues = not was_granting
    else:
        issues = changed or not was_granting or event.kind is Kind.GRANT
    if sale.status in GRANTING_STATUSES and event.kind in (Kind.GRANT, Kind.RENEW) and issues:
        automations.sale_granted(sale, event, webhook_event_id)  # beside the activation e-mail
        if event.test_origin == TEST_PLATFORM:
            # The platform's own test tool: a fictitious buyer (Kirvano's is a real mailbox).
            return Outcome(
                handled=True, sale=sale, status_changed=changed, note="teste da plataforma"
            )
        if sale.buyer_email:
            if not issue:
                return Outcome(handled=True, sale=sale, status_changed=changed, issue=True)
            activation.issue_for_sale(sale, renewal=event.kind is Kind.RENEW, fresh=is_new)
    elif changed and sale.status in REVOKED_STATUSES and was_granting:
        activation.revoke_for_sale(sale, sale.status)
        automations.sale_revoked(sale, webhook_event_id)
        _revoke_bumps(sale, sale.status, event, webhook_event_id)
    return Outcome(handled=True, sale=sale, status_changed=changed)


def _revoke_bumps(sale: Sale, status: str, event: NormalizedEvent, webhook_event_id) -> None:
    """A refund of the main purchase revokes every product bought with it."""
    if sale.parent_transaction_id:
        return
    for other in activation.purchase_sales(sale):
        if other.id == sale.id or other.status not in GRANTING_STATUSES:
            continue
        set_status(other, status, event.occurred_at, event.event_type, False, webhook_event_id)
        activation.revoke_for_sale(other, status)
        automations.sale_revoked(other, webhook_event_id)
