"""Hotmart webhook 2.0.0 (PLATFORMS.md §3): ``X-HOTMART-HOTTOK`` header, optional body hottok."""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any

from .common import Ctx, Sender, encode
from .values import make_cnpj, reais

NATIVE: dict[str, str | None] = {
    "approved": "PURCHASE_APPROVED",
    "refunded": "PURCHASE_REFUNDED",
    "chargeback": "PURCHASE_CHARGEBACK",
    "canceled": "PURCHASE_CANCELED",
    "pix_generated": "PURCHASE_BILLET_PRINTED",  # PIX event unclear [L]
    "billet_generated": "PURCHASE_BILLET_PRINTED",
    "abandoned_cart": "PURCHASE_OUT_OF_SHOPPING_CART",
    "subscription_canceled": "SUBSCRIPTION_CANCELLATION",
    "subscription_renewed": "PURCHASE_APPROVED",  # with recurrence_number > 1
}
EXTRA_NATIVE: dict[str, tuple[str, str | None]] = {
    "PURCHASE_COMPLETE": ("approved", "PURCHASE_COMPLETE"),
    "PURCHASE_PROTEST": ("refunded", "PURCHASE_PROTEST"),
    "PURCHASE_EXPIRED": ("billet_generated", "PURCHASE_EXPIRED"),
    "PURCHASE_DELAYED": ("subscription_renewed", "PURCHASE_DELAYED"),
}
HOTMART_STATUS = {
    "PURCHASE_APPROVED": "APPROVED",
    "PURCHASE_COMPLETE": "COMPLETE",
    "PURCHASE_REFUNDED": "REFUNDED",
    "PURCHASE_CHARGEBACK": "CHARGEBACK",
    "PURCHASE_CANCELED": "CANCELLED",
    "PURCHASE_PROTEST": "DISPUTE",
    "PURCHASE_BILLET_PRINTED": "PRINTED_BILLET",
    "PURCHASE_EXPIRED": "EXPIRED",
    "PURCHASE_DELAYED": "OVERDUE",
}


def build(c: Ctx) -> dict:
    native = c.native or "PURCHASE_APPROVED"
    r = c.r
    if c.product_id.isdigit():
        product = {"id": int(c.product_id), "ucode": c.uuid(), "name": c.product_name}
    else:
        product = {
            "id": r.randrange(1_000_000, 9_999_999),
            "ucode": c.product_id or c.uuid(),
            "name": c.product_name,
        }
    plan = {"id": r.randrange(100_000, 999_999), "name": "Plano Mensal"}
    subscriber_code = c.code(8)
    if native == "PURCHASE_OUT_OF_SHOPPING_CART":
        data: dict[str, Any] = {
            "affiliate": False,
            "product": {"id": product["id"], "name": product["name"]},
            "buyer": {"name": c.name, "email": c.email, "phone": f"{c.ddd}{c.phone}"},
            "offer": {"code": c.code(8, string.ascii_lowercase + string.digits)},
            "checkout_country": {"name": "Brasil", "iso": "BR"},
        }
    elif native == "SUBSCRIPTION_CANCELLATION":
        data = {
            "date_next_charge": c.ms(timedelta(days=r.randrange(1, 30))),
            "product": {"id": product["id"], "name": product["name"]},
            "actual_recurrence_value": reais(c.amount),
            "subscriber": {
                "code": subscriber_code,
                "name": c.name,
                "email": c.email,
                "phone": {"dddPhone": "", "phone": "", "dddCell": c.ddd, "cell": c.phone},
            },
            "subscription": {"id": r.randrange(1_000_000, 9_999_999), "plan": plan},
            "cancellation_date": c.ms(),
        }
    else:
        status = HOTMART_STATUS[native]
        pay_type = "CREDIT_CARD"
        if c.family == "pix_generated":
            status, pay_type = "WAITING_PAYMENT", "PIX"
        elif c.family == "billet_generated":
            pay_type = "BILLET"
        fee = round(c.amount * 0.099) + 100
        price = {"value": reais(c.amount), "currency_value": "BRL"}
        payment: dict[str, Any] = {"installments_number": 1, "type": pay_type}
        if pay_type == "BILLET":
            payment["billet_url"] = f"https://billet.example.com/{c.code(12)}"
            payment["billet_barcode"] = "".join(str(r.randrange(10)) for _ in range(47))
        if pay_type == "PIX":
            payment["pix_code"] = f"00020101021226{c.code(40)}"
            payment["pix_qrcode"] = f"https://pix.example.com/qr/{c.code(16)}"
            payment["pix_expiration_date"] = c.ms(timedelta(days=1))
        purchase: dict[str, Any] = {
            "approved_date": c.ms(),
            "full_price": dict(price),
            "price": price,
            "checkout_country": {"name": "Brasil", "iso": "BR"},
            "order_bump": {"is_order_bump": False},
            "original_offer_price": dict(price),
            "order_date": c.ms(timedelta(seconds=-45)),
            "status": status,
            "transaction": c.transaction or f"HP{r.randrange(10**13, 10**14)}",
            "payment": payment,
            "offer": {"code": c.code(8, string.ascii_lowercase + string.digits)},
            # where the buyer came from: the checkout link's src/sck (xcod when the seller sets it)
            "origin": {"src": "FB", "sck": "HOTMART_PRODUCT_PAGE"},
            "invoice_by": "HOTMART",
            "subscription_anticipation_purchase": False,
            "is_funnel": False,
            "business_model": "I",
        }
        if status not in ("APPROVED", "COMPLETE", "REFUNDED", "CHARGEBACK", "DISPUTE"):
            purchase.pop("approved_date")
        if c.recurring:
            purchase["recurrence_number"] = c.recurrence
        data = {
            "product": product,
            "affiliates": [],
            "buyer": {
                "email": c.email,
                "name": c.name,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "checkout_phone_code": c.ddd,
                "checkout_phone": c.phone,
                "document": c.document,
                "document_type": "CNPJ" if len(c.document) == 14 else "CPF",
                "address": {"country": "Brasil", "country_iso": "BR"},
            },
            "producer": {
                "name": "Vendas Hub Produções",
                "document": make_cnpj(r),
                "legal_nature": "Pessoa Jurídica",
            },
            "commissions": [
                {"value": reais(fee), "currency_value": "BRL", "source": "MARKETPLACE"},
                {"value": reais(c.amount - fee), "currency_value": "BRL", "source": "PRODUCER"},
            ],
            "purchase": purchase,
        }
        if c.recurring:
            data["subscription"] = {
                "status": "ACTIVE" if native != "PURCHASE_DELAYED" else "DELAYED",
                "plan": plan,
                "subscriber": {"code": subscriber_code},
            }
    return {
        "id": c.event_id or c.uuid(),
        "creation_date": c.ms(),
        "event": native,
        "version": "2.0.0",
        "data": data,
    }


def sign(body: bytes, secret: str | None, options: dict) -> tuple[dict[str, str], dict[str, str]]:
    return ({"X-HOTMART-HOTTOK": secret}, {}) if secret else ({}, {})


def body(payload: dict, secret: str | None, options: dict) -> tuple[bytes, str]:
    if options.get("hottok_in_body") and secret:
        payload["hottok"] = secret
    return encode(payload), "application/json"


SENDER = Sender(
    "hotmart", NATIVE, EXTRA_NATIVE, build, sign, "Hotmart-Webhook/2.0", body, secret_help="hottok"
)
