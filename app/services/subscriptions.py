"""Subscriptions of every platform in one table, and their MRR movement per month.

* **Hotmart**: synced from its subscriptions API (``app.services.hotmart_sync``); the mapping
  fills ``state``, ``frequency``, ``mrr_cents`` and ``canceled_at`` and ``settle_pending``
  then counts what changed.
* **Hotmart webhooks** (``record_update``): the subscription events (cancellation, plan
  switch, charge-date change) and the ``data.subscription`` block of purchase events update
  the same rows the sync writes (subscriber code + numeric product id), so an account without
  API credentials still has its subscriptions, and a cancellation counts before the next
  sync. Only a paid purchase creates a subscription; the others change a known one.
* **Kiwify / Kirvano**: derived from their webhook sales as each event is applied
  (``record_event``, called by ``app.services.sales.apply_event``). Kiwify names the
  subscription (``Subscription.id``); Kirvano does not, so the key is a digest of buyer
  e-mail + product + plan (PLATFORMS.md §2.3), and a first charge on another plan of a product
  the buyer still subscribes to re-keys that subscription (a plan switch, not a second
  subscriber). Test deliveries are kept but never counted.

The movements (``settle``, ``book``, ``settle_pending``, ``rebuild``) are in
``app.services.subscription_movements``; their names are importable from here too.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Sale, Subscription
from app.models.types import utcnow
from app.services.bulk import insert_for
from app.services.subscription_movements import (  # noqa: F401 - rebuild, settle_pending here too
    ACTIVE_STATES,
    book,
    month_of,
    mrr_of,
    rebuild,
    settle,
    settle_pending,
)
from app.sources.base import Kind, NormalizedEvent
from app.sources.descriptor import MATCH_PLAN
from app.sources.events import SubscriptionUpdate
from app.sources.recurrence import frequency_from_name, monthly_cents  # noqa: F401 - tests read it here
from app.sources.registry import SOURCES

# Platforms whose subscriptions come from webhook sales (Hotmart's come from its API): the
# sources that declare ``subscriptions_from_sales``.
WEBHOOK_PLATFORMS = tuple(name for name, s in SOURCES.items() if s.subscriptions_from_sales)

# A webhook sale's status → the subscription's state (others leave the state as it is).
SALE_STATES = {
    "approved": "active",
    "complete": "active",
    "overdue": "overdue",
    "refunded": "canceled",
    "chargeback": "canceled",
    "canceled": "canceled",
}


# ---------------------------------------------------------------- webhook sales


def _keyed_by_plan(platform: str) -> bool:
    """The platform names no subscription (``MATCH_PLAN``, Kirvano): its key holds the plan."""
    source = SOURCES.get(platform)
    return source is not None and source.subscription_match == MATCH_PLAN


def subscription_key(event: NormalizedEvent, sale: Sale) -> str | None:
    """The subscription a Kiwify/Kirvano sale belongs to, or None for a one-off sale: the
    subscription id the platform sends (Kiwify), else a digest of buyer e-mail + product + plan
    for a platform that sends none (Kirvano, ``MATCH_PLAN``)."""
    if not _keyed_by_plan(event.platform):
        return (event.subscription_id or sale.subscription_id or "")[:64] or None
    plan = event.plan_name or sale.plan_name
    email = event.buyer_email or sale.buyer_email
    product = event.product_id or sale.product_id
    if not (plan and email and product):
        return None
    digest = hashlib.sha256(f"{email}\n{product}\n{plan}".encode()).hexdigest()[:40]
    return f"kv-{digest}"


def _locked(platform: str, code: str, product_id: str) -> Subscription:
    """The subscription row, created when new, locked for this transaction."""
    db.session.execute(
        insert_for(Subscription.__table__)
        .values(
            platform=platform,
            subscriber_code=code,
            product_id=product_id,
            state="pending",
            mrr_cents=0,
            is_test=False,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["platform", "subscriber_code", "product_id"])
    )
    return db.session.scalars(
        select(Subscription)
        .where(
            Subscription.platform == platform,
            Subscription.subscriber_code == code,
            Subscription.product_id == product_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _event_state(event: NormalizedEvent, sale: Sale, cancels: bool) -> str | None:
    if cancels:
        return "canceled"
    if event.kind in (Kind.GRANT, Kind.RENEW) and sale.status not in SALE_STATES:
        return None  # a refused or pending charge changes nothing
    return SALE_STATES.get(event.status or "")


def record_event(event: NormalizedEvent, sale: Sale | None, cancels: bool = False) -> None:
    """Fold one applied Kiwify/Kirvano event into its subscription (no-op for other sales);
    an event that describes its subscription itself (Hotmart) goes to ``record_update``."""
    if event.subscription_update is not None:
        record_update(event)
        return
    if sale is None or event.platform not in WEBHOOK_PLATFORMS:
        return
    code = subscription_key(event, sale)
    product_id = (event.product_id or sale.product_id or "")[:64]
    if code is None or not product_id:
        return
    if cancels and not db.session.scalar(
        select(Subscription.id).where(
            Subscription.platform == event.platform,
            Subscription.subscriber_code == code,
            Subscription.product_id == product_id,
        )
    ):
        return  # never seen paid: nothing to end
    if _keyed_by_plan(event.platform) and not cancels:
        _follow_plan_switch(event, sale, code, product_id)
    sub = _locked(event.platform, code, product_id)
    for field, value in (
        ("product_name", event.product_name or sale.product_name),
        ("plan_name", event.plan_name or sale.plan_name),
        ("buyer_email", event.buyer_email or sale.buyer_email),
        ("buyer_name", event.buyer_name or sale.buyer_name),
        ("subscription_id", event.subscription_id),
        ("currency", event.currency or sale.currency),
    ):
        if value:
            setattr(sub, field, value[:255] if field != "subscription_id" else value[:64])
    sub.is_test = sub.is_test or sale.is_test
    frequency = event.plan_frequency or sale.plan_frequency or frequency_from_name(sub.plan_name)
    if frequency:
        sub.frequency = frequency
    moment = event.occurred_at or utcnow()
    paid = event.kind in (Kind.GRANT, Kind.RENEW) and event.status in ("approved", "complete")
    if paid and event.amount_cents:
        sub.price_cents = event.amount_cents
    if paid and sub.accession_date is None:
        sub.accession_date = sale.approved_at or moment
    state = _event_state(event, sale, cancels)
    newer = sub.state_at is None or moment >= sub.state_at
    if state is not None and newer:
        sub.state, sub.state_at = state, moment
        sub.canceled_at = moment if state == "canceled" else None
        if event.next_charge_at:
            sub.date_next_charge = event.next_charge_at
    sub.mrr_cents = mrr_of(sub)
    sub.updated_at = utcnow()
    book(settle(sub))


def _follow_plan_switch(event: NormalizedEvent, sale: Sale, code: str, product_id: str) -> None:
    """Kirvano names no subscription, so its key holds the plan: a buyer's first paid charge
    on another plan of a product they already subscribe to (still active) is taken for a plan
    switch, and that subscription is re-keyed to the new plan's key, so ``settle`` moves it
    (no second subscriber). Later events of the old plan's key find nothing to change."""
    paid = event.kind in (Kind.GRANT, Kind.RENEW) and event.status in ("approved", "complete")
    email = event.buyer_email or sale.buyer_email
    plan = event.plan_name or sale.plan_name
    if not paid or sale.is_test or not (email and plan):
        return
    same = (Subscription.platform == event.platform, Subscription.product_id == product_id)
    if db.session.scalar(
        select(Subscription.id).where(*same, Subscription.subscriber_code == code)
    ):
        return  # that plan's subscription exists already
    previous = db.session.scalars(
        select(Subscription)
        .where(
            *same,
            Subscription.buyer_email == email,
            Subscription.plan_name != plan,
            Subscription.state.in_(ACTIVE_STATES),
            Subscription.is_test.is_(False),
        )
        .with_for_update()
        .limit(2)
    ).all()
    if len(previous) == 1:  # two plans at once: no telling which one it replaces
        previous[0].subscriber_code = code
        db.session.flush()


# ---------------------------------------------------------------- platform updates


def record_update(event: NormalizedEvent) -> bool:
    """Fold ``event.subscription_update`` (Hotmart) into its subscription; False when there is
    none to change (an unpaid event about a subscription never seen).

    Idempotent (a replay sets the same values; ``settle`` books only differences) and only
    forward: an update older than the last one applied (``state_at``) changes nothing but
    blanks. A plan switch takes the new plan's price from another subscription on that plan
    (the event sends none); when no other has it, the value stays until the next charge or
    sync brings it, and the difference is booked then as expansion or contraction."""
    upd = event.subscription_update
    if upd is None:
        return False
    code, product_id = upd.code[:64], upd.product_id[:64]
    paid = upd.price_cents is not None
    if not paid and not db.session.scalar(
        select(Subscription.id).where(
            Subscription.platform == event.platform,
            Subscription.subscriber_code == code,
            Subscription.product_id == product_id,
        )
    ):
        return False
    sub = _locked(event.platform, code, product_id)
    for field, value in (
        ("product_name", event.product_name),
        ("product_ucode", upd.product_ucode),
        ("buyer_email", event.buyer_email),
        ("buyer_name", event.buyer_name),
        ("plan_name", upd.plan_name),
        ("plan_id", upd.plan_id),
    ):
        if value and not getattr(sub, field):
            width = 64 if field in ("product_ucode", "plan_id") else 255
            setattr(sub, field, value[:width])
    sub.is_test = sub.is_test or bool(event.test_origin)
    moment = upd.at or event.occurred_at or utcnow()
    sub.updated_at = utcnow()
    if sub.state_at is not None and moment < sub.state_at:
        return True  # a newer update is already applied: this one undoes nothing
    if upd.plan_switch and upd.plan_id and upd.plan_id != sub.plan_id:
        _switch_plan(sub, upd)
    elif upd.plan_name:
        sub.plan_id, sub.plan_name = upd.plan_id or sub.plan_id, upd.plan_name[:255]
    if paid:
        sub.price_cents = upd.price_cents
        sub.currency = upd.currency or sub.currency
        if sub.accession_date is None:
            sub.accession_date = upd.started_at or moment
    sub.frequency = sub.frequency or frequency_from_name(sub.plan_name)
    if upd.state is not None:
        if upd.state == "canceled":
            sub.canceled_at = sub.canceled_at if sub.state == "canceled" else moment
        elif upd.state in ACTIVE_STATES:
            sub.canceled_at = None
        sub.state = upd.state
    if upd.status:
        sub.status = upd.status
    if upd.next_charge_at is not None:
        sub.date_next_charge = upd.next_charge_at
    sub.state_at = moment
    sub.mrr_cents = mrr_of(sub)
    book(settle(sub))
    return True


def _switch_plan(sub: Subscription, upd: SubscriptionUpdate) -> None:
    """The new plan, and its price and frequency as another subscription on it has them."""
    sub.plan_id = upd.plan_id
    sub.plan_name = (upd.plan_name or sub.plan_name or "")[:255] or None
    sibling = db.session.execute(
        select(Subscription.price_cents, Subscription.currency, Subscription.frequency)
        .where(
            Subscription.platform == sub.platform,
            Subscription.product_id == sub.product_id,
            Subscription.plan_id == upd.plan_id,
            Subscription.id != sub.id,
            Subscription.price_cents.is_not(None),
            Subscription.is_test.is_(False),
        )
        .order_by(Subscription.updated_at.desc(), Subscription.id.desc())
        .limit(1)
    ).first()
    if sibling is None:
        return
    sub.price_cents, sub.currency = sibling.price_cents, sibling.currency or sub.currency
    sub.frequency = sibling.frequency or frequency_from_name(sub.plan_name) or sub.frequency


def backfill_from_sales(batch: int = 1000) -> int:
    """Derive the Kiwify/Kirvano subscriptions of sales stored before subscriptions were kept
    (``flask subscriptions rebuild --from-sales``): each subscription sale, oldest first, is
    replayed as its payment at ``approved_at`` and, when its status moved on (overdue,
    refunded, canceled), that change at ``status_at``. Idempotent; returns the sales read."""
    from dataclasses import replace as copy_event

    stmt = (
        select(Sale)
        .where(
            Sale.platform.in_(WEBHOOK_PLATFORMS),
            or_(Sale.subscription_id.is_not(None), Sale.plan_name.is_not(None)),
        )
        .order_by(func.coalesce(Sale.approved_at, Sale.status_at, Sale.created_at), Sale.id)
    )
    done = 0
    for sale in db.session.scalars(stmt.execution_options(yield_per=batch)).all():
        paid = NormalizedEvent(
            platform=sale.platform,
            event_type="backfill",
            kind=Kind.RENEW if (sale.recurrence_number or 1) > 1 else Kind.GRANT,
            dedupe_key="",
            transaction_id=sale.transaction_id,
            status="approved",
            buyer_email=sale.buyer_email,
            buyer_name=sale.buyer_name,
            buyer_phone=None,
            buyer_document=None,
            buyer_document_type=None,
            product_id=sale.product_id,
            product_name=sale.product_name,
            offer_code=None,
            plan_name=sale.plan_name,
            amount_cents=sale.amount_cents,
            currency=sale.currency,
            payment_method=None,
            occurred_at=sale.approved_at,
            subscription_id=sale.subscription_id,
            recurrence_number=sale.recurrence_number,
            plan_frequency=sale.plan_frequency,
            next_charge_at=sale.next_charge_at,
        )
        if sale.approved_at is not None:
            record_event(paid, _as_paid(sale))
        if sale.status in ("overdue", "refunded", "chargeback", "canceled"):
            later = copy_event(paid, kind=Kind.FLAG, status=sale.status, occurred_at=sale.status_at)
            record_event(later, sale, cancels=sale.status == "canceled")
        done += 1
    db.session.commit()
    return done


class _PaidView:
    """A sale seen as approved (its first payment), whatever its status is now."""

    def __init__(self, sale: Sale):
        self._sale = sale
        self.status = "approved"

    def __getattr__(self, name):
        return getattr(self._sale, name)


def _as_paid(sale: Sale):
    return _PaidView(sale)
