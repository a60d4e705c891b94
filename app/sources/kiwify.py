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
carts use ``abandoned_cart:<id>``, or, without an ``id``, the cart's own e-mail + product +
``created_at``.

Variants seen in captured deliveries: the order wrapped as ``{"order": {…}, "url": …,
"signature": …}`` (unwrapped whenever the root has no order fields of its own), with the
signature in the body instead of the query string (accepted only when it is the HMAC-SHA1 of
the raw body or of the ``order`` object exactly as sent). The "Testar webhook" button of the
Kiwify panel sends ``johndoe@example.com``, the nil product id and an "Example product" sold by
"Example store": a test delivery when the e-mail or the nil id is there, or both names are
(a real product merely called "Example…" is a sale).
An unknown ``webhook_event_type`` whose ``order_status`` is refunded/chargedback revokes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from app.schema import Field

from . import tracking
from .base import (
    NO_SECRET_REASON,
    TEST_PLATFORM,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    as_dict,
    as_list,
    body_hash_key,
    cents_from_int,
    clean_secret,
    dig,
    digits_only,
    document_type_for,
    ensure_valid,
    get_arg,
    kind_for_unknown,
    local_to_utc,
    make_key,
    normalize_currency,
    normalize_email,
    normalize_payment_method,
    normalize_phone,
    normalize_status,
    panel_test,
    secure_equals,
    text,
)
from .descriptor import WebhookSource
from .recurrence import normalize_frequency

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
# Keys that only an order snapshot carries at its root (an envelope has none of them).
_ORDER_FIELDS = ("order_id", "webhook_event_type", "order_status", "Customer", "Product")
# The Kiwify panel's "Testar webhook" buyer (example.com cannot receive mail anyway).
TEST_EMAILS = frozenset({"johndoe@example.com"})
# The rest of that delivery: the nil product id, a product and a store named exactly
# "Example product" / "Example store". One of these alone (a real product may be called
# "Example product") never makes a test; the nil id, or both names together, do.
TEST_PRODUCT_ID = "00000000-0000-0000-0000-000000000000"
TEST_PRODUCT_NAME = "example product"
TEST_STORE_NAME = "example store"


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
    """Check ``?signature=`` against the HMAC-SHA1 of the raw body (hex, any case).

    Without a query signature, a body ``signature`` is accepted when it is the HMAC-SHA1 of the
    raw body or of the ``order`` object exactly as sent; an unsigned body never is.
    """
    token = clean_secret(secret)
    if token is None:
        return VerifyResult(False, NO_SECRET_REASON, None)
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        return VerifyResult(False, "Corpo da requisição ausente", None)
    raw_body = bytes(raw_body)
    given = get_arg(args, "signature")
    if given is not None and given.strip():
        if secure_equals(given.strip().lower(), sign(raw_body, token)):
            return VerifyResult(True, "Assinatura HMAC-SHA1 válida", "query:signature")
        return VerifyResult(False, "Assinatura inválida", None)
    body_signature, order_bytes = _body_signature(raw_body)
    if body_signature is None:
        return VerifyResult(False, "Parâmetro signature ausente na URL", None)
    candidates = [raw_body] + ([order_bytes] if order_bytes is not None else [])
    matches = [secure_equals(body_signature, sign(candidate, token)) for candidate in candidates]
    if any(matches):
        return VerifyResult(True, "Assinatura HMAC-SHA1 válida (no corpo)", "body:signature")
    return VerifyResult(False, "Assinatura inválida", None)


def _body_signature(raw_body: bytes) -> tuple[str | None, bytes | None]:
    """The body's top-level ``signature`` and the raw bytes of its ``order`` value, if any."""
    try:
        document = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return None, None
    members = top_level_members(document)
    signature = members.get("signature")
    if signature is None:
        return None, None
    try:
        value = json.loads(signature)
    except ValueError:
        return None, None
    if not isinstance(value, str) or not value.strip():
        return None, None
    order = members.get("order")
    order_bytes = order.encode("utf-8") if order and order.lstrip().startswith("{") else None
    return value.strip().lower(), order_bytes


def top_level_members(document: str) -> dict[str, str]:
    """``{key: raw JSON text of its value}`` for a top-level JSON object; ``{}`` otherwise.

    Keeps each value exactly as sent (spacing, key order, escapes), so a signature computed
    over a nested object by the sender can be checked without re-serializing it.
    """
    decoder = json.JSONDecoder()
    members: dict[str, str] = {}
    n = len(document)

    def skip(i: int) -> int:
        while i < n and document[i] in " \t\r\n":
            i += 1
        return i

    try:
        i = skip(0)
        if i >= n or document[i] != "{":
            return {}
        i = skip(i + 1)
        if i < n and document[i] == "}":
            return {}
        while i < n:
            key, i = decoder.raw_decode(document, i)
            i = skip(i)
            if not isinstance(key, str) or i >= n or document[i] != ":":
                return {}
            start = skip(i + 1)
            _, end = decoder.raw_decode(document, start)
            members.setdefault(key, document[start:end])
            i = skip(end)
            if i < n and document[i] == ",":
                i = skip(i + 1)
                continue
            if i < n and document[i] == "}":
                return members
            return {}
    except (ValueError, RecursionError):
        return {}
    return {}


def unwrap(body: dict) -> dict:
    """``{"order": {...}, "url": …, "signature": …}`` → the order, when the root carries no
    order fields itself."""
    order = body.get("order")
    if isinstance(order, dict) and not any(key in body for key in _ORDER_FIELDS):
        return order
    return body


def _is_cart(body: dict) -> bool:
    status = text(body.get("status"))
    # A cart without its own ``id`` still counts when it names the buyer or the product.
    return (
        body.get("webhook_event_type") in (None, "")
        and status is not None
        and status.lower() == "abandoned"
        and any(text(body.get(key)) for key in ("id", "email", "product_id"))
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
    kind, status = EVENTS.get(event_type, (None, None))
    if status is None:
        status = normalize_status(body.get("order_status"))
    if kind is None:
        kind = kind_for_unknown(PLATFORM, event_type, status)
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
        test_origin=_test_origin(body, order_id, customer.get("email")),
        **tracking.flat(body.get("TrackingParameters")),
        ordered_at=local_to_utc(body.get("created_at")),
        plan_frequency=normalize_frequency(dig(subscription, "plan", "frequency")),
        next_charge_at=local_to_utc(subscription.get("next_payment")),
    )
    ensure_valid(event, subscription_cancellation=event_type == SUBSCRIPTION_CANCELED)
    return event


def _test_origin(body: dict, order_id: str | None, email: Any) -> str | None:
    """The panel's "Testar webhook": its buyer e-mail, or its product by the nil id, or by
    the "Example product" name *and* the "Example store" store together."""
    if normalize_email(email) in TEST_EMAILS or _is_example_order(body):
        return TEST_PLATFORM
    return panel_test(order_id)


def _is_example_order(body: dict) -> bool:
    product = as_dict(body.get("Product"))
    if text(product.get("product_id")) == TEST_PRODUCT_ID:
        return True
    name = (text(product.get("product_name")) or "").lower()
    stores = as_list(dig(body, "Commissions", "commissioned_stores"))
    store_names = {
        (text(store.get("custom_name")) or "").lower()
        for store in stores
        if isinstance(store, dict)
    }
    return name == TEST_PRODUCT_NAME and TEST_STORE_NAME in store_names


def _parse_cart(body: dict) -> NormalizedEvent:
    """Abandoned cart: flat keys (``id, email, name, phone, cnpj|cpf, product_id, …``)."""
    cart_id = text(body.get("id"))
    customer = as_dict(body.get("Customer"))
    document = digits_only(body.get("cnpj")) or digits_only(body.get("cpf"))
    email = normalize_email(body.get("email")) or normalize_email(customer.get("email"))
    product_id = text(body.get("product_id"))
    dedupe_key = (
        make_key(ABANDONED_CART, cart_id)
        or make_key(ABANDONED_CART, email, product_id, body.get("created_at"))
        or body_hash_key(ABANDONED_CART, body)
    )
    return NormalizedEvent(
        platform=PLATFORM,
        event_type=ABANDONED_CART,
        kind=Kind.INFO,
        dedupe_key=dedupe_key,
        transaction_id=None,
        status="abandoned",
        buyer_email=email,
        buyer_name=text(body.get("name")) or text(customer.get("full_name")),
        buyer_phone=normalize_phone(body.get("phone")) or normalize_phone(customer.get("mobile")),
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=product_id,
        product_name=text(body.get("product_name")),
        offer_code=text(body.get("offer_id")),
        plan_name=text(dig(body, "subscription_plan", "name")) or text(body.get("plan_name")),
        amount_cents=None,
        currency=None,
        payment_method=None,
        occurred_at=local_to_utc(body.get("created_at")),
        subscription_id=None,
        recurrence_number=None,
        test_origin=TEST_PLATFORM if email in TEST_EMAILS else None,
        checkout_url=text(body.get("checkout_link"), 500) or text(body.get("checkout_url"), 500),
    )


SOURCE = WebhookSource(
    name=PLATFORM,
    label="Kiwify",
    secrets=(
        Field(
            "KIWIFY_WEBHOOK_SECRET",
            "Token do webhook",
            secret=True,
            required=True,
            help="Chave do HMAC-SHA1 enviado em ?signature=.",
        ),
    ),
    verify=verify,
    parse=parse,
    subscription_cancel_events=frozenset({SUBSCRIPTION_CANCELED}),
    subscriptions_from_sales=True,
    test_markers={
        "Customer.email": TEST_EMAILS,
        "Product.product_id": TEST_PRODUCT_ID,
        "Product.product_name + Commissions.commissioned_stores[].custom_name": (
            "Example product + Example store"
        ),
    },
    missing_proof_help=(
        "A Kiwify não enviou a assinatura. Confira se a URL cadastrada na Kiwify é "
        "exatamente a mostrada acima."
    ),
    invalid_proof_help=(
        "A assinatura não confere: o token do webhook na Kiwify é diferente do salvo aqui. "
        "Copie o token do webhook na Kiwify e salve-o em Configurações → Kiwify."
    ),
)
