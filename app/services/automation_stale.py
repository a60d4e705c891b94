"""Is a claimed automation delivery still worth sending? One check per outbox target.

Issue 10: the sender checks, in the same transaction that claims a row, that what it announces
still holds, and marks it ``cancelled`` otherwise, with the reason shown in the delivery log
(/automacoes, /telegram). ``app.services.automation_sender._claim_next`` calls
``stale_reason`` before committing its claim; the e-mail outbox has its own
(``app.services.outbox_messages._stale_reason``).

What each target treats as stale:

* ``kommo`` / ``gestao_click``: the first push of a sale (Kommo's won lead, Gestão Click's
  venda) whose sale was refunded or charged back before any attempt could reach the API.
  Nothing false is announced (a won lead can start Kommo automations that write to the
  buyer), and the CRM stays consistent: the "lost" / refund step that follows finds no lead
  or venda and is cancelled too, so the CRM never hears of the sale. A push that already made
  its lead or venda (an earlier attempt) goes on, so the refund step can move it to lost.
  Renewal notes and a renewal's venda record a payment that did happen: not checked.
* ``telegram`` (the operator's notifications): nothing is stale. A "nova venda" whose sale was
  refunded before sending is still sent, followed by its "reembolso": the operator wants to
  know both (nothing is said to the buyer).
* ``telegram_access``: ``app.services.telegram_access.stale_reason`` (an invite for a purchase
  refunded or revoked, or replaced by a newer link; a removal of a member who holds the chat
  again).
"""

from __future__ import annotations

from app.models.automation import (
    STEP_CONTACT_LEAD,
    STEP_VENDA,
    TARGET_GESTAO_CLICK,
    TARGET_KOMMO,
    AutomationDelivery,
)

MSG_REFUNDED = "Venda reembolsada antes do envio: nada foi enviado."


# A refund or chargeback takes the money back; a subscription cancelled after its paid charge
# keeps that charge (its lead was won, its venda is revenue), so ``canceled`` is not here.
MONEY_RETURNED = frozenset({"refunded", "chargeback"})


def _sale_revoked_before_push(d: AutomationDelivery, first_step: str) -> str | None:
    # ``attempts`` counts this claim (a 429 gives its try back): above 1, an earlier try timed
    # out or met a 5xx and may have made the lead or venda — the pusher searches for it and
    # the refund step that follows moves it, instead of leaving it won in the CRM.
    if d.step != first_step or d.remote_lead_id is not None or d.attempts > 1 or d.sale is None:
        return None
    if d.dedupe_key != f"{d.target}:{first_step}:{d.sale_id}":
        return None  # a renewal's payment (its key names the recurrence): it happened
    return MSG_REFUNDED if d.sale.status in MONEY_RETURNED else None


def _kommo(d: AutomationDelivery) -> str | None:
    return _sale_revoked_before_push(d, STEP_CONTACT_LEAD)


def _gestao_click(d: AutomationDelivery) -> str | None:
    return _sale_revoked_before_push(d, STEP_VENDA)


def _telegram(_d: AutomationDelivery) -> str | None:
    return None  # the operator is told of the sale and of its refund, in that order


def _telegram_access(d: AutomationDelivery) -> str | None:
    from app.services import telegram_access

    return telegram_access.stale_reason(d)


CHECKS = {
    TARGET_KOMMO: _kommo,
    TARGET_GESTAO_CLICK: _gestao_click,
    "telegram": _telegram,
    "telegram_access": _telegram_access,
}


def stale_reason(d: AutomationDelivery) -> str | None:
    """Why ``d`` must not be sent any more, or ``None`` when what it announces still holds."""
    check = CHECKS.get(d.target)
    return check(d) if check is not None else None
