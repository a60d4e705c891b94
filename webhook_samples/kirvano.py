"""Kirvano webhooks (PLATFORMS.md §5): a static token in a header."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .common import Ctx, Sender
from .values import brl, reais

DEFAULT_HEADER = "x-kirvano-token"

NATIVE: dict[str, str | None] = {
    "approved": "SALE_APPROVED",
    "refunded": "SALE_REFUNDED",
    "chargeback": "SALE_CHARGEBACK",
    "canceled": "SALE_REFUSED",
    "pix_generated": "PIX_GENERATED",
    "billet_generated": "BANK_SLIP_GENERATED",
    "abandoned_cart": "ABANDONED_CART",
    "subscription_canceled": "SUBSCRIPTION_CANCELED",
    "subscription_renewed": "SUBSCRIPTION_RENEWED",
}
EXTRA_NATIVE: dict[str, tuple[str, str | None]] = {
    "PIX_EXPIRED": ("pix_generated", "PIX_EXPIRED"),
    "BANK_SLIP_EXPIRED": ("billet_generated", "BANK_SLIP_EXPIRED"),
    "SUBSCRIPTION_EXPIRED": ("subscription_renewed", "SUBSCRIPTION_EXPIRED"),
}
KIRVANO_STATUS = {
    "SALE_APPROVED": ("APPROVED", "Compra aprovada"),
    "SALE_REFUSED": ("REFUSED", "Compra recusada"),
    "SALE_REFUNDED": ("REFUNDED", "Reembolso"),
    "SALE_CHARGEBACK": ("CHARGEBACK", "Chargeback"),
    "PIX_GENERATED": ("PENDING", "PIX gerado"),
    "PIX_EXPIRED": ("CANCELED", "PIX expirado"),
    "BANK_SLIP_GENERATED": ("PENDING", "Boleto gerado"),
    "BANK_SLIP_EXPIRED": ("CANCELED", "Boleto expirado"),
    "ABANDONED_CART": ("ABANDONED_CART", "Carrinho abandonado"),
    "SUBSCRIPTION_RENEWED": ("APPROVED", "Assinatura renovada"),
    "SUBSCRIPTION_CANCELED": ("CANCELED", "Assinatura cancelada"),
    "SUBSCRIPTION_EXPIRED": ("EXPIRED", "Assinatura atrasada"),
}


def build(c: Ctx) -> dict:
    r = c.r
    native = c.native or "SALE_APPROVED"
    status, description = KIRVANO_STATUS[native]
    method = "CREDIT_CARD"
    if c.family == "pix_generated":
        method = "PIX"
    elif c.family == "billet_generated":
        method = "BANK_SLIP"
    fee = round(c.amount * 0.0699) + 100
    payment: dict[str, Any] = {"method": method}
    if method == "CREDIT_CARD":
        payment.update({"brand": "mastercard", "installments": 1})
    if method == "PIX":
        emv = f"00020101021226{c.code(60)}"
        payment.update(
            {"qrcode": emv, "qrcode_image": emv, "expires_at": c.local(timedelta(hours=1))}
        )
    if method == "BANK_SLIP":
        payment.update(
            {
                "link": f"https://boleto.example.com/{c.code(12)}",
                "digitable_line": "".join(str(r.randrange(10)) for _ in range(47)),
                "expires_at": c.local(timedelta(days=3)),
            }
        )
    if status == "APPROVED":
        payment["finished_at"] = c.local()
    body: dict[str, Any] = {
        "event": native,
        "event_description": description,
        "checkout_id": c.code(8),
    }
    if c.family != "abandoned_cart":
        body["sale_id"] = c.transaction or c.code(8)
    body.update(
        {
            "payment_method": method,
            "total_price": brl(c.amount),
            "type": "RECURRING" if c.recurring else "ONE_TIME",
            "status": status,
            "created_at": c.local(timedelta(seconds=-11)),
            "customer": {
                "name": c.name,
                "document": c.document,
                "email": c.email,
                "phone_number": f"55{c.ddd}{c.phone}",
                "address": {
                    "street": None,
                    "number": None,
                    "complement": None,
                    "neighborhood": None,
                    "city": None,
                    "state": None,
                    "zipcode": None,
                },
            },
            "payment": payment,
            "products": [
                {
                    "id": c.product_id or c.uuid(),
                    "name": c.product_name,
                    "offer_id": c.uuid(),
                    "offer_name": "Mensal" if c.recurring else "Oferta principal",
                    "description": None,
                    "price": brl(c.amount),
                    "photo": None,
                    "is_order_bump": False,
                }
            ],
            "utm": {
                "src": None,
                "utm_source": "FB",
                "utm_medium": None,
                "utm_campaign": None,
                "utm_term": None,
                "utm_content": None,
            },
            "fiscal": {
                "total_value": reais(c.amount),
                "net_value": reais(c.amount - fee),
                "fee": reais(fee),
                "commission": reais(c.amount - fee),
            },
            "contactEmail": "suporte@example.com",
            "couponDiscount": 0,
            "ip": f"203.0.113.{r.randrange(1, 255)}",
        }
    )
    if c.recurring:
        body["plan"] = {
            "name": "Plano Mensal",
            "charge_frequency": "MONTHLY",
            "charge_number": c.recurrence,
            "next_charge_date": c.local(timedelta(days=30)),
        }
    return body


def sign(body: bytes, secret: str | None, options: dict) -> tuple[dict[str, str], dict[str, str]]:
    if not secret:
        return {}, {}
    return {options.get("kirvano_header") or DEFAULT_HEADER: secret}, {}


SENDER = Sender(
    "kirvano", NATIVE, EXTRA_NATIVE, build, sign, "Kirvano-Webhook/1.0", secret_help="token"
)
