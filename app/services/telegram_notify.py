"""Operator notifications on Telegram (``TELEGRAM_NOTIFY_CHAT_ID``): new sale, refund, failures.

Each notification is a row of the automation outbox (``automation_deliveries``, target
``telegram``) written **in the same transaction** as the sale change (``app.services.automations``
calls the hooks below beside its Kommo steps), so a rolled-back change sends nothing and a
committed one is never forgotten; the dedupe key (``telegram:sale:<id>``…) means never twice.
Delivered right after the commit, by the scheduled automations job, by
``flask --app wsgi automations send`` and ``flask --app wsgi outbox send``
(``app.services.automation_sender``, the same claim and lease as the Kommo pushes). A 429 defers
the row by ``retry_after`` and pauses the bot's budget: nothing is sent before it.

Nothing is queued while the bot token or the notification chat is missing.
"""

from __future__ import annotations

import logging

from app.formatting import brl, platform_label
from app.models import Sale
from app.models.automation import AutomationDelivery
from app.services import telegram
from app.sources.base import TEST_PLATFORM, Kind, NormalizedEvent

log = logging.getLogger(__name__)

TARGET = "telegram"
STEP_SALE = "notify_sale"
STEP_REVOKED = "notify_revoked"
STEP_FAILURE = "notify_failure"
MAX_WAIT = 5.0  # seconds a sender waits for Telegram's limits; longer: the row is deferred
REVOKED_WORDS = {
    "refunded": "Reembolso",
    "chargeback": "Chargeback (contestação no cartão)",
    "canceled": "Cancelamento",
}


def _queue(step: str, subject: str, payload: dict, sale: Sale | None = None, **kw) -> None:
    from app.services import automations

    automations._queue(step, subject, payload, sale=sale, target=TARGET, **kw)


# ---------------------------------------------------------------------------- hooks


def sale_granted(sale: Sale, event: NormalizedEvent, webhook_event_id: int | None) -> None:
    """An approved (or renewed) sale: "Nova venda" naming the buyer, product and amount."""
    from app.services import automations

    if event.test_origin == TEST_PLATFORM or not telegram.notifications_enabled():
        return
    recurrence = event.recurrence_number or sale.recurrence_number or 0
    renewal = event.kind is Kind.RENEW or recurrence > 1
    subject = f"{sale.id}:{recurrence}" if renewal else str(sale.id)
    payload = automations.snapshot(sale, renewal=renewal)
    _queue(STEP_SALE, subject, payload, sale=sale, webhook_event_id=webhook_event_id)


def sale_revoked(sale: Sale, webhook_event_id: int | None = None) -> None:
    """A refund, chargeback or cancellation, said in words."""
    from app.services import automations

    if not telegram.notifications_enabled():
        return
    payload = automations.snapshot(sale)
    _queue(STEP_REVOKED, str(sale.id), payload, sale=sale, webhook_event_id=webhook_event_id)


def delivery_failed(what: str, subject: str, reason: str) -> None:
    """Something that needs a person (an automation that failed for good, …)."""
    if not telegram.notifications_enabled():
        return
    _queue(STEP_FAILURE, f"{what}:{subject}", {"what": what, "reason": reason[:500]})


def failure_committed(what: str, subject: str, reason: str) -> None:
    """``delivery_failed`` in its own short transaction, for senders that already committed
    (the e-mail outbox, the webhook inbox); a problem here never disturbs the caller."""
    from app.extensions import db

    try:
        if not telegram.notifications_enabled():
            return
        delivery_failed(what, subject, reason)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the notification is best effort, the failure is recorded
        db.session.rollback()
        log.exception("could not queue the Telegram failure notification of %s", what)


# ---------------------------------------------------------------------------- texts


def _who(p: dict) -> str:
    name, email = p.get("buyer_name"), p.get("buyer_email")
    if name and email:
        return f"{name} ({email})"
    return name or email or "comprador sem nome"


def text_for(d: AutomationDelivery) -> str:
    p = d.payload or {}
    product = p.get("product_name") or p.get("product_id") or "produto sem nome"
    where = platform_label(p.get("platform")) if p.get("platform") else ""
    tx = f", transação {p['transaction_id']}" if p.get("transaction_id") else ""
    amount = brl(p.get("amount_cents"), p.get("currency") or "BRL")
    test = " [teste]" if p.get("is_test") else ""
    if d.step == STEP_SALE:
        title = "Renovação de assinatura aprovada" if p.get("renewal") else "Nova venda aprovada"
        return f"{title}{test}: {product} para {_who(p)}, {amount} ({where}{tx})."
    if d.step == STEP_REVOKED:
        word = REVOKED_WORDS.get(p.get("status") or "", "Venda revogada")
        return (
            f"{word}{test}: {product} de {_who(p)}, {amount} ({where}{tx}). "
            "O acesso do comprador foi revogado."
        )
    return f"Falha que precisa de atenção — {p.get('what')}: {p.get('reason')}"


# ---------------------------------------------------------------------------- sender


class TelegramNotifier:
    """The automation sender's pusher for target ``telegram`` (``deliver``/``pause``/``close``)."""

    def __init__(self) -> None:
        from flask import current_app

        from app.clients.budget import budget_for, hashed
        from app.services import rate_budget

        # A long 429 is not slept here: the row is deferred by retry_after instead.
        self.client = telegram.client(max_retry_after=MAX_WAIT)
        # Telegram's 20 messages per minute to one group, shared by every process.
        per_minute = float(current_app.config.get("TELEGRAM_CHAT_PER_MINUTE") or 20)
        chat = telegram.notify_chat_id()
        key = f"{hashed(telegram.token())}:chat:{hashed(chat)}"
        self.chat_budget = budget_for("telegram", key, per_minute / 60, rate_budget.store())

    def close(self) -> None:
        self.client.close()

    def pause(self, seconds: float) -> None:
        try:
            self.client.gateway.throttle.pause_for(seconds)
        except Exception:  # a budget store down must not lose the delivery's state
            log.exception("could not pause the Telegram budget")

    def deliver(self, d: AutomationDelivery):
        from app.clients.throttle import BudgetPaused
        from app.services.kommo_push import Cancel, Defer

        chat = telegram.notify_chat_id()
        if not chat:
            return Cancel("Chat de avisos do Telegram não configurado.")
        try:
            self.chat_budget.acquire(MAX_WAIT)
        except BudgetPaused as paused:
            return Defer(paused.wait, "Aguardando o limite de mensagens do Telegram.")
        self.client.send_message(chat, text_for(d))
        return None
