"""Kirvano purchase webhooks (PLATFORMS.md §5).

Proof: an optional static token whose transport Kirvano does not document. Every known location
is checked in constant time and the one that held it is reported: headers ``x-kirvano-token``,
``Authorization`` (raw or ``Bearer …``), ``security-token``, ``token``; body ``token``; and, as a
last resort, a ``token`` query argument (a secret URL). No HMAC exists.

Event → kind (``event``):

* ``SALE_APPROVED`` → GRANT (RENEW when ``plan.charge_number`` > 1, as for Hotmart);
  ``SUBSCRIPTION_RENEWED`` → RENEW.
* ``SALE_REFUNDED`` / ``SALE_CHARGEBACK`` → REVOKE.
* ``SALE_REFUSED`` → REVOKE with status ``refused``: revoking only makes sense when the sale was
  granted before; the service decides (a never-approved sale just records the status).
* ``SUBSCRIPTION_CANCELED`` → REVOKE, ``access_until`` = ``plan.next_charge_date`` when sent.
  Kirvano has no subscription id: the service matches on e-mail + product + plan.
* ``SUBSCRIPTION_EXPIRED`` (overdue) → FLAG.
* ``PIX_*``, ``BANK_SLIP_*``, ``ABANDONED_CART`` and unknown events → INFO.

Dedupe key: ``<event>:<sale_id>``; renewals and overdue notices append ``plan.charge_number``
(so does a ``SALE_APPROVED`` of a later charge, ``charge_number`` > 1); carts use
``ABANDONED_CART:<checkout_id>``, or without it the cart's e-mail + product + ``created_at``.
Currency is not sent: BRL.

Variants reported by integrators: ``REFUND`` (= ``SALE_REFUNDED``), ``SUBSCRIPTION_OVERDUE``
(= ``SUBSCRIPTION_EXPIRED``); an unknown event whose ``status`` is refunded/chargeback/canceled
revokes. The Kirvano panel's test delivery uses sale ``D2RP8RQ7`` / checkout ``Q8J1N6K3`` and
``exemplo@email.com`` (a real mail domain, so it must never be e-mailed): a test delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.schema import Field

from . import tracking
from .base import (
    NO_SECRET_REASON,
    TEST_PLATFORM,
    Item,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    as_bool,
    as_dict,
    as_int,
    as_list,
    body_hash_key,
    brl_to_cents,
    clean_secret,
    decimal_to_cents,
    digits_only,
    document_type_for,
    ensure_valid,
    get_arg,
    kind_for_unknown,
    loads_lenient,
    local_to_utc,
    lower_headers,
    make_key,
    normalize_currency,
    normalize_email,
    normalize_payment_method,
    normalize_phone,
    normalize_status,
    panel_test,
    secure_equals,
    text,
    upper_token,
)
from .descriptor import MATCH_PLAN, WebhookSource
from .recurrence import normalize_frequency

PLATFORM = "kirvano"
DEFAULT_CURRENCY = "BRL"
ABANDONED_CART = "ABANDONED_CART"
SUBSCRIPTION_CANCELED = "SUBSCRIPTION_CANCELED"

EVENTS: dict[str, tuple[Kind, str | None]] = {
    "SALE_APPROVED": (Kind.GRANT, "approved"),
    "SUBSCRIPTION_RENEWED": (Kind.RENEW, "approved"),
    "SALE_REFUNDED": (Kind.REVOKE, "refunded"),
    "SALE_CHARGEBACK": (Kind.REVOKE, "chargeback"),
    "SALE_REFUSED": (Kind.REVOKE, "refused"),
    SUBSCRIPTION_CANCELED: (Kind.REVOKE, "canceled"),
    "SUBSCRIPTION_EXPIRED": (Kind.FLAG, "overdue"),
    "PIX_GENERATED": (Kind.INFO, "pending"),
    "BANK_SLIP_GENERATED": (Kind.INFO, "pending"),
    "PIX_EXPIRED": (Kind.INFO, "expired"),
    "BANK_SLIP_EXPIRED": (Kind.INFO, "expired"),
    ABANDONED_CART: (Kind.INFO, "abandoned"),
}

# Names integrators reported besides the documented ones.
ALIASES = {
    "REFUND": "SALE_REFUNDED",
    "SALE_REFUND": "SALE_REFUNDED",
    "CHARGEBACK": "SALE_CHARGEBACK",
    "SUBSCRIPTION_OVERDUE": "SUBSCRIPTION_EXPIRED",
}

_PER_CYCLE_EVENTS = {"SUBSCRIPTION_RENEWED", "SUBSCRIPTION_EXPIRED"}

# The Kirvano panel's own test delivery.
TEST_SALE_IDS = frozenset({"D2RP8RQ7"})
TEST_CHECKOUT_IDS = frozenset({"Q8J1N6K3"})

# Header token locations, in reporting order.
TOKEN_HEADERS = ("x-kirvano-token", "authorization", "security-token", "token")


def _token_candidates(
    raw_body: bytes, headers: Mapping[str, str], args: Mapping[str, str]
) -> list[tuple[str, str]]:
    lowered = lower_headers(headers)
    found: list[tuple[str, str]] = []
    for name in TOKEN_HEADERS:
        value = lowered.get(name)
        if value is None:
            continue
        value = value.strip()
        if name == "authorization" and value[:7].lower() == "bearer ":
            value = value[7:].strip()
        found.append((f"header:{name}", value))
    body_token = loads_lenient(raw_body).get("token")
    if isinstance(body_token, str):
        found.append(("body:token", body_token.strip()))
    query_token = get_arg(args, "token")
    if query_token is not None:
        found.append(("query:token", query_token.strip()))
    return found


def verify(
    raw_body: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    secret: str | None,
) -> VerifyResult:
    """Accept the token from any known location; report which one held it."""
    expected = clean_secret(secret)
    if expected is None:
        return VerifyResult(False, NO_SECRET_REASON, None)
    candidates = _token_candidates(raw_body, headers, args)
    # Compare every candidate (no early exit), then report the first match.
    matches = [location for location, value in candidates if secure_equals(value, expected)]
    if matches:
        return VerifyResult(True, "Token válido", matches[0])
    if not candidates:
        return VerifyResult(False, "Token ausente (cabeçalho, Authorization ou corpo)", None)
    return VerifyResult(False, "Token inválido", None)


def _extra_items(products: list, main: dict) -> tuple[Item, ...]:
    """Every product of the purchase but the main one, with its own price."""
    items = []
    for product in products:
        if not isinstance(product, dict) or product is main:
            continue
        product_id = text(product.get("id"))
        if product_id is None:
            continue
        items.append(
            Item(
                product_id=product_id,
                product_name=text(product.get("name")),
                offer_code=text(product.get("offer_id")),
                amount_cents=brl_to_cents(product.get("price")),
                is_order_bump=as_bool(product.get("is_order_bump")),
            )
        )
    return tuple(items)


def _main_product(products: list) -> tuple[dict, bool]:
    """First product that is not an order bump (else the first product)."""
    items = [item for item in products if isinstance(item, dict)]
    for item in items:
        if not as_bool(item.get("is_order_bump")):
            return item, False
    if items:
        return items[0], True
    return {}, False


def _amount_cents(body: dict, product: dict, extra_items: tuple[Item, ...]) -> int | None:
    """The purchase total; with several products, the main product's own price (each other
    product's sale carries its price), when the prices are sent."""
    if extra_items:
        own = brl_to_cents(product.get("price"))
        if own is not None:
            return own
    fiscal_total = as_dict(body.get("fiscal")).get("total_value")
    cents = decimal_to_cents(fiscal_total)
    if cents is None:
        cents = brl_to_cents(body.get("total_price"))
    return cents


def parse(body: dict) -> NormalizedEvent:
    if not isinstance(body, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    event_type = upper_token(body.get("event")) or "unknown"
    event_type = ALIASES.get(event_type, event_type)
    kind, status = EVENTS.get(event_type, (None, None))
    if status is None:
        status = normalize_status(body.get("status"))
    if kind is None:
        kind = kind_for_unknown(PLATFORM, event_type, status)

    customer = as_dict(body.get("customer"))
    payment = as_dict(body.get("payment"))
    plan = as_dict(body.get("plan"))
    products = as_list(body.get("products"))
    product, is_bump = _main_product(products)
    extra_items = _extra_items(products, product)
    charge_number = as_int(plan.get("charge_number"))
    if event_type == "SALE_APPROVED" and charge_number is not None and charge_number > 1:
        kind = Kind.RENEW

    is_cart = event_type == ABANDONED_CART
    sale_id = None if is_cart else text(body.get("sale_id"))
    buyer_email = normalize_email(customer.get("email"))
    if is_cart:
        dedupe_key = make_key(event_type, body.get("checkout_id")) or make_key(
            event_type, buyer_email, product.get("id"), body.get("created_at")
        )
    elif sale_id:
        parts: list[Any] = [event_type, sale_id]
        later_charge = charge_number is not None and charge_number > 1
        if charge_number is not None and (event_type in _PER_CYCLE_EVENTS or later_charge):
            parts.append(charge_number)
        dedupe_key = make_key(*parts)
    else:
        dedupe_key = None
    if text(body.get("sale_id")) in TEST_SALE_IDS or text(body.get("checkout_id")) in (
        TEST_CHECKOUT_IDS
    ):
        test_origin = TEST_PLATFORM
    else:
        test_origin = panel_test(sale_id)

    created_at = local_to_utc(body.get("created_at"))
    if event_type in ("SALE_APPROVED", "SUBSCRIPTION_RENEWED"):
        occurred_at = local_to_utc(payment.get("finished_at")) or created_at
    else:
        occurred_at = created_at

    access_until = None
    if event_type == SUBSCRIPTION_CANCELED:
        access_until = local_to_utc(plan.get("next_charge_date"))

    document = digits_only(customer.get("document"))
    event = NormalizedEvent(
        platform=PLATFORM,
        event_type=event_type,
        kind=kind,
        dedupe_key=dedupe_key or body_hash_key(event_type, body),
        transaction_id=sale_id,
        status=status,
        buyer_email=buyer_email,
        buyer_name=text(customer.get("name")),
        buyer_phone=normalize_phone(customer.get("phone_number")),
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=text(product.get("id")),
        product_name=text(product.get("name")),
        offer_code=text(product.get("offer_id")),
        plan_name=text(plan.get("name")),
        amount_cents=_amount_cents(body, product, extra_items),
        currency=normalize_currency(body.get("currency")) or DEFAULT_CURRENCY,
        payment_method=normalize_payment_method(payment.get("method"))
        or normalize_payment_method(body.get("payment_method")),
        occurred_at=occurred_at,
        ordered_at=created_at,
        subscription_id=None,
        recurrence_number=charge_number,
        is_order_bump=is_bump,
        access_until=access_until,
        test_origin=test_origin,
        extra_items=() if is_cart else extra_items,
        checkout_url=(
            text(body.get("checkout_url"), 500) or text(body.get("checkout_link"), 500)
            if is_cart
            else None
        ),
        **tracking.flat(body.get("utm")),
        plan_frequency=normalize_frequency(plan.get("charge_frequency")),
        next_charge_at=local_to_utc(plan.get("next_charge_date")),
    )
    ensure_valid(event, subscription_cancellation=event_type == SUBSCRIPTION_CANCELED)
    return event


SOURCE = WebhookSource(
    name=PLATFORM,
    label="Kirvano",
    secrets=(Field("KIRVANO_WEBHOOK_SECRET", "Token do webhook", secret=True, required=True),),
    verify=verify,
    parse=parse,
    subscription_cancel_events=frozenset({SUBSCRIPTION_CANCELED}),
    subscriptions_from_sales=True,
    subscription_match=MATCH_PLAN,
    body_secrets=(("token",),),
    test_markers={"sale_id": TEST_SALE_IDS, "checkout_id": TEST_CHECKOUT_IDS},
    generated_token=True,
    generated_token_help=(
        "Na Kirvano o token é opcional, mas sem ele qualquer pessoa poderia enviar vendas "
        "falsas: este painel exige um. Gere aqui e cole na Kirvano (Integrações → Webhooks → "
        "Token)."
    ),
    missing_proof_help=(
        "A Kirvano enviou o webhook sem token. No painel da Kirvano, em Integrações → "
        "Webhooks, cole no campo “Token” o token de Configurações → Kirvano "
        "(se você não tem um, gere lá)."
    ),
    invalid_proof_help=(
        "O token enviado pela Kirvano é diferente do salvo aqui. Cole de novo no campo "
        "“Token” do webhook na Kirvano o token de Configurações → Kirvano."
    ),
)
