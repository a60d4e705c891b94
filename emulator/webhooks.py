"""Realistic, signed purchase webhooks of Hotmart, Kiwify and Kirvano (PLATFORMS.md §2-§5).

``build_event`` is pure apart from fresh ids and the current time (both can be overridden):
it returns the exact body bytes, the headers and the query parameters a platform would send.
``sign`` adds the platform's proof; ``send`` posts it with ``requests``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from .datasets import BRT
from .fake import brl, make_cnpj, make_cpf, reais

PLATFORMS = ("hotmart", "kiwify", "kirvano")
FAMILIES = (
    "approved",
    "refunded",
    "chargeback",
    "canceled",
    "pix_generated",
    "billet_generated",
    "abandoned_cart",
    "subscription_canceled",
    "subscription_renewed",
)

# Generic family → the platform's native event name (PLATFORMS.md §2.2).
NATIVE: dict[str, dict[str, str | None]] = {
    "hotmart": {
        "approved": "PURCHASE_APPROVED",
        "refunded": "PURCHASE_REFUNDED",
        "chargeback": "PURCHASE_CHARGEBACK",
        "canceled": "PURCHASE_CANCELED",
        "pix_generated": "PURCHASE_BILLET_PRINTED",  # PIX event unclear [L]
        "billet_generated": "PURCHASE_BILLET_PRINTED",
        "abandoned_cart": "PURCHASE_OUT_OF_SHOPPING_CART",
        "subscription_canceled": "SUBSCRIPTION_CANCELLATION",
        "subscription_renewed": "PURCHASE_APPROVED",  # with recurrence_number > 1
    },
    "kiwify": {
        "approved": "order_approved",
        "refunded": "order_refunded",
        "chargeback": "chargeback",
        "canceled": "order_rejected",
        "pix_generated": "pix_created",
        "billet_generated": "billet_created",
        "abandoned_cart": None,  # no webhook_event_type; body has status "abandoned"
        "subscription_canceled": "subscription_canceled",
        "subscription_renewed": "subscription_renewed",
    },
    "kirvano": {
        "approved": "SALE_APPROVED",
        "refunded": "SALE_REFUNDED",
        "chargeback": "SALE_CHARGEBACK",
        "canceled": "SALE_REFUSED",
        "pix_generated": "PIX_GENERATED",
        "billet_generated": "BANK_SLIP_GENERATED",
        "abandoned_cart": "ABANDONED_CART",
        "subscription_canceled": "SUBSCRIPTION_CANCELED",
        "subscription_renewed": "SUBSCRIPTION_RENEWED",
    },
}
# Native names outside the nine families (and Kiwify's Portuguese triggers) → (family, native).
EXTRA_NATIVE: dict[str, dict[str, tuple[str, str | None]]] = {
    "hotmart": {
        "PURCHASE_COMPLETE": ("approved", "PURCHASE_COMPLETE"),
        "PURCHASE_PROTEST": ("refunded", "PURCHASE_PROTEST"),
        "PURCHASE_EXPIRED": ("billet_generated", "PURCHASE_EXPIRED"),
        "PURCHASE_DELAYED": ("subscription_renewed", "PURCHASE_DELAYED"),
    },
    "kiwify": {
        "subscription_late": ("subscription_renewed", "subscription_late"),
        "compra_aprovada": ("approved", "order_approved"),
        "compra_recusada": ("canceled", "order_rejected"),
        "compra_reembolsada": ("refunded", "order_refunded"),
        "boleto_gerado": ("billet_generated", "billet_created"),
        "pix_gerado": ("pix_generated", "pix_created"),
        "carrinho_abandonado": ("abandoned_cart", None),
    },
    "kirvano": {
        "PIX_EXPIRED": ("pix_generated", "PIX_EXPIRED"),
        "BANK_SLIP_EXPIRED": ("billet_generated", "BANK_SLIP_EXPIRED"),
        "SUBSCRIPTION_EXPIRED": ("subscription_renewed", "SUBSCRIPTION_EXPIRED"),
    },
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
OVERRIDES = {
    "email",
    "name",
    "transaction",
    "product_id",
    "product_name",
    "amount",
    "phone",
    "document",
    "recurrence",
    "now",
    "event_id",
    "recurring",
    "seed",
}
DEFAULT_KIRVANO_HEADER = "x-kirvano-token"


def resolve_event(platform: str, event: str) -> tuple[str, str | None]:
    """A family name or native event name → (family, native event name or None)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    key = event.strip().replace("-", "_")
    if key.lower() in FAMILIES:
        return key.lower(), NATIVE[platform][key.lower()]
    for family, native in NATIVE[platform].items():
        if native and native.lower() == key.lower():
            return family, native
    for native, pair in EXTRA_NATIVE[platform].items():
        if native.lower() == key.lower():
            return pair
    known = sorted(
        {*FAMILIES, *(n for n in NATIVE[platform].values() if n), *EXTRA_NATIVE[platform]}
    )
    raise ValueError(f"unknown {platform} event {event!r}; known: {', '.join(known)}")


# ---------------------------------------------------------------------------- buyer / context


class _Ctx:
    """Values shared by every platform's builder, with defaults and overrides applied."""

    def __init__(self, platform: str, family: str, native: str | None, overrides: dict):
        unknown = set(overrides) - OVERRIDES
        if unknown:
            raise TypeError(f"unknown overrides: {sorted(unknown)}")
        seed = overrides.get("seed")
        self.r = random.Random(seed) if seed is not None else random.SystemRandom()
        r = self.r
        self.platform, self.family, self.native = platform, family, native
        now = overrides.get("now") or datetime.now(UTC)
        self.now = now if now.tzinfo else now.replace(tzinfo=UTC)
        self.name = overrides.get("name") or "Maria Souza"
        self.email = (overrides.get("email") or "maria@example.com").strip()
        parts = self.name.split()
        self.first_name = parts[0]
        self.last_name = " ".join(parts[1:]) or parts[0]
        phone = "".join(ch for ch in str(overrides.get("phone") or "") if ch.isdigit())
        if phone.startswith("55") and len(phone) >= 12:
            phone = phone[2:]
        self.ddd = phone[:2] if phone else "11"
        self.phone = phone[2:] if phone else "9" + "".join(str(r.randrange(10)) for _ in range(8))
        self.document = overrides.get("document") or make_cpf(r)
        self.amount = int(overrides.get("amount") or 19700)
        self.product_id = str(overrides.get("product_id") or "")
        self.product_name = overrides.get("product_name") or "Curso Exemplo"
        self.transaction = overrides.get("transaction")
        self.event_id = overrides.get("event_id")
        renewal = family == "subscription_renewed"
        self.recurrence = int(overrides.get("recurrence") or (r.randrange(2, 12) if renewal else 1))
        self.recurring = bool(overrides.get("recurring")) or family.startswith("subscription")

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def code(self, n: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def ms(self, delta: timedelta = timedelta()) -> int:
        return int((self.now + delta).timestamp() * 1000)

    def local(self, delta: timedelta = timedelta(), fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return (self.now + delta).astimezone(BRT).strftime(fmt)

    def iso(self, delta: timedelta = timedelta()) -> str:
        return (self.now + delta).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


# ---------------------------------------------------------------------------- Hotmart


def _hotmart(c: _Ctx) -> dict:
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


# ---------------------------------------------------------------------------- Kiwify


def _kiwify(c: _Ctx) -> dict:
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


# ---------------------------------------------------------------------------- Kirvano


def _kirvano(c: _Ctx) -> dict:
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


BUILDERS = {"hotmart": _hotmart, "kiwify": _kiwify, "kirvano": _kirvano}


def build_payload(platform: str, event: str, **overrides: Any) -> dict:
    """The JSON object of one event (``event``: a family or native name)."""
    family, native = resolve_event(platform, event)
    return BUILDERS[platform](_Ctx(platform, family, native, overrides))


def encode(payload: dict) -> bytes:
    """Compact UTF-8 JSON, as the platforms send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def kiwify_signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA1 of the raw body keyed by the webhook token."""
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def sign(
    platform: str, body: bytes, secret: str | None, kirvano_header: str = DEFAULT_KIRVANO_HEADER
) -> tuple[dict[str, str], dict[str, str]]:
    """The platform's proof for ``body`` → (extra headers, extra query parameters)."""
    if not secret and platform != "kiwify":
        return {}, {}
    if platform == "hotmart":
        return {"X-HOTMART-HOTTOK": secret or ""}, {}
    if platform == "kiwify":
        return {}, {"signature": kiwify_signature(body, secret or "")}
    if platform == "kirvano":
        return {kirvano_header: secret or ""}, {}
    raise ValueError(f"unknown platform {platform!r}")


def build_event(
    platform: str,
    event: str,
    *,
    secret: str | None = None,
    kirvano_header: str = DEFAULT_KIRVANO_HEADER,
    hottok_in_body: bool = False,
    **overrides: Any,
) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """A ready-to-send event → (body bytes, headers, query parameters)."""
    payload = build_payload(platform, event, **overrides)
    if platform == "hotmart" and hottok_in_body and secret:
        payload["hottok"] = secret
    body = encode(payload)
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/plain, */*"}
    headers["User-Agent"] = {
        "hotmart": "Hotmart-Webhook/2.0",
        "kiwify": "axios/1.7.7",
        "kirvano": "Kirvano-Webhook/1.0",
    }[platform]
    extra_headers, query = sign(platform, body, secret, kirvano_header)
    headers.update(extra_headers)
    return body, headers, query


def url_with_query(url: str, query: dict[str, str]) -> str:
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def send(
    url: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST the exact bytes (redirects not followed, like Kiwify)."""
    return requests.post(
        url_with_query(url, query or {}),
        data=body,
        headers=headers,
        timeout=timeout,
        allow_redirects=False,
    )


def random_secret() -> str:
    return secrets.token_urlsafe(32)
