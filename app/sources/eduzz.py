"""Eduzz purchase webhooks (PLATFORMS-WRITES.md §5; SPEC §13).

Two wire formats arrive at ``POST /webhook/eduzz``:

* **v3** (Developer Hub): JSON ``{"id", "event", "data", "sentDate"}``, ``event`` =
  ``<app>.<event>``. Proof: header ``x-signature`` = HMAC-SHA256 of the raw body keyed with
  ``EDUZZ_WEBHOOK_SECRET``. The encoding is not documented: lowercase hex is what public handlers
  compute (accepted in any case, with an optional ``sha256=`` prefix); base64 of the digest is
  accepted as a defensive fallback (**unverified**). Several comma-separated secrets are accepted,
  so a key can be rotated in the Eduzz panel without refusing deliveries signed with the old
  one. Dedupe on the envelope ``id``; the transaction is ``data.id`` (a refund carries the same
  ``data.id`` under a new envelope ``id``).
* **legacy** (Órbita webhook / postback, marked obsolete by Eduzz): flat fields (``trans_cod``,
  ``trans_status``, ``cus_email``, ``product_cod``, ``event_name``…), as JSON or
  ``x-www-form-urlencoded``. Proof: the body's ``origin`` / ``origin_secret`` equal to the same
  secret (no header signature; ``api_key`` is deprecated and never accepted). Dedupe on
  ``event_name`` + ``trans_cod`` + ``trans_status``.

Event → kind (driven by ``event``, never by ``data.status``, whose spelling differs between the
vendor's two documents):

* ``myeduzz.invoice_paid`` / legacy ``invoice_paid`` or ``trans_status`` 3 → GRANT.
* ``myeduzz.invoice_refunded`` / ``invoice_canceled`` and ``myeduzz.invoice_chargeback``
  (a name used by public integrations but absent from the vendor's list: **unverified**) →
  REVOKE; legacy ``trans_status`` 4 and 7 likewise.
* ``myeduzz.contract_updated`` with ``contract.status`` ``canceled`` / ``suspended`` /
  ``defaulter`` (and legacy ``contract_canceled`` / ``contract_suspended``) → REVOKE of the
  subscription: the invoices do not document a contract id, so the sale service matches the
  contract id or the buyer's e-mail + product (``MATCH_PRODUCT``). No dedicated
  ``contract_canceled`` v3 event was found (**unverified**).
* ``…_waiting_refund`` is informational (the refund itself follows); ``invoice_overdue`` → FLAG;
  every other ``myeduzz.*``, ``nutror.*``/``blinket.*`` and the activation ``ping`` (body
  **unverified**) → INFO, answered ``ignored``, even when ``data.status`` says refunded: the
  other platforms act on the status of an unknown event, Eduzz deliberately does not (SPEC
  §13; the status spelling is unreliable, PLATFORMS-WRITES.md §5.1). The name is logged;
  ``docs/webhook-variants.md`` records the decision.

Buyer: ``data.student`` when it has a valid e-mail (the person who studies), else
``data.buyer`` (``data.customer`` on contract events). Amounts are decimals in reais
(``data.price.value``). ``items[]``: the first non-bump item is the sale, the others (``isBump``
or not) are extra items with their own price, like Kirvano's ``products[]``. ``data.utm`` is
not read: the normalized event stores no UTM for any platform. The legacy test delivery
("Teste Webhook", ``webhook@eduzz.com``, ``trans_cod`` "1") is a platform test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from app.schema import Field

from . import eduzz_legacy as legacy
from . import tracking
from .contact import digits_only, document_type_for, normalize_email, normalize_phone
from .descriptor import MATCH_PRODUCT, WebhookSource
from .events import (
    TEST_PLATFORM,
    Item,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    ensure_valid,
    panel_test,
)
from .jsonbody import body_hash_key, make_key, parse_json
from .money import decimal_to_cents, normalize_currency
from .signing import NO_SECRET_REASON, lower_headers, secure_equals
from .times import local_to_utc
from .values import as_bool, as_dict, as_int, as_list, dig, text

log = logging.getLogger(__name__)

PLATFORM = "eduzz"
HEADER = "x-signature"
DEFAULT_CURRENCY = "BRL"
APP_PREFIX = "myeduzz."
CONTRACT_UPDATED = "myeduzz.contract_updated"
CART_ABANDONMENT = "myeduzz.cart_abandonment"
PING = "ping"

V3_EVENTS: dict[str, tuple[Kind, str | None]] = {
    "myeduzz.invoice_paid": (Kind.GRANT, "approved"),
    "myeduzz.invoice_refunded": (Kind.REVOKE, "refunded"),
    "myeduzz.invoice_canceled": (Kind.REVOKE, "canceled"),
    "myeduzz.invoice_chargeback": (Kind.REVOKE, "chargeback"),  # unverified name
    "myeduzz.invoice_opened": (Kind.INFO, "pending"),
    "myeduzz.invoice_waiting_payment": (Kind.INFO, "pending"),
    "myeduzz.invoice_waiting_refund": (Kind.INFO, None),
    "myeduzz.invoice_expired": (Kind.INFO, "expired"),
    "myeduzz.invoice_recovering": (Kind.INFO, "pending"),
    "myeduzz.invoice_refused": (Kind.INFO, "refused"),
    "myeduzz.invoice_overdue": (Kind.FLAG, "overdue"),
    "myeduzz.invoice_scheduled": (Kind.INFO, "pending"),
    "myeduzz.invoice_negotiated": (Kind.INFO, None),
    CART_ABANDONMENT: (Kind.INFO, "abandoned"),
    "myeduzz.contract_created": (Kind.INFO, None),
    CONTRACT_UPDATED: (Kind.INFO, None),  # REVOKE for the statuses below
    "myeduzz.commission_processed": (Kind.INFO, None),
    PING: (Kind.INFO, None),
}
# contract.status values that end the buyer's access (policy of PLATFORMS-WRITES §5.3).
REVOKING_CONTRACT_STATUSES = frozenset({"canceled", "cancelled", "suspended", "defaulter"})

PAYMENT_METHODS = {
    "creditcard": "credit_card",
    "bankslip": "boleto",
    "pix": "pix",
    "eduzzbalance": "eduzz_balance",
    "paypal": "paypal",
}
LEGACY_PROOF_FIELDS = ("origin_secret", "origin")

# --------------------------------------------------------------------------------- decoding


def decode(raw: bytes) -> dict:
    """JSON (v3 or legacy), else a legacy ``x-www-form-urlencoded`` postback."""
    try:
        return parse_json(raw)
    except MalformedPayload as exc:
        form = legacy.form(raw)
        if form and ("trans_cod" in form or "event_name" in form):
            return form
        raise exc from None


def _lenient(raw: bytes) -> dict:
    try:
        return decode(raw)
    except MalformedPayload:
        return {}


# ---------------------------------------------------------------------------- verification


def _keys(secret: Any) -> list[str]:
    """The configured secrets: several, comma-separated, during a key rotation."""
    if not isinstance(secret, str):
        return []
    return [part.strip() for part in secret.split(",") if part.strip()]


def signature(raw_body: bytes, secret: str) -> str:
    """The ``x-signature`` Eduzz sends for ``raw_body``: lowercase hex HMAC-SHA256."""
    return hmac.new(
        secret.encode("utf-8", "surrogatepass"), bytes(raw_body), hashlib.sha256
    ).hexdigest()


def _signature_matches(given: str, raw_body: bytes, keys: list[str]) -> bool:
    if given[:7].lower() == "sha256=":
        given = given[7:].strip()
    matches = []
    for key in keys:
        digest = hmac.new(key.encode("utf-8", "surrogatepass"), raw_body, hashlib.sha256)
        matches.append(secure_equals(given.lower(), digest.hexdigest()))
        matches.append(secure_equals(given, base64.b64encode(digest.digest()).decode()))
    return any(matches)


def verify(
    raw_body: bytes,
    headers: Mapping[str, str],
    args: Mapping[str, str],
    secret: str | None,
) -> VerifyResult:
    """``x-signature`` (v3) or, without it, the legacy body ``origin`` token."""
    keys = _keys(secret)
    if not keys:
        return VerifyResult(False, NO_SECRET_REASON, None)
    if not isinstance(raw_body, bytes | bytearray | memoryview):
        return VerifyResult(False, "Corpo da requisição ausente", None)
    raw_body = bytes(raw_body)
    given = lower_headers(headers).get(HEADER)
    if given is not None and given.strip():
        if _signature_matches(given.strip(), raw_body, keys):
            return VerifyResult(True, "Assinatura HMAC-SHA256 válida", f"header:{HEADER}")
        return VerifyResult(False, "Assinatura x-signature inválida", None)
    body = _lenient(raw_body)
    found = [(name, body.get(name)) for name in LEGACY_PROOF_FIELDS]
    found = [(name, value.strip()) for name, value in found if isinstance(value, str)]
    if not found:
        return VerifyResult(False, "Assinatura ausente (cabeçalho x-signature)", None)
    matches = [f"body:{name}" for name, value in found for key in keys if secure_equals(value, key)]
    if matches:
        return VerifyResult(True, "Token origin válido (formato antigo)", matches[0])
    return VerifyResult(False, "Token origin inválido", None)


# --------------------------------------------------------------------------------- parsing


def _is_v3(body: dict) -> bool:
    return isinstance(body.get("event"), str) and (
        isinstance(body.get("data"), dict) or "." in body["event"] or body["event"] == PING
    )


def parse(body: dict) -> NormalizedEvent:
    if not isinstance(body, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    if _is_v3(body):
        return _parse_v3(body)
    return legacy.parse(body)


def _v3_event_type(value: Any) -> str:
    event = (text(value, 64) or "unknown").lower()
    if "." not in event and APP_PREFIX + event in V3_EVENTS:
        event = APP_PREFIX + event  # a delivery without the app prefix ("contract_updated")
    return event


def _payment_method(value: Any) -> str | None:
    raw = text(value, 64)
    if raw is None:
        return None
    key = raw.replace("_", "").replace("-", "").replace(" ", "").lower()
    return PAYMENT_METHODS.get(key) or raw.lower()[:32]


def _phone(person: dict) -> str | None:
    phone = person.get("phone")
    if isinstance(phone, dict):  # contract events: {countryCode, areaCode, number}
        parts = [text(phone.get(k), 20) for k in ("countryCode", "areaCode", "number")]
        if parts[2]:
            country = parts[0] or "55"
            return normalize_phone(f"+{country}{parts[1] or ''}{parts[2]}")
        return None
    country = dig(person, "address", "country")  # seen in public handlers (M): "BR", "MX"…
    for key in ("cellphone", "phone", "phone2"):
        number = normalize_phone(person.get(key), country)
        if number:
            return number
    return None


def _price(value: Any) -> int | None:
    return decimal_to_cents(value.get("value")) if isinstance(value, dict) else None


def _main_item(items: list) -> tuple[dict, bool]:
    """First item that is not an order bump (else the first item)."""
    dicts = [item for item in items if isinstance(item, dict)]
    for item in dicts:
        if not as_bool(item.get("isBump")):
            return item, False
    return (dicts[0], True) if dicts else ({}, False)


def _item_id(item: dict) -> str | None:
    return text(item.get("productId")) or text(item.get("id"))


def _extra_items(items: list, main: dict) -> tuple[Item, ...]:
    extra = []
    for item in items:
        if not isinstance(item, dict) or item is main or _item_id(item) is None:
            continue
        extra.append(
            Item(
                product_id=_item_id(item),
                product_name=text(item.get("name")),
                offer_code=text(dig(item, "coupon", "key")),
                amount_cents=_price(item.get("price")),
                is_order_bump=as_bool(item.get("isBump")),
            )
        )
    return tuple(extra)


def _parse_v3(body: dict) -> NormalizedEvent:
    event_type = _v3_event_type(body.get("event"))
    data = as_dict(body.get("data"))
    kind, status = V3_EVENTS.get(event_type, (None, None))
    contract = as_dict(data.get("contract"))
    contract_status = (text(contract.get("status"), 32) or "").lower()
    cancellation = event_type == CONTRACT_UPDATED and contract_status in (
        REVOKING_CONTRACT_STATUSES
    )
    if cancellation:
        kind, status = Kind.REVOKE, "canceled"
    if kind is None:
        log.warning("unknown eduzz webhook event %r: handled as info", event_type)
        kind = Kind.INFO
    is_contract = event_type.startswith(APP_PREFIX + "contract_")
    recurrence = as_int(dig(contract, "recurrence", "charges", "current"))
    if kind is Kind.GRANT and recurrence is not None and recurrence > 1:
        kind = Kind.RENEW  # a later charge of a contract (unverified field): no second link
    is_cart = event_type == CART_ABANDONMENT

    buyer = as_dict(data.get("buyer")) or as_dict(data.get("customer"))
    student = as_dict(data.get("student"))
    person = student if normalize_email(student.get("email")) else buyer
    buyer_email = normalize_email(person.get("email"))
    items = as_list(data.get("items")) or as_list(data.get("products"))
    main, is_bump = _main_item(items)
    extra_items = () if (is_cart or is_contract) else _extra_items(items, main)
    amount = _price(main.get("price")) if extra_items else None
    if amount is None:
        amount = _price(data.get("price")) or _price(data.get("paid"))
    if amount is None and is_contract:
        amount = _price(contract.get("price")) or _price(dig(contract, "recurrence", "price"))

    transaction_id = None if (is_cart or is_contract) else text(data.get("id"))
    sent = local_to_utc(body.get("sentDate")) or local_to_utc(data.get("sentDate"))
    if kind in (Kind.GRANT, Kind.RENEW):
        occurred_at = local_to_utc(data.get("paidAt")) or sent
    elif event_type == "myeduzz.invoice_refunded":
        occurred_at = local_to_utc(data.get("refundedAt")) or sent
    else:
        occurred_at = sent or local_to_utc(data.get("createdAt"))
    document = digits_only(buyer.get("document")) or digits_only(buyer.get("taxNumber"))
    test_origin = panel_test(transaction_id)
    if event_type == PING or buyer_email in legacy.TEST_EMAILS:
        test_origin = TEST_PLATFORM
    plan = main.get("plan")
    event = NormalizedEvent(
        platform=PLATFORM,
        event_type=event_type,
        kind=kind,
        dedupe_key=make_key(body.get("id")) or body_hash_key(event_type, body),
        transaction_id=transaction_id,
        status=status,
        buyer_email=buyer_email,
        buyer_name=text(person.get("name")) or text(buyer.get("name")),
        buyer_phone=_phone(person) or _phone(buyer),
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=_item_id(main),
        product_name=text(main.get("name")),
        offer_code=text(dig(main, "coupon", "key")),
        plan_name=text(plan) or text(dig(main, "plan", "name")),
        amount_cents=amount,
        currency=normalize_currency(dig(data, "price", "currency"))
        or normalize_currency(dig(main, "price", "currency"))
        or DEFAULT_CURRENCY,
        payment_method=_payment_method(data.get("paymentMethod"))
        or _payment_method(dig(contract, "payment", "method")),
        occurred_at=occurred_at,
        ordered_at=None if (is_cart or is_contract) else local_to_utc(data.get("createdAt")),
        subscription_id=text(contract.get("id")),
        recurrence_number=recurrence,
        is_order_bump=is_bump,
        access_until=local_to_utc(dig(contract, "recurrence", "nextDue"))
        if cancellation and contract_status in ("canceled", "cancelled")
        else None,
        test_origin=test_origin,
        checkout_url=text(data.get("checkoutUrl"), 500) if is_cart else None,
        **tracking.eduzz(data),
        extra_items=extra_items,
    )
    ensure_valid(event, subscription_cancellation=cancellation)
    return event


SOURCE = WebhookSource(
    name=PLATFORM,
    label="Eduzz",
    secrets=(
        Field(
            "EDUZZ_WEBHOOK_SECRET",
            "Chave secreta do webhook",
            secret=True,
            required=True,
            help="Chave que assina o cabeçalho x-signature (HMAC-SHA256); no formato antigo, "
            "o token origin. Várias separadas por vírgula durante uma troca de chave.",
        ),
    ),
    verify=verify,
    parse=parse,
    decode=decode,
    subscription_cancel_events=frozenset({CONTRACT_UPDATED, *legacy.LEGACY_CANCEL_EVENTS}),
    subscription_match=MATCH_PRODUCT,
    # Eduzz retries a non-200 three times, then moves the webhook to backup or turns it off and
    # discards later events (PLATFORMS-WRITES §5.1): one bad delivery must not cost every buyer
    # after it. The failed event is stored and shown in the inbox either way.
    invalid_event_status=200,
    body_secrets=(
        ("origin",),
        ("origin_secret",),
        ("api_key",),
        ("data", "producer", "originSecret"),
    ),
    test_markers={"cus_email": legacy.TEST_EMAILS, "cus_name": "Teste Webhook", "trans_cod": "1"},
    missing_proof_help=(
        "A Eduzz enviou o webhook sem o cabeçalho x-signature. Confira se a configuração do "
        "webhook na Eduzz (Developer Hub) usa uma chave secreta para assinar as mensagens."
    ),
    invalid_proof_help=(
        "A assinatura enviada pela Eduzz não confere com a chave salva aqui. Copie a chave "
        "secreta usada pelo webhook na Eduzz e salve-a em Configurações → Eduzz."
    ),
)
