"""Hotmart REST items → the columns of ``Product``, ``Sale`` and ``Subscription`` (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.clients.hotmart import from_epoch
from app.services import bulk
from app.sources import tracking
from app.sources.base import (
    as_dict,
    as_int,
    decimal_to_cents,
    dig,
    normalize_currency,
    normalize_payment_method,
    normalize_status,
    text,
)
from app.sources.recurrence import (
    frequency_from_days,
    frequency_from_name,
    hotmart_state,
    monthly_cents,
)


def _ms(value: Any) -> datetime | None:
    """A REST date: epoch milliseconds as documented, but seconds too (detected by magnitude:
    anything below 10^11 is seconds), a digit string, or an ISO/local date string."""
    return from_epoch(value)


def product_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 64)
    if remote_id is None:
        return None
    price = as_dict(item.get("price"))
    return {
        "remote_id": remote_id,
        "ucode": text(item.get("ucode"), 64),
        "name": text(item.get("name")) or "",
        "status": text(item.get("status"), 32),
        "format": text(item.get("format"), 32),
        "price_cents": decimal_to_cents(price.get("value")) if price else None,
        "currency": normalize_currency(price.get("currency_code") or price.get("currency_value"))
        if price
        else None,
        "is_subscription": bool(item.get("is_subscription")),
        "warranty_period": as_int(item.get("warranty_period")),
        "remote_created_at": _ms(item.get("created_at")),
        "raw": item,
    }


def sale_fields(item: dict, ucodes: dict[str, str]) -> dict[str, Any] | None:
    """A sales/history item → ``Sale`` fields plus ``status``/``occurred_at``/``approved_at``."""
    purchase = as_dict(item.get("purchase"))
    transaction = text(purchase.get("transaction"))
    if transaction is None:
        return None
    product = as_dict(item.get("product"))
    buyer = as_dict(item.get("buyer"))
    price = as_dict(purchase.get("price"))
    product_id = text(product.get("id"))
    status = normalize_status(purchase.get("status"))
    approved_at = _ms(purchase.get("approved_date"))
    order_at = _ms(purchase.get("order_date"))
    return {
        "transaction_id": transaction,
        "status": status,
        "approved_at": approved_at,
        # REST gives no refund/cancellation date: the order date is the best known moment
        # (a status only moves forward, so an older date never undoes a newer webhook).
        "occurred_at": approved_at or order_at,
        "fields": {
            "buyer_email": bulk.email(buyer.get("email")),
            "buyer_name": text(buyer.get("name")),
            # webhook sales prefer the product ucode: use it when known so both agree
            "product_id": text(product.get("ucode"))
            or (ucodes.get(product_id) if product_id else None)
            or product_id,
            "product_name": text(product.get("name")),
            "ordered_at": order_at,
            "offer_code": text(dig(purchase, "offer", "code")),
            "amount_cents": decimal_to_cents(price.get("value")),
            "currency": normalize_currency(price.get("currency_code"))
            or normalize_currency(price.get("currency_value")),
            "payment_method": normalize_payment_method(
                dig(purchase, "payment", "type") or dig(purchase, "payment", "method")
            ),
            "subscription_id": text(dig(item, "subscription", "subscriber", "code")),
            "recurrence_number": as_int(
                purchase.get("recurrency_number") or purchase.get("recurrence_number")
            ),
            **tracking.hotmart_history(purchase),
        },
    }


def subscription_fields(item: dict) -> dict[str, Any] | None:
    code = text(item.get("subscriber_code"), 64)
    product = as_dict(item.get("product"))
    product_id = text(product.get("id"), 64)
    if code is None or product_id is None:
        return None
    plan = as_dict(item.get("plan"))
    price = as_dict(item.get("price"))
    subscriber = as_dict(item.get("subscriber"))
    return {
        "subscriber_code": code,
        "product_id": product_id,
        "subscription_id": text(item.get("subscription_id"), 64),
        "product_name": text(product.get("name")),
        "product_ucode": text(product.get("ucode"), 64),
        "status": text(item.get("status"), 32),
        "plan_id": text(plan.get("id"), 64),
        "plan_name": text(plan.get("name")),
        "buyer_name": text(subscriber.get("name")),
        "buyer_email": bulk.email(subscriber.get("email")),
        "accession_date": _ms(item.get("accession_date")),
        "date_next_charge": _ms(item.get("date_next_charge")),
        "price_cents": decimal_to_cents(price.get("value")),
        "currency": normalize_currency(price.get("currency_code")),
        **_subscription_state(item, plan, price),
    }


def _subscription_state(item: dict, plan: dict, price: dict) -> dict[str, Any]:
    """The normalized state, frequency and monthly value (app.services.subscriptions)."""
    state = hotmart_state(text(item.get("status"), 32))
    frequency = frequency_from_days(as_int(plan.get("recurrency_period"))) or (
        frequency_from_name(text(plan.get("name")))
    )
    ended = _ms(item.get("end_accession_date")) if state in ("canceled", "ended") else None
    return {
        "state": state,
        "frequency": frequency,
        # R$ only: a plan in another currency adds nothing to the MRR (shown in reais).
        "mrr_cents": monthly_cents(decimal_to_cents(price.get("value")), frequency)
        if (normalize_currency(price.get("currency_code")) or "BRL") == "BRL"
        else 0,
        "canceled_at": ended,
    }
