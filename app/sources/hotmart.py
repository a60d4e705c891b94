"""Hotmart purchase webhooks, payload version 2.0.0 (PLATFORMS.md §3).

Proof is the account's static *hottok*: header ``X-HOTMART-HOTTOK`` first, body top-level
``hottok`` as a fallback (some real deliveries carry it there). There is no HMAC.

Event → kind:

* ``PURCHASE_APPROVED`` → GRANT, or RENEW when ``purchase.recurrence_number`` > 1.
* ``PURCHASE_COMPLETE`` (refund window over) → GRANT with status ``complete``: it creates the
  sale and grants access when the approval was missed (or the app was installed later); after
  an approval it only records the status (the service never re-sends a link for it).
* ``PURCHASE_REFUNDED`` / ``PURCHASE_CHARGEBACK`` → REVOKE.
* ``PURCHASE_CANCELED`` (canceled or refused) → REVOKE with status ``canceled``. Revoking only
  makes sense when the sale was granted before; the service decides (a never-approved sale
  just records the status).
* ``SUBSCRIPTION_CANCELLATION`` → REVOKE with ``access_until`` = ``date_next_charge``; it has no
  transaction, so it is keyed by the subscriber code (``data.subscriber.code``).
* ``PURCHASE_PROTEST`` / ``PURCHASE_DELAYED`` → FLAG.
* ``SWITCH_PLAN`` (plan changed) and ``UPDATE_SUBSCRIPTION_CHARGE_DATE`` (billing day changed)
  → INFO for the sales (no access changes), with a ``subscription_update`` for /assinaturas.
* ``PURCHASE_BILLET_PRINTED``, ``PURCHASE_EXPIRED``, ``PURCHASE_OUT_OF_SHOPPING_CART``,
  members-area events, and any unknown event → INFO.

Subscriptions (``NormalizedEvent.subscription_update``, read by
``app.services.subscriptions``): the cancellation, the plan switch, the charge-date change
and every purchase event carrying ``data.subscription.subscriber.code``, keyed by subscriber
code + numeric product id as the subscriptions API keys them. ``SWITCH_PLAN`` spells
``CANCELED_BY_*`` where purchases spell ``CANCELLED_BY_*``: both normalise. The charge-date
payload is unverified (PLATFORMS.md §3.2 [M]): its subscriber code, product and next charge
are looked for where the sibling events put them.

Dedupe key: the envelope ``id`` (unique per event); without it the business key
``event:transaction`` (cancellations: ``event:subscriber:cancellation_date``; carts: e-mail +
product + ``creation_date``).

The Hotmart "send test" tool posts product id ``0`` named "Produto test postback…" with a fixed
"Teste Comprador" buyer: a test delivery, never e-mailed. An unknown event whose
``purchase.status`` is refunded/chargeback/canceled revokes.

Size: one job (verify and parse one payload version) in ~480 lines, as long as the event list
above: purchases, cancellations, subscription updates and the buyer's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from app.schema import Field

from . import tracking
from .base import (
    NO_SECRET_REASON,
    TEST_PLATFORM,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    as_bool,
    as_dict,
    as_int,
    as_list,
    body_hash_key,
    clamp_key,
    clean_secret,
    decimal_to_cents,
    dig,
    digits_only,
    document_type_for,
    ensure_valid,
    epoch_to_utc,
    kind_for_unknown,
    local_to_utc,
    lower_headers,
    make_key,
    normalize_currency,
    normalize_email,
    normalize_payment_method,
    normalize_phone,
    normalize_status,
    panel_test,
    parse_json,
    region_code,
    secure_equals,
    text,
    upper_token,
)
from .descriptor import WebhookSource
from .events import SubscriptionUpdate
from .recurrence import HOTMART_STATES, hotmart_state

PLATFORM = "hotmart"
HEADER = "x-hotmart-hottok"

SUBSCRIPTION_CANCELLATION = "SUBSCRIPTION_CANCELLATION"
SWITCH_PLAN = "SWITCH_PLAN"
CHARGE_DATE_CHANGE = "UPDATE_SUBSCRIPTION_CHARGE_DATE"
SUBSCRIPTION_EVENTS = (SWITCH_PLAN, CHARGE_DATE_CHANGE)  # no sale, only the subscription
CART_ABANDONED = "PURCHASE_OUT_OF_SHOPPING_CART"
TEST_PRODUCT_PREFIX = "produto test postback"

# event → (kind, normalized status); PURCHASE_APPROVED may become RENEW (see parse).
EVENTS: dict[str, tuple[Kind, str | None]] = {
    "PURCHASE_APPROVED": (Kind.GRANT, "approved"),
    "PURCHASE_COMPLETE": (Kind.GRANT, "complete"),
    "PURCHASE_REFUNDED": (Kind.REVOKE, "refunded"),
    "PURCHASE_CHARGEBACK": (Kind.REVOKE, "chargeback"),
    "PURCHASE_CANCELED": (Kind.REVOKE, "canceled"),
    SUBSCRIPTION_CANCELLATION: (Kind.REVOKE, "canceled"),
    "PURCHASE_PROTEST": (Kind.FLAG, "disputed"),
    "PURCHASE_DELAYED": (Kind.FLAG, "overdue"),
    "PURCHASE_BILLET_PRINTED": (Kind.INFO, "pending"),
    "PURCHASE_EXPIRED": (Kind.INFO, "expired"),
    "PURCHASE_OUT_OF_SHOPPING_CART": (Kind.INFO, "abandoned"),
    SWITCH_PLAN: (Kind.INFO, None),
    CHARGE_DATE_CHANGE: (Kind.INFO, None),
    "CLUB_FIRST_ACCESS": (Kind.INFO, None),
    "CLUB_MODULE_COMPLETED": (Kind.INFO, None),
    "ORDER_FULFILLMENT": (Kind.INFO, None),
}


def verify(
    raw_body: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    secret: str | None,
) -> VerifyResult:
    """Check the hottok: header ``X-HOTMART-HOTTOK``, else body ``hottok`` (JSON or form)."""
    expected = clean_secret(secret)
    if expected is None:
        return VerifyResult(False, NO_SECRET_REASON, None)
    header_value = lower_headers(headers).get(HEADER)
    if header_value is not None and secure_equals(header_value.strip(), expected):
        return VerifyResult(True, "hottok válido no cabeçalho", f"header:{HEADER}")
    body_value = _body_hottok(raw_body)
    if body_value is not None and secure_equals(body_value.strip(), expected):
        return VerifyResult(True, "hottok válido no corpo", "body:hottok")
    if header_value is None and body_value is None:
        return VerifyResult(False, "hottok ausente (cabeçalho X-HOTMART-HOTTOK)", None)
    return VerifyResult(False, "hottok inválido", None)


def _body_hottok(raw_body: bytes) -> str | None:
    """Top-level ``hottok`` from a JSON body, or from a legacy form-encoded postback."""
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        return None
    raw = bytes(raw_body)
    try:
        body = parse_json(raw)
    except MalformedPayload:
        body = None
    if body is not None:
        value = body.get("hottok")
        return value if isinstance(value, str) else None
    try:
        form = parse_qs(raw.decode("utf-8"), max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    values = form.get("hottok")
    return values[0] if values else None


def parse(body: dict) -> NormalizedEvent:
    if not isinstance(body, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    event_type = upper_token(body.get("event")) or "unknown"
    kind, status = EVENTS.get(event_type, (None, None))
    data = as_dict(body.get("data"))
    is_cancellation = event_type == SUBSCRIPTION_CANCELLATION
    created_at = _hotmart_date(body.get("creation_date")) or _hotmart_date(body.get("creationDate"))

    if is_cancellation:
        fields = _cancellation_fields(data)
    elif event_type in SUBSCRIPTION_EVENTS:
        fields = _subscription_event_fields(data)
    else:
        fields = _purchase_fields(data)

    if status is None:
        status = normalize_status(dig(data, "purchase", "status"))
    if kind is None:
        kind = kind_for_unknown(PLATFORM, event_type, status)
    recurrence = fields["recurrence_number"]
    if event_type == "PURCHASE_APPROVED" and recurrence is not None and recurrence > 1:
        kind = Kind.RENEW

    approved_at = fields.pop("approved_at")
    if is_cancellation:
        occurred_at = _hotmart_date(data.get("cancellation_date")) or created_at
    elif event_type == SWITCH_PLAN:
        occurred_at = _hotmart_date(data.get("switch_plan_date")) or created_at
    elif event_type in ("PURCHASE_APPROVED", "PURCHASE_COMPLETE"):
        occurred_at = approved_at or created_at
    else:
        occurred_at = created_at

    event_id = text(body.get("id"), 10_000)
    if event_id:
        dedupe_key = clamp_key(event_id)
    elif is_cancellation:
        dedupe_key = make_key(
            event_type, fields["subscription_id"], data.get("cancellation_date")
        ) or body_hash_key(event_type, body)
    elif event_type in SUBSCRIPTION_EVENTS:
        dedupe_key = make_key(
            event_type, fields["subscription_id"], fields["product_id"], body.get("creation_date")
        ) or body_hash_key(event_type, body)
    elif event_type == CART_ABANDONED:
        dedupe_key = make_key(
            event_type, fields["buyer_email"], fields["product_id"], body.get("creation_date")
        ) or body_hash_key(event_type, body)
    else:
        dedupe_key = make_key(event_type, fields["transaction_id"]) or body_hash_key(
            event_type, body
        )

    update = _subscription_update(event_type, data, occurred_at, status, approved_at, fields)
    event = NormalizedEvent(
        platform=PLATFORM,
        event_type=event_type,
        kind=kind,
        dedupe_key=dedupe_key,
        status=status,
        occurred_at=occurred_at,
        test_origin=_test_origin(data, fields["transaction_id"]),
        subscription_update=update,
        **fields,
    )
    ensure_valid(event, subscription_cancellation=is_cancellation)
    return event


def _test_origin(data: dict, transaction_id: str | None) -> str | None:
    """Hotmart's own test tool: product id 0, named "Produto test postback…"."""
    product = as_dict(data.get("product")) or as_dict(dig(data, "subscription", "product"))
    name = (text(product.get("name")) or "").lower()
    if as_int(product.get("id")) == 0 or name.startswith(TEST_PRODUCT_PREFIX):
        return TEST_PLATFORM
    return panel_test(transaction_id)


def _purchase_fields(data: dict) -> dict[str, Any]:
    purchase = as_dict(data.get("purchase"))
    buyer = as_dict(data.get("buyer"))
    product = as_dict(data.get("product"))
    price = as_dict(purchase.get("price"))
    document = digits_only(buyer.get("document"))
    is_bump = as_bool(dig(purchase, "order_bump", "is_order_bump"))
    return {
        "transaction_id": text(purchase.get("transaction")),
        "buyer_email": normalize_email(buyer.get("email")),
        "buyer_name": text(buyer.get("name")),
        "buyer_phone": _buyer_phone(buyer, _country(data, buyer)),
        "buyer_document": document,
        "buyer_document_type": upper_token(buyer.get("document_type"), 16)
        or document_type_for(document),
        "product_id": text(product.get("ucode")) or text(product.get("id")),
        "product_name": text(product.get("name")),
        "offer_code": text(dig(purchase, "offer", "code")) or text(dig(data, "offer", "code")),
        "plan_name": text(dig(data, "subscription", "plan", "name")),
        "amount_cents": decimal_to_cents(price.get("value")),
        "currency": normalize_currency(price.get("currency_value"))
        or normalize_currency(price.get("currency_code")),
        "payment_method": normalize_payment_method(dig(purchase, "payment", "type")),
        "subscription_id": text(dig(data, "subscription", "subscriber", "code")),
        "recurrence_number": as_int(purchase.get("recurrence_number")),
        "is_order_bump": is_bump,
        "parent_transaction_id": text(dig(purchase, "order_bump", "parent_purchase_transaction"))
        if is_bump
        else None,
        "approved_at": _hotmart_date(purchase.get("approved_date")),
        **tracking.hotmart_origin(purchase, data),
        "ordered_at": _hotmart_date(purchase.get("order_date")),
    }


def _cancellation_fields(data: dict) -> dict[str, Any]:
    subscriber = as_dict(data.get("subscriber"))
    product = as_dict(data.get("product"))
    phone = as_dict(subscriber.get("phone"))
    return {
        "transaction_id": None,
        "buyer_email": normalize_email(subscriber.get("email")),
        "buyer_name": text(subscriber.get("name")),
        "buyer_phone": _split_phone(phone.get("dddCell"), phone.get("cell"))
        or _split_phone(phone.get("dddPhone"), phone.get("phone")),
        "buyer_document": None,
        "buyer_document_type": None,
        "product_id": text(product.get("ucode")) or text(product.get("id")),
        "product_name": text(product.get("name")),
        "offer_code": None,
        "plan_name": text(dig(data, "subscription", "plan", "name")),
        "amount_cents": decimal_to_cents(data.get("actual_recurrence_value")),
        "currency": None,
        "payment_method": None,
        "subscription_id": text(subscriber.get("code")),
        "recurrence_number": None,
        "is_order_bump": False,
        "access_until": _hotmart_date(data.get("date_next_charge")),
        "approved_at": None,
    }


def _subscription_block(data: dict) -> dict:
    """``data.subscription`` (SWITCH_PLAN, purchases); ``{}`` when absent."""
    return as_dict(data.get("subscription"))


def _subscriber_code(data: dict) -> str | None:
    """Where each event puts the subscriber code: cancellation ``data.subscriber.code``,
    SWITCH_PLAN ``data.subscription.subscriber_code``, purchases
    ``data.subscription.subscriber.code``."""
    subscription = _subscription_block(data)
    return (
        text(dig(data, "subscriber", "code"), 64)
        or text(subscription.get("subscriber_code"), 64)
        or text(dig(subscription, "subscriber", "code"), 64)
        or text(data.get("subscriber_code"), 64)
    )


def _subscription_product(data: dict) -> dict:
    return as_dict(data.get("product")) or as_dict(_subscription_block(data).get("product"))


def _current_plan(data: dict) -> dict:
    """SWITCH_PLAN ``data.plans[]``: the one with ``current: true`` (the plan switched to);
    other events: ``data.subscription.plan``."""
    plans = [plan for plan in as_list(data.get("plans")) if isinstance(plan, dict)]
    current = [plan for plan in plans if as_bool(plan.get("current"))]
    if current:
        return current[0]
    return as_dict(_subscription_block(data).get("plan"))


def _subscription_event_fields(data: dict) -> dict[str, Any]:
    """SWITCH_PLAN / UPDATE_SUBSCRIPTION_CHARGE_DATE: no transaction and no buyer block."""
    subscription = _subscription_block(data)
    product = _subscription_product(data)
    email = (
        dig(subscription, "user", "email")
        or dig(data, "subscriber", "email")
        or dig(data, "user", "email")
    )
    return {
        "transaction_id": None,
        "buyer_email": normalize_email(email),
        "buyer_name": text(dig(data, "subscriber", "name")),
        "buyer_phone": None,
        "buyer_document": None,
        "buyer_document_type": None,
        "product_id": text(product.get("ucode")) or text(product.get("id")),
        "product_name": text(product.get("name")),
        "offer_code": text(dig(_current_plan(data), "offer", "key")),
        "plan_name": text(_current_plan(data).get("name")),
        "amount_cents": None,
        "currency": None,
        "payment_method": None,
        "subscription_id": _subscriber_code(data),
        "recurrence_number": None,
        "is_order_bump": False,
        "approved_at": None,
    }


def _next_charge(data: dict) -> datetime | None:
    subscription = _subscription_block(data)
    for value in (
        subscription.get("date_next_charge"),
        data.get("date_next_charge"),
        data.get("new_date_next_charge"),
        subscription.get("dateNextCharge"),
        dig(data, "purchase", "date_next_charge"),
    ):
        moment = _hotmart_date(value)
        if moment is not None:
            return moment
    return None


def _subscription_update(
    event_type: str,
    data: dict,
    occurred_at: datetime | None,
    status: str | None,
    approved_at: datetime | None,
    fields: dict[str, Any],
) -> SubscriptionUpdate | None:
    """The subscription's change this event describes, or None (no subscriber code or no
    product id: nothing to key it on)."""
    code = _subscriber_code(data)
    product = _subscription_product(data)
    product_id = text(product.get("id"), 64)
    if not code or not product_id:
        return None
    raw_status = upper_token(_subscription_block(data).get("status"), 32)
    state = hotmart_state(raw_status) if raw_status in HOTMART_STATES else None
    plan = _current_plan(data)
    paid = event_type in ("PURCHASE_APPROVED", "PURCHASE_COMPLETE")
    if event_type == SUBSCRIPTION_CANCELLATION:
        state = "canceled"
    elif state is None and paid:
        state = "active"
    elif state is None and status == "overdue":
        state = "overdue"
    first = (fields.get("recurrence_number") or 1) == 1
    return SubscriptionUpdate(
        code=code,
        product_id=product_id,
        at=occurred_at,
        state=state,
        status=raw_status,
        product_ucode=text(product.get("ucode"), 64),
        plan_id=text(plan.get("id"), 64),
        plan_name=text(plan.get("name")),
        price_cents=fields.get("amount_cents") if paid else None,
        currency=fields.get("currency") if paid else None,
        next_charge_at=_next_charge(data),
        started_at=approved_at if paid and first else None,
        plan_switch=event_type == SWITCH_PLAN,
    )


def _hotmart_date(value: Any) -> datetime | None:
    """Epoch milliseconds; a string that is not a number is parsed leniently."""
    return epoch_to_utc(value) or (local_to_utc(value) if isinstance(value, str) else None)


def _split_phone(area: Any, number: Any, country: str | None = None) -> str | None:
    """Area code + number, read in the buyer's country (Brazil when unknown)."""
    number_digits = digits_only(number)
    if not number_digits:
        return None
    area_digits = digits_only(area) or ""
    return normalize_phone(area_digits + number_digits, country)


def _country(data: dict, buyer: dict) -> str | None:
    """The buyer's country: ``buyer.address.country_iso``; else the checkout's country, which
    purchase events carry as ``purchase.checkout_country`` (``{"name", "iso"}``, as in the
    captured Hotmart test payloads, PLATFORMS.md §3.1 source ML) and cart events as
    ``data.checkout_country`` (§3.3), either as an object or as a plain code."""
    purchase_country = dig(data, "purchase", "checkout_country")
    data_country = data.get("checkout_country")
    return (
        region_code(dig(buyer, "address", "country_iso"))
        or region_code(dig(purchase_country, "iso"))
        or region_code(purchase_country)
        or region_code(dig(data_country, "iso"))
        or region_code(data_country)
    )


def _buyer_phone(buyer: dict, country: str | None) -> str | None:
    """``checkout_phone_code`` (area code) + ``checkout_phone``; else ``phone``."""
    checkout_phone = text(buyer.get("checkout_phone"), 64)
    if checkout_phone:
        if checkout_phone.startswith("+"):
            return normalize_phone(checkout_phone)
        return _split_phone(buyer.get("checkout_phone_code"), checkout_phone, country)
    return normalize_phone(buyer.get("phone"), country)


SOURCE = WebhookSource(
    name=PLATFORM,
    label="Hotmart",
    secrets=(
        Field(
            "HOTMART_WEBHOOK_HOTTOK",
            "Hottok do webhook",
            secret=True,
            help="Enviado pela Hotmart no cabeçalho X-HOTMART-HOTTOK.",
        ),
    ),
    verify=verify,
    parse=parse,
    subscription_cancel_events=frozenset({SUBSCRIPTION_CANCELLATION}),
    body_secrets=(("hottok",),),
    test_markers={"product.id": 0, "product.name starts with": TEST_PRODUCT_PREFIX},
    missing_proof_help=(
        "A Hotmart não enviou o hottok. Confira se o webhook da Hotmart usa a versão 2.0.0 "
        "e esta URL."
    ),
    invalid_proof_help=(
        "O hottok enviado pela Hotmart é diferente do salvo aqui. Copie-o na Hotmart "
        "(Ferramentas → Webhook → Autenticação) e salve em Configurações → Hotmart."
    ),
)
