"""Automations: sale changes queued for the outbound APIs (Kommo and Gestão Click).

SPEC §9. Each push is a row of ``automation_deliveries`` written **in the same transaction** as
the sale change (``app.services.sales`` calls the hooks below beside the activation e-mail), so a
rolled-back change pushes nothing and a committed one is never forgotten. Its dedupe key
(target, step, subject) is unique: a replayed webhook or a second worker never queues a step
twice. The transaction's commit kicks the sender (``app.events``); the scheduled job and
``flask --app wsgi automations send`` deliver what is left (``app.services.automation_sender``).

Nothing is queued while a target is switched off (``KOMMO_PUSH_SALES``,
``GESTAOCLICK_PUSH_SALES``; env, Settings page or /automacoes).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import events
from app.extensions import db
from app.models import Sale
from app.models.automation import (
    STEP_CART,
    STEP_CONTACT_LEAD,
    STEP_LOST,
    STEP_RENEWAL,
    STEP_VENDA,
    STEP_VENDA_REFUND,
    TARGET_GESTAO_CLICK,
    TARGET_KOMMO,
    AutomationDelivery,
    buyer_columns,
)
from app.services import settings, telegram_notify
from app.sources.base import TEST_PLATFORM, Kind, NormalizedEvent
from config import TRUE_VALUES

log = logging.getLogger(__name__)

KOMMO_SWITCH = "KOMMO_PUSH_SALES"
GESTAOCLICK_SWITCH = "GESTAOCLICK_PUSH_SALES"
CART_STATUSES = ("abandoned", "pending")  # abandoned cart; PIX or boleto issued, not paid


def kommo_enabled() -> bool:
    return (settings.cached(KOMMO_SWITCH) or "").strip().lower() in TRUE_VALUES


def gestao_click_enabled() -> bool:
    return (settings.cached(GESTAOCLICK_SWITCH) or "").strip().lower() in TRUE_VALUES


def cart_status_id() -> int | None:
    return int_setting("KOMMO_CART_STATUS_ID")


def int_setting(key: str) -> int | None:
    raw = (settings.cached(key) or "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        log.warning("setting %s is not a number: %r", key, raw)
        return None


def enabled_targets() -> tuple[str, ...]:
    from app.services import telegram

    targets = (TARGET_KOMMO,) if kommo_enabled() else ()
    targets += (TARGET_GESTAO_CLICK,) if gestao_click_enabled() else ()
    targets += ("telegram",) if telegram.notifications_enabled() else ()
    return targets + (("telegram_access",) if telegram.configured() else ())


# ---------------------------------------------------------------------------- snapshots

SALE_KEYS = (
    "platform",
    "transaction_id",
    "buyer_email",
    "buyer_name",
    "buyer_phone",
    "buyer_document",
    "product_id",
    "product_name",
    "amount_cents",
    "currency",
    "payment_method",
    "subscription_id",
    "recurrence_number",
    "status",
)


def snapshot(source: Any, **extra: Any) -> dict:
    """What the delivery sends, from a ``Sale`` or a ``NormalizedEvent`` (JSON-safe)."""
    data = {key: getattr(source, key, None) for key in SALE_KEYS}
    data["is_test"] = bool(
        getattr(source, "is_test", False) or getattr(source, "test_origin", None)
    )
    data.update(extra)
    return data


def _queue(
    step: str,
    subject: str,
    payload: dict,
    *,
    sale: Sale | None = None,
    webhook_event_id: int | None = None,
    target: str = TARGET_KOMMO,
) -> AutomationDelivery | None:
    """Add one delivery unless its dedupe key exists (a savepoint absorbs a concurrent twin)."""
    key = f"{target}:{step}:{subject}"[:255]
    if db.session.scalar(select(AutomationDelivery.id).where(AutomationDelivery.dedupe_key == key)):
        return None
    if sale is not None and sale.id is None:
        db.session.flush()
    row = AutomationDelivery(
        target=target,
        step=step,
        dedupe_key=key,
        sale_id=sale.id if sale is not None else None,
        webhook_event_id=webhook_event_id,
        payload=payload,
        **buyer_columns(payload),
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # queued at the same moment by another delivery of the event
        return None
    events.mark_automations_queued()
    return row


# ---------------------------------------------------------------------------- hooks (sales.py)


def granted_step(
    target: str, sale: Sale, recurrence: int, renew_key: str | None = None
) -> tuple[str, str]:
    """(step, subject) of an approved sale's push to ``target`` — the live hook's and the
    backfill's (``automation_backfill``), so both write one dedupe key. A repeated payment (a
    renewal: ``renew_key`` is its event's dedupe key, or ``recurrence`` > 1) is a note on the
    subscription's Kommo lead and one more Gestão Click venda."""
    repeat = renew_key is not None or recurrence > 1
    again = f"{sale.id}:{recurrence or renew_key}"
    if target == TARGET_GESTAO_CLICK:
        return STEP_VENDA, again if repeat else str(sale.id)
    return (STEP_RENEWAL, again) if repeat else (STEP_CONTACT_LEAD, str(sale.id))


def sale_granted(sale: Sale, event: NormalizedEvent, webhook_event_id: int | None) -> None:
    """An approved (or renewed) sale: a contact + won lead, or a note on the renewal's lead;
    in Gestão Click a venda for every payment (a renewal is one more venda)."""
    telegram_notify.sale_granted(sale, event, webhook_event_id)  # the operator's "nova venda"
    if event.test_origin == TEST_PLATFORM:
        return
    recurrence = event.recurrence_number or sale.recurrence_number or 0
    renew_key = event.dedupe_key if event.kind is Kind.RENEW else None
    for target, on in ((TARGET_GESTAO_CLICK, gestao_click_enabled), (TARGET_KOMMO, kommo_enabled)):
        if not on():
            continue
        step, subject = granted_step(target, sale, recurrence, renew_key)
        _queue(
            step,
            subject,
            snapshot(sale, recurrence_number=recurrence or None),
            sale=sale,
            webhook_event_id=webhook_event_id,
            target=target,
        )


def sale_revoked(sale: Sale, webhook_event_id: int | None = None) -> None:
    """A refund, chargeback or cancellation of a sale that had been approved: lead → lost;
    the Gestão Click venda to ``GESTAOCLICK_REFUND_SITUACAO_ID``."""
    telegram_notify.sale_revoked(sale, webhook_event_id)  # the operator's "reembolso"
    if gestao_click_enabled():
        _queue(
            STEP_VENDA_REFUND,
            str(sale.id),
            snapshot(sale),
            sale=sale,
            webhook_event_id=webhook_event_id,
            target=TARGET_GESTAO_CLICK,
        )
    if not kommo_enabled():
        return
    _queue(STEP_LOST, str(sale.id), snapshot(sale), sale=sale, webhook_event_id=webhook_event_id)


def cart_event(event: NormalizedEvent, webhook_event_id: int | None) -> None:
    """An abandoned cart or an issued PIX/boleto: a recovery lead (``KOMMO_CART_STATUS_ID``)."""
    if event.kind is not Kind.INFO or event.status not in CART_STATUSES:
        return
    if event.test_origin == TEST_PLATFORM or not (event.buyer_email or event.buyer_phone):
        return
    if not kommo_enabled() or cart_status_id() is None:
        return
    if event.transaction_id:
        subject = f"{event.platform}:{event.transaction_id}"
    else:
        who = (event.buyer_email or event.buyer_phone or "").lower()
        subject = f"{event.platform}:{who}:{event.product_id or ''}"
    payload = snapshot(event, checkout_url=event.checkout_url)
    _queue(STEP_CART, subject, payload, webhook_event_id=webhook_event_id)
