"""Kiwify order webhooks (PLATFORMS.md §4): ``?signature=`` HMAC-SHA1 of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import string
from datetime import timedelta
from typing import Any

from .common import Ctx, Sender

NATIVE: dict[str, str | None] = {
    "approved": "order_approved",
    "refunded": "order_refunded",
    "chargeback": "chargeback",
    "canceled": "order_rejected",
    "pix_generated": "pix_created",
    "billet_generated": "billet_created",
    "abandoned_cart": None,  # no webhook_event_type; body has status "abandoned"
    "subscription_canceled": "subscription_canceled",
    "subscription_renewed": "subscription_renewed",
}
EXTRA_NATIVE: dict[str, tuple[str, str | None]] = {
    "subscription_late": ("subscription_renewed", "subscription_late"),
    "compra_aprovada": ("approved", "order_approved"),
    "compra_recusada": ("canceled", "order_rejected"),
    "compra_reembolsada": ("refunded", "order_refunded"),
    "boleto_gerado": ("billet_generated", "billet_created"),
    "pix_gerado": ("pix_generated", "pix_created"),
    "carrinho_abandonado": ("abandoned_cart", None),
}
KIWIFY_STATUS = {
    "order_approved": "paid",
    "order_rejected": "refused",
    "order_refunded": "refunded",
    "chargeback": "chargedback",
    "billet_created": "waiting_payment",
    "pix_created": "waiting_payment",
    "subscription_canceled": "paid",
    "subscription_renewed": "paid",
    "subscription_late": "waiting_payment",
}


def build(c: Ctx) -> dict:
    r = c.r
    product_id = c.product_id or c.uuid()
    if c.family == "abandoned_cart":
        return {
            "id": c.uuid(),
            "checkout_link": c.code(7, string.ascii_letters + string.digits),
            "status": "abandoned",
            "name": c.name,
            "email": c.email,
            "phone": f"+55{c.ddd}{c.phone}",
            "cnpj": c.document if len(c.document) == 14 else None,
            "country": "br",
            "product_id": product_id,
            "product_name": c.product_name,
            "offer_id": c.uuid(),
            "offer_name": None,
            "store_id": c.code(15, string.ascii_letters + string.digits),
            "created_at": c.local(fmt="%Y-%m-%d %H:%M"),
            "subscription_plan": None,
        }
    native = c.native or "order_approved"
    method = "credit_card"
    if c.family == "pix_generated":
        method = "pix"
    elif c.family == "billet_generated":
        method = "boleto"
    fee = round(c.amount * 0.099) + 100
    order_id = c.transaction or c.uuid()
    waiting = KIWIFY_STATUS[native] == "waiting_payment"
    subscription = None
    if c.recurring:
        plan = {"id": c.uuid(), "name": "Plano Mensal", "frequency": "monthly", "qty_charges": 0}
        subscription = {
            "id": c.uuid(),
            "status": "canceled" if native == "subscription_canceled" else "active",
            "start_date": c.iso(timedelta(days=-30 * (c.recurrence - 1))),
            "next_payment": c.iso(timedelta(days=30)),
            "plan": plan,
            "charges": {
                "completed": [
                    {
                        "order_id": order_id,
                        "amount": c.amount,
                        "status": "paid",
                        "installments": 1,
                        "card_type": "mastercard",
                        "card_last_digits": "1234",
                        "created_at": c.iso(),
                    }
                ]
                if not waiting
                else [],
                "future": [{"charge_date": c.iso(timedelta(days=30))}],
            },
        }
    body: dict[str, Any] = {
        "order_id": order_id,
        "order_ref": c.code(7, string.ascii_letters + string.digits),
        "order_status": KIWIFY_STATUS[native],
        "product_type": "membership",
        "payment_method": method,
        "store_id": c.code(15, string.ascii_letters + string.digits),
        "payment_merchant_id": r.randrange(10_000_000, 99_999_999),
        "installments": 1,
        "card_type": "mastercard" if method == "credit_card" else None,
        "card_last4digits": "1234" if method == "credit_card" else None,
        "card_rejection_reason": "insufficient_funds" if native == "order_rejected" else None,
        "boleto_URL": f"https://boleto.example.com/{c.code(12)}" if method == "boleto" else None,
        "boleto_barcode": "".join(str(r.randrange(10)) for _ in range(47))
        if method == "boleto"
        else None,
        "boleto_expiry_date": c.local(timedelta(days=3), "%Y-%m-%d")
        if method == "boleto"
        else None,
        "pix_code": f"00020101021226{c.code(40)}" if method == "pix" else None,
        "pix_expiration": c.local(timedelta(hours=1)) if method == "pix" else None,
        "sale_type": "producer",
        "created_at": c.local(timedelta(minutes=-1), "%Y-%m-%d %H:%M"),
        "updated_at": c.local(fmt="%Y-%m-%d %H:%M"),
        "approved_date": None
        if waiting or native == "order_rejected"
        else c.local(fmt="%Y-%m-%d %H:%M"),
        "refunded_at": c.local(fmt="%Y-%m-%d %H:%M")
        if native in ("order_refunded", "chargeback")
        else None,
        "webhook_event_type": native,
        "Product": {"product_id": product_id, "product_name": c.product_name},
        "Customer": {
            "full_name": c.name,
            "first_name": c.first_name,
            "email": c.email,
            "mobile": f"+55{c.ddd}{c.phone}",
            "CPF": c.document,
            "ip": f"203.0.113.{r.randrange(1, 255)}",
            "instagram": None,
            "street": "Avenida Paulista",
            "number": "1000",
            "complement": None,
            "neighborhood": "Bela Vista",
            "city": "São Paulo",
            "state": "SP",
            "zipcode": "01310100",
        },
        "Commissions": {
            "charge_amount": c.amount,
            "product_base_price": c.amount,
            "product_base_price_currency": "BRL",
            "kiwify_fee": fee,
            "kiwify_fee_currency": "BRL",
            "settlement_amount": c.amount - fee,
            "settlement_amount_currency": "BRL",
            "sale_tax_rate": 0,
            "sale_tax_amount": 0,
            "currency": "BRL",
            "my_commission": c.amount - fee,
            "funds_status": None,
            "estimated_deposit_date": None,
            "deposit_date": None,
        },
        "TrackingParameters": {
            "src": None,
            "sck": None,
            "utm_source": "FB",
            "utm_medium": None,
            "utm_campaign": None,
            "utm_content": None,
            "utm_term": None,
            "s1": None,
            "s2": None,
            "s3": None,
        },
        "Subscription": subscription,
        "subscription_id": subscription["id"] if subscription else None,
    }
    return body


def signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA1 of the raw body keyed by the webhook token."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def sign(body: bytes, secret: str | None, options: dict) -> tuple[dict[str, str], dict[str, str]]:
    return {}, {"signature": signature(body, secret or "")}


SENDER = Sender("kiwify", NATIVE, EXTRA_NATIVE, build, sign, "axios/1.7.7", secret_help="HMAC key")
