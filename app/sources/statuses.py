"""Platform payment methods and statuses → the normalized names stored on a sale."""

from __future__ import annotations

from typing import Any

from .values import MAX_PAYMENT_METHOD_LEN, text, upper_token

_PAYMENT_METHODS = {
    "PIX": "pix",
    "CREDIT_CARD": "credit_card",
    "CARD": "credit_card",
    "BILLET": "boleto",
    "BOLETO": "boleto",
    "BANK_SLIP": "boleto",
}


def normalize_payment_method(value: Any) -> str | None:
    raw = text(value, 64)
    if raw is None:
        return None
    key = raw.upper().replace("-", "_").replace(" ", "_")
    return _PAYMENT_METHODS.get(key) or raw.lower()[:MAX_PAYMENT_METHOD_LEN]


_STATUSES = {
    # Hotmart purchase.status
    "APPROVED": "approved",
    "COMPLETE": "complete",
    "COMPLETED": "complete",
    "CANCELLED": "canceled",
    "CANCELED": "canceled",
    "REFUNDED": "refunded",
    "PARTIALLY_REFUNDED": "refunded",
    "CHARGEBACK": "chargeback",
    "DISPUTE": "disputed",
    "PROTESTED": "disputed",
    "PRINTED_BILLET": "pending",
    "WAITING_PAYMENT": "pending",
    "STARTED": "pending",
    "PROCESSING_TRANSACTION": "pending",
    "UNDER_ANALISYS": "pending",
    "UNDER_ANALYSIS": "pending",
    "PRE_ORDER": "pending",
    "EXPIRED": "expired",
    "OVERDUE": "overdue",
    "DELAYED": "overdue",
    "NO_FUNDS": "refused",
    "BLOCKED": "refused",
    # Kiwify order_status
    "PAID": "approved",
    "REFUSED": "refused",
    "CHARGEDBACK": "chargeback",
    "ABANDONED": "abandoned",
    # Kirvano status
    "PENDING": "pending",
    "ABANDONED_CART": "abandoned",
}


def normalize_status(value: Any) -> str | None:
    """Platform status → one of the normalized sale statuses, or ``None`` if unknown.

    ``CANCELLED_BY_*`` / ``CANCELED_BY_*`` (Hotmart subscriptions spell both) → ``canceled``.
    """
    raw = upper_token(value)
    if raw is None:
        return None
    if raw.startswith(("CANCELLED_BY_", "CANCELED_BY_")):
        return "canceled"
    return _STATUSES.get(raw)
