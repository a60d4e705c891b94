"""Kiwify purchase webhooks (PLATFORMS.md §4).

Proof: Kiwify appends ``?signature=<hex>`` to the URL, the lowercase hex HMAC-SHA1 of the
**raw body** keyed with the webhook token. The token itself is never sent.

Event → kind (``webhook_event_type``):

* ``order_approved`` → GRANT; ``subscription_renewed`` → RENEW.
* ``order_refunded`` / ``chargeback`` → REVOKE.
* ``order_rejected`` → REVOKE with status ``refused``: revoking only makes sense when the order
  was granted before; the service decides (a never-approved order just records the status).
* ``subscription_canceled`` → REVOKE, ``access_until`` = ``Subscription.next_payment``.
* ``subscription_late`` → FLAG.
* ``billet_created`` / ``pix_created`` → INFO; abandoned carts (no ``webhook_event_type``, a
  top-level ``id`` and ``status: "abandoned"``) → INFO as ``abandoned_cart``; unknown → INFO.

Dedupe key: ``<event>:<order_id>``; subscription events append ``Subscription.id``, and
renewals / late notices also ``updated_at`` (Kiwify may reuse the order id per charge);
carts use ``abandoned_cart:<id>``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from .base import (
    NO_SECRET_REASON,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    as_dict,
    body_hash_key,
    cents_from_int,
    clean_secret,
    dig,
    digits_only,
    document_type_for,
    ensure_valid,
    get_arg,
    local_to_utc,
    make_key,
    normalize_currency,
    normalize_email,
    normalize_payment_method,
    normalize_phone,
    normalize_status,
    secure_equals,
    text,
)

PLATFORM = "kiwify"
ABANDONED_CART = "abandoned_cart"
SUBSCRIPTION_CANCELED = "subscription_canceled"

EVENTS: dict[str, tuple[Kind, str | None]] = {
    "order_approved": (Kind.GRANT, "approved"),
    "subscription_renewed": (Kind.RENEW, "approved"),
    "order_refunded": (Kind.REVOKE, "refunded"),
    "chargeback": (Kind.REVOKE, "chargeback"),
    "order_rejected": (Kind.REVOKE, "refused"),
    SUBSCRIPTION_CANCELED: (Kind.REVOKE, "canceled"),
    "subscription_late": (Kind.FLAG, "overdue"),
    "billet_created": (Kind.INFO, "pending"),
    "pix_created": (Kind.INFO, "pending"),
    ABANDONED_CART: (Kind.INFO, "abandoned"),
}

# Events whose dedupe key also carries updated_at (one event per billing cycle).
_PER_CYCLE_EVENTS = {"subscription_renewed", "subscription_late"}


def sign(raw_body: bytes, secret: str) -> str:
    """The signature Kiwify sends for ``raw_body``: hex HMAC-SHA1 keyed with the token."""
    key = secret.encode("utf-8", "surrogatepass")
    return hmac.new(key, bytes(raw_body), hashlib.sha1).hexdigest()


def verify(
    raw_body: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    secret: str | None,
) -> VerifyResult:
    """Check ``?signature=`` against the HMAC-SHA1 of the raw body (hex, any case)."""
    token = clean_secret(secret)
    if token is None:
        return VerifyResult(False, NO_SECRET_REASON, None)
    given = get_arg(args, "signature")
    if given is None or not given.strip():
        return VerifyResult(False, "Parâmetro signature ausente na URL", None)
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        return VerifyResult(False, "Corpo da requisição ausente", None)
    expected = sign(raw_body, token)
    if secure_equals(given.strip().lower(), expected):
        return VerifyResult(True, "Assinatura HMAC-SHA1 válida", "query:signature")
    return VerifyResult(False, "Assinatura inválida", None)


def unwrap(body: dict) -> dict:
    """Some deliveries were reported wrapped as ``{"order": {...}}``: unwrap a lone key."""
    if len(body) == 1 and isinstance(body.get("order"), dict):
        return body["order"]
    return body


def _is_cart(body: dict) -> bool:
    status = text(body.get("status"))
    return (
        body.get("webhook_event_type") in (None, "")
        and status is not None
        and status.lower() == "abandoned"
        and text(body.get("id")) is not None
    )


def parse(body: dict) -> NormalizedEvent:
    if not isinstance(body, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    body = unwrap(body)
    if _is_cart(body):
        event = _parse_cart(body)
        ensure_valid(event)
        return event

    event_type = (text(body.get("webhook_event_type"), 64) or "unknown").lower()
    kind, status = EVENTS.get(event_type, (Kind.INFO, None))
    if status is None:
        status = normalize_status(body.get("order_status"))
    customer = as_dict(body.get("Customer"))
    product = as_dict(body.get("Product"))
    commissions = as_dict(body.get("Commissions"))
    subscription = as_dict(body.get("Subscription"))

    order_id = text(body.get("order_id"))
    subscription_id = text(subscription.get("id")) or text(body.get("subscription_id"))
    document = digits_only(customer.get("CPF")) or digits_only(customer.get("cnpj"))

    if event_type in ("order_approved", "subscription_renewed"):
        date_keys = ("approved_date", "updated_at", "created_at")
    elif event_type == "order_refunded":
        date_keys = ("refunded_at", "updated_at", "created_at")
    else:
        date_keys = ("updated_at", "created_at")
    occurred_at = next(
        (moment for key in date_keys if (moment := local_to_utc(body.get(key)))), None
    )

    key_parts: list[Any] = [event_type, order_id]
    if event_type.startswith("subscription_") and subscription_id:
        key_parts.append(subscription_id)
    if event_type in _PER_CYCLE_EVENTS:
        cycle = text(body.get("updated_at")) or text(body.get("approved_date"))
        if cycle:
            key_parts.append(cycle)
    dedupe_key = make_key(*key_parts) if order_id else None

    access_until = None
    if event_type == SUBSCRIPTION_CANCELED:
        access_until = local_to_utc(subscription.get("next_payment"))

    event = NormalizedEvent(
        platform=PLATFORM,
        event_type=event_type,
        kind=kind,
        dedupe_key=dedupe_key or body_hash_key(event_type, body),
        transaction_id=order_id,
        status=status,
        buyer_email=normalize_email(customer.get("email")),
        buyer_name=text(customer.get("full_name")) or text(customer.get("first_name")),
        buyer_phone=normalize_phone(customer.get("mobile")),
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=text(product.get("product_id")),
        product_name=text(product.get("product_name")),
        offer_code=text(product.get("product_offer_id")),
        plan_name=text(dig(subscription, "plan", "name")),
        amount_cents=cents_from_int(commissions.get("charge_amount")),
        currency=normalize_currency(commissions.get("currency")),
        payment_method=normalize_payment_method(body.get("payment_method")),
        occurred_at=occurred_at,
        subscription_id=subscription_id,
        recurrence_number=None,
        access_until=access_until,
    )
    ensure_valid(event, subscription_cancellation=event_type == SUBSCRIPTION_CANCELED)
    return event


def _parse_cart(body: dict) -> NormalizedEvent:
    """Abandoned cart: flat keys (``id, email, name, phone, cnpj|cpf, product_id, …``)."""
    cart_id = text(body.get("id"))
    customer = as_dict(body.get("Customer"))
    document = digits_only(body.get("cnpj")) or digits_only(body.get("cpf"))
    return NormalizedEvent(
        platform=PLATFORM,
        event_type=ABANDONED_CART,
        kind=Kind.INFO,
        dedupe_key=make_key(ABANDONED_CART, cart_id) or body_hash_key(ABANDONED_CART, body),
        transaction_id=None,
        status="abandoned",
        buyer_email=normalize_email(body.get("email")) or normalize_email(customer.get("email")),
        buyer_name=text(body.get("name")) or text(customer.get("full_name")),
        buyer_phone=normalize_phone(body.get("phone")) or normalize_phone(customer.get("mobile")),
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=text(body.get("product_id")),
        product_name=text(body.get("product_name")),
        offer_code=text(body.get("offer_id")),
        plan_name=text(dig(body, "subscription_plan", "name")) or text(body.get("plan_name")),
        amount_cents=None,
        currency=None,
        payment_method=None,
        occurred_at=local_to_utc(body.get("created_at")),
        subscription_id=None,
        recurrence_number=None,
    )
