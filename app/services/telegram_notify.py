"""Operator notifications on Telegram (``TELEGRAM_NOTIFY_CHAT_ID``): new sale, refund, failures.

Each notification is a row of the automation outbox (``automation_deliveries``, target
``telegram``) written **in the same transaction** as the sale change (``app.services.automations``
calls the hooks below beside its Kommo steps), so a rolled-back change sends nothing and a
committed one is never forgotten; the dedupe key (``telegram:sale:<id>``…) means never twice.
Delivered right after the commit, by the scheduled automations job, by
``flask --app wsgi automations send`` and ``flask --app wsgi outbox send``
(``app.services.automation_sender``, the same claim and lease as the Kommo pushes). A 429 defers
the row by ``retry_after`` and pauses the bot's budget: nothing is sent before it.

Nothing is queued while the bot token or the notification chat is missing, nor for a kind
the operator switched off (``telegram.switched_on``: new sale, refund/chargeback/cancellation,
failures); a row queued before its switch went off is cancelled instead of sent.

The daily summary (``TELEGRAM_DAILY_SUMMARY``, off by default) is queued by the scheduled job
``telegram_daily_summary`` (``app.services.jobs``) for the São Paulo day that ended: sales and
their amount in R$, refunds, chargebacks and cancellations, failures. Its dedupe key names the
day, so a second process, a rerun or a restart never sends it twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.formatting import DISPLAY_TZ, brl, local, platform_label
from app.models import Sale
from app.models.automation import DELIVERY_FAILED, AutomationDelivery
from app.plurals import ngettext
from app.services import telegram
from app.sources.base import TEST_PLATFORM, Kind, NormalizedEvent

log = logging.getLogger(__name__)

TARGET = "telegram"
STEP_SALE = "notify_sale"
STEP_REVOKED = "notify_revoked"
STEP_FAILURE = "notify_failure"
STEP_SUMMARY = "notify_summary"
SWITCHES = {
    STEP_SALE: telegram.NOTIFY_SALES_KEY,
    STEP_REVOKED: telegram.NOTIFY_REVOKED_KEY,
    STEP_FAILURE: telegram.NOTIFY_FAILURES_KEY,
    STEP_SUMMARY: telegram.DAILY_SUMMARY_KEY,
}
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

    if event.test_origin == TEST_PLATFORM or not telegram.switched_on(SWITCHES[STEP_SALE]):
        return
    recurrence = event.recurrence_number or sale.recurrence_number or 0
    renewal = event.kind is Kind.RENEW or recurrence > 1
    subject = f"{sale.id}:{recurrence}" if renewal else str(sale.id)
    payload = automations.snapshot(sale, renewal=renewal)
    _queue(STEP_SALE, subject, payload, sale=sale, webhook_event_id=webhook_event_id)


def sale_revoked(sale: Sale, webhook_event_id: int | None = None) -> None:
    """A refund, chargeback or cancellation, said in words."""
    from app.services import automations

    if not telegram.switched_on(SWITCHES[STEP_REVOKED]):
        return
    payload = automations.snapshot(sale)
    _queue(STEP_REVOKED, str(sale.id), payload, sale=sale, webhook_event_id=webhook_event_id)


def delivery_failed(what: str, subject: str, reason: str) -> None:
    """Something that needs a person (an automation that failed for good, …)."""
    if not telegram.switched_on(SWITCHES[STEP_FAILURE]):
        return
    _queue(STEP_FAILURE, f"{what}:{subject}", {"what": what, "reason": reason[:500]})


def failure_committed(what: str, subject: str, reason: str) -> None:
    """``delivery_failed`` in its own short transaction, for senders that already committed
    (the e-mail outbox, the webhook inbox); a problem here never disturbs the caller."""
    from app.extensions import db

    try:
        if not telegram.switched_on(SWITCHES[STEP_FAILURE]):
            return
        delivery_failed(what, subject, reason)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the notification is best effort, the failure is recorded
        db.session.rollback()
        log.exception("could not queue the Telegram failure notification of %s", what)


# ---------------------------------------------------------------------------- daily summary


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The São Paulo calendar day ``day`` as [start, end) instants."""
    start = datetime.combine(day, time(), DISPLAY_TZ)
    return start, datetime.combine(day + timedelta(days=1), time(), DISPLAY_TZ)


def summary_figures(day: date) -> dict:
    """The figures of the São Paulo day ``day`` (test sales left out, like every total):
    approved sales and their amount (BRL, as on the overview), access revoked that day by
    refund, chargeback or cancellation, and the failures that needed a person."""
    from app.extensions import db
    from app.models import OutboxEmail, WebhookEvent
    from app.models.outbox import OUTBOX_FAILED
    from app.models.sales import REVOKED_STATUSES
    from app.models.webhooks import EVENT_FAILED
    from app.services.overview import approved_totals

    start, end = day_bounds(day)
    count, amount = approved_totals(start, end)
    revoked = dict(
        db.session.execute(
            select(Sale.status, func.count(Sale.id))
            .where(
                Sale.status.in_(REVOKED_STATUSES),
                Sale.approved_at.is_not(None),  # only sales that had granted access
                Sale.status_at >= start,
                Sale.status_at < end,
                Sale.is_test.is_(False),
            )
            .group_by(Sale.status)
        ).all()
    )

    def failed(status_column, status, when) -> int:
        return (
            db.session.scalar(
                select(func.count()).where(status_column == status, when >= start, when < end)
            )
            or 0
        )

    return {
        "day": day.isoformat(),
        "sales": count,
        "amount_cents": amount,
        "refunded": revoked.get("refunded", 0),
        "chargeback": revoked.get("chargeback", 0),
        "canceled": revoked.get("canceled", 0),
        "failed_webhooks": failed(WebhookEvent.status, EVENT_FAILED, WebhookEvent.received_at),
        "failed_emails": failed(OutboxEmail.status, OUTBOX_FAILED, OutboxEmail.created_at),
        "failed_automations": failed(
            AutomationDelivery.status, DELIVERY_FAILED, AutomationDelivery.updated_at
        ),
    }


def queue_daily_summary(now: datetime | None = None) -> date | None:
    """Queue the summary of the São Paulo day that ended before ``now`` (does not commit)
    → that day, or None when the summary is off or that day's summary was already queued."""
    from app.models.types import utcnow

    if not telegram.switched_on(SWITCHES[STEP_SUMMARY]):
        return None
    day = local(now or utcnow()).date() - timedelta(days=1)
    from app.services import automations

    row = automations._queue(STEP_SUMMARY, day.isoformat(), summary_figures(day), target=TARGET)
    return day if row is not None else None


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
    if d.step == STEP_SUMMARY:
        return summary_text(p)
    return f"Falha que precisa de atenção — {p.get('what')}: {p.get('reason')}"


def summary_text(p: dict) -> str:
    day = date.fromisoformat(p["day"]).strftime("%d/%m/%Y")
    sales = ngettext("%(num)s venda aprovada", "%(num)s vendas aprovadas", p.get("sales", 0))
    failures = p.get("failed_webhooks", 0) + p.get("failed_emails", 0)
    failures += p.get("failed_automations", 0)
    return (
        f"Resumo do dia {day}: {sales}, {brl(p.get('amount_cents') or 0)}. "
        f"Reembolsos: {p.get('refunded', 0)}; chargebacks: {p.get('chargeback', 0)}; "
        f"cancelamentos: {p.get('canceled', 0)}. "
        f"Falhas que precisam de atenção: {failures} (webhooks: {p.get('failed_webhooks', 0)}; "
        f"e-mails: {p.get('failed_emails', 0)}; automações: {p.get('failed_automations', 0)})."
    )


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
        if d.step in SWITCHES and not telegram.switched_on(SWITCHES[d.step]):
            return Cancel("Este tipo de aviso foi desligado nas Configurações.")
        try:
            self.chat_budget.acquire(MAX_WAIT)
        except BudgetPaused as paused:
            return Defer(paused.wait, "Aguardando o limite de mensagens do Telegram.")
        self.client.send_message(chat, text_for(d))
        return None
