"""Eduzz webhooks (PLATFORMS-WRITES.md §5): v3 ``x-signature`` and the legacy flat postback.

Families build the v3 format (``{"id", "event", "data", "sentDate"}``, header ``x-signature``
= lowercase hex HMAC-SHA256 of the raw body, no prefix). Legacy event names
(``invoice_paid``, ``invoice_refunded``, ``contract_canceled``…) build the obsolete flat postback,
authenticated by the body's ``origin`` token (JSON, or form-encoded with ``--form``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from .common import Ctx, Sender, encode
from .values import BRT, reais

NATIVE: dict[str, str | None] = {
    "approved": "myeduzz.invoice_paid",
    "refunded": "myeduzz.invoice_refunded",
    "chargeback": "myeduzz.invoice_chargeback",
    "canceled": "myeduzz.invoice_canceled",
    "pix_generated": "myeduzz.invoice_opened",
    "billet_generated": "myeduzz.invoice_opened",
    "abandoned_cart": "myeduzz.cart_abandonment",
    "subscription_canceled": "myeduzz.contract_updated",
    "subscription_renewed": "myeduzz.invoice_paid",  # with the contract's charge number > 1
}
EXTRA_NATIVE: dict[str, tuple[str, str | None]] = {
    "ping": ("approved", "ping"),
    "myeduzz.invoice_waiting_refund": ("refunded", "myeduzz.invoice_waiting_refund"),
    "myeduzz.invoice_expired": ("billet_generated", "myeduzz.invoice_expired"),
    "myeduzz.contract_created": ("subscription_renewed", "myeduzz.contract_created"),
    # legacy postback (flat fields, origin token)
    "invoice_paid": ("approved", "invoice_paid"),
    "invoice_refunded": ("refunded", "invoice_refunded"),
    "invoice_canceled": ("canceled", "invoice_canceled"),
    "invoice_open": ("billet_generated", "invoice_open"),
    "contract_canceled": ("subscription_canceled", "contract_canceled"),
    "cart_abandonment": ("abandoned_cart", "cart_abandonment"),
}
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
INVOICE_STATUS = {
    "myeduzz.invoice_paid": "paid",
    "myeduzz.invoice_refunded": "refunded",
    "myeduzz.invoice_chargeback": "chargeback",
    "myeduzz.invoice_canceled": "canceled",
    "myeduzz.invoice_opened": "open",
    "myeduzz.invoice_waiting_refund": "waiting_refund",
    "myeduzz.invoice_expired": "expired",
}
LEGACY_STATUS = {
    "invoice_paid": "3",
    "invoice_refunded": "7",
    "invoice_canceled": "4",
    "invoice_open": "1",
    "contract_canceled": "3",
    "cart_abandonment": "1",
}


def _legacy(native: str | None) -> bool:
    return bool(native) and "." not in native and native != "ping"


def _method(c: Ctx) -> str:
    if c.family == "pix_generated":
        return "pix"
    if c.family == "billet_generated":
        return "bankslip"
    return "creditCard"


def _v3(c: Ctx) -> dict:
    native = c.native or "myeduzz.invoice_paid"
    envelope: dict[str, Any] = {"id": c.event_id or c.code(24, ID_ALPHABET)}
    envelope["event"] = native
    envelope["sentDate"] = c.iso()
    if native == "ping":
        envelope["data"] = {}
        return envelope
    product = {
        "productId": c.product_id or str(c.r.randrange(1_000_000, 9_999_999)),
        "name": c.product_name,
        "refundPeriod": {"durationType": "days", "value": 7},
        "price": {"currency": "BRL", "value": reais(c.amount)},
    }
    phone = f"+55 {c.ddd} {c.phone}"
    if native.startswith("myeduzz.contract_"):
        contract_status = "canceled" if c.family == "subscription_canceled" else "upToDate"
        envelope["data"] = {
            "producer": {"id": "123456", "name": "Vendas Hub Produções", "email": "p@example.com"},
            "products": [
                {
                    "id": product["productId"],
                    "name": c.product_name,
                    "deliveries": ["nutror"],
                    "plan": None,
                    "price": product["price"],
                }
            ],
            "contract": {
                "id": c.transaction or str(c.r.randrange(100_000, 999_999)),
                "payment": {"method": "creditCard", "totalOfInstallments": 12},
                "status": contract_status,
                "createdAt": c.iso(timedelta(days=-30 * c.recurrence)),
                "updatedAt": c.iso(),
                "recurrence": {
                    "nextDue": c.iso(timedelta(days=30)),
                    "frequency": {"type": "month", "value": 1},
                    "charges": {"total": 12, "current": c.recurrence},
                    "price": product["price"],
                },
            },
            "customer": {
                "name": c.name,
                "email": c.email,
                "phone": {"countryCode": "55", "areaCode": c.ddd, "number": c.phone},
            },
        }
        return envelope
    data: dict[str, Any] = {"status": INVOICE_STATUS.get(native, "abandoned")}
    if native != "myeduzz.cart_abandonment":
        data = {"id": c.transaction or str(c.r.randrange(10_000_000, 99_999_999)), **data}
        data["producer"] = {"id": "123456", "email": "p@example.com", "name": "Vendas Hub"}
        data["utm"] = {"source": "FB", "campaign": None, "content": None, "medium": None}
    data["buyer"] = {"name": c.name, "email": c.email, "phone": phone, "cellphone": phone}
    data["createdAt"] = c.iso(timedelta(minutes=-2))
    data["price"] = {"currency": "BRL", "value": reais(c.amount)}
    if native != "myeduzz.cart_abandonment":
        data["paymentMethod"] = _method(c)
        data["installments"] = 1
    if native == "myeduzz.invoice_paid":
        data["paidAt"] = c.iso()
    if native == "myeduzz.invoice_refunded":
        data["refundedAt"] = c.iso()
    if c.recurring:
        data["contract"] = {"id": str(c.r.randrange(100_000, 999_999))}
        data["contract"]["recurrence"] = {"charges": {"current": c.recurrence}}
    data["items"] = [product]
    envelope["data"] = data
    return envelope


def _postback(c: Ctx) -> dict:
    native = c.native or "invoice_paid"
    local = c.now.astimezone(BRT)
    body: dict[str, Any] = {
        "type": "abandonment"
        if native == "cart_abandonment"
        else ("contract" if native.startswith("contract_") else "invoice"),
        "event_name": native,
        "trans_cod": c.transaction or str(c.r.randrange(10_000_000, 99_999_999)),
        "trans_value": f"{c.amount / 100:.2f}",
        "trans_paid": f"{c.amount / 100:.2f}",
        "trans_currency": "BRL",
        "trans_paymentmethod": "32" if c.family == "pix_generated" else "15",
        "trans_createdate": local.strftime("%Y%m%d"),
        "trans_createtime": local.strftime("%H:%M:%S"),
        "trans_status": LEGACY_STATUS.get(native, "1"),
        "product_cod": c.product_id or str(c.r.randrange(100_000, 999_999)),
        "product_name": c.product_name,
        "cus_cod": str(c.r.randrange(100_000, 999_999)),
        "cus_name": c.name,
        "cus_email": c.email,
        "cus_taxnumber": c.document,
        "cus_cel": f"{c.ddd}{c.phone}",
    }
    if native == "invoice_paid":
        body["trans_paiddate"] = body["trans_createdate"]
        body["trans_paidtime"] = body["trans_createtime"]
    if native.startswith("contract_"):
        body["recurrence_cod"] = str(c.r.randrange(100_000, 999_999))
        body["recurrence_status"] = "4"
    return body


def build(c: Ctx) -> dict:
    return _postback(c) if _legacy(c.native) else _v3(c)


def signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body keyed with the secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _is_postback(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except RecursionError:  # nested past the stack: not a postback (refused by the receiver)
        return False
    except ValueError:  # form-encoded: only the legacy postback is sent that way
        return "trans_cod" in parse_qs(body.decode("utf-8", "replace"))
    return isinstance(payload, dict) and "trans_cod" in payload


def body(payload: dict, secret: str | None, options: dict) -> tuple[bytes, str]:
    if "trans_cod" not in payload:
        return encode(payload), "application/json"
    if secret:
        payload = {"origin": secret, **payload}
    if options.get("form"):
        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    return encode(payload), "application/json"


def sign(body: bytes, secret: str | None, options: dict) -> tuple[dict[str, str], dict[str, str]]:
    if not secret or _is_postback(body):
        return {}, {}  # the postback carries its origin token in the body
    return {"x-signature": signature(body, secret)}, {}


SENDER = Sender(
    "eduzz",
    NATIVE,
    EXTRA_NATIVE,
    build,
    sign,
    "Eduzz-Webhook/3.0",
    body,
    secret_help="HMAC-SHA256 key (x-signature) / origin token",
)
