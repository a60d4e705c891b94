"""The legacy Eduzz postback (Órbita webhook, marked obsolete; PLATFORMS-WRITES.md §5.2).

Flat fields (``trans_cod``, ``trans_status``, ``cus_email``, ``product_cod``, ``event_name``…)
sent as JSON or ``x-www-form-urlencoded``; authenticated by ``app.sources.eduzz.verify`` through
the body's ``origin`` / ``origin_secret``. ``event_name`` drives the kind; without it,
``trans_status`` (3 paid → GRANT, 4 canceled and 7 refunded → REVOKE; 6 "aguardando reembolso"
is informational, as in v3). ``contract_canceled`` / ``contract_suspended`` end the
subscription. The "verify URL" test delivery ("Teste Webhook", ``webhook@eduzz.com``,
``trans_cod`` "1") is a platform test. ``trans_items[]`` is not read (**unverified** shape):
the main product is ``product_cod``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from . import tracking
from .contact import digits_only, document_type_for, normalize_email, normalize_phone
from .events import TEST_PLATFORM, Kind, NormalizedEvent, ensure_valid, panel_test
from .jsonbody import body_hash_key, make_key
from .money import decimal_to_cents, normalize_currency
from .times import local_to_utc
from .values import as_int, text

log = logging.getLogger("app.sources.eduzz")

PLATFORM = "eduzz"
DEFAULT_CURRENCY = "BRL"
LEGACY_EVENTS: dict[str, tuple[Kind, str | None]] = {
    "invoice_paid": (Kind.GRANT, "approved"),
    "invoice_refunded": (Kind.REVOKE, "refunded"),
    "invoice_canceled": (Kind.REVOKE, "canceled"),
    "invoice_waiting_refund": (Kind.INFO, None),
    "invoice_open": (Kind.INFO, "pending"),
    "invoice_waiting_payment": (Kind.INFO, "pending"),
    "invoice_expired": (Kind.INFO, "expired"),
    "invoice_overdue": (Kind.FLAG, "overdue"),
    "contract_canceled": (Kind.REVOKE, "canceled"),
    "contract_suspended": (Kind.REVOKE, "canceled"),
    "cart_abandonment": (Kind.INFO, "abandoned"),
}
LEGACY_CANCEL_EVENTS = frozenset({"contract_canceled", "contract_suspended"})
# trans_status when no event_name is sent: 3 paid, 4 canceled, 7 refunded.
LEGACY_STATUSES: dict[int, tuple[Kind, str | None]] = {
    1: (Kind.INFO, "pending"),
    3: (Kind.GRANT, "approved"),
    4: (Kind.REVOKE, "canceled"),
    6: (Kind.INFO, None),
    7: (Kind.REVOKE, "refunded"),
    10: (Kind.INFO, "expired"),
    15: (Kind.INFO, "pending"),
}

LEGACY_PAYMENT_METHODS = {1: "boleto", 9: "paypal", 32: "pix"} | {
    code: "credit_card" for code in (13, 14, 15, 16, 21, 24, 27)
}


# The legacy "verify URL" test delivery.
TEST_EMAILS = frozenset({"webhook@eduzz.com"})
TEST_NAMES = frozenset({"teste webhook"})
TEST_TRANSACTIONS = frozenset({"1"})

_MAX_FORM_FIELDS = 500


def form(raw: Any) -> dict[str, str]:
    if not isinstance(raw, bytes | bytearray | memoryview):
        return {}
    try:
        pairs = parse_qsl(
            bytes(raw).decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        return {}
    result: dict[str, str] = {}
    for key, value in pairs:
        result.setdefault(key.replace("\x00", ""), value.replace("\x00", ""))
    return result


def _legacy_when(body: dict, prefix: str) -> Any:
    day = text(body.get(f"trans_{prefix}date"), 16)
    if day is None or len(day) != 8 or not day.isdecimal():
        return None
    clock = text(body.get(f"trans_{prefix}time"), 16) or "00:00:00"
    return local_to_utc(f"{day[:4]}-{day[4:6]}-{day[6:]} {clock}")


def parse(body: dict) -> NormalizedEvent:
    event_name = (text(body.get("event_name"), 64) or "").lower()
    trans_status = as_int(body.get("trans_status"))
    if event_name:
        event_type = event_name
        kind, status = LEGACY_EVENTS.get(event_name, (None, None))
    else:
        event_type = f"trans_status_{trans_status}" if trans_status is not None else "unknown"
        kind, status = LEGACY_STATUSES.get(trans_status, (None, None))
    if kind is None:
        log.warning("unknown legacy eduzz webhook %r: handled as info", event_type)
        kind = Kind.INFO
    cancellation = event_name in LEGACY_CANCEL_EVENTS
    is_cart = event_name == "cart_abandonment" or text(body.get("type")) == "abandonment"

    student_email = normalize_email(body.get("student_email"))
    buyer_email = student_email or normalize_email(body.get("cus_email"))
    name = (text(body.get("student_name")) if student_email else None) or text(body.get("cus_name"))
    transaction_id = None if is_cart else text(body.get("trans_cod"))
    document = digits_only(body.get("cus_taxnumber"))
    phone = None
    for key in ("cus_cel", "cus_tel", "cus_tel2"):
        phone = phone or normalize_phone(body.get(key))
    test = (
        buyer_email in TEST_EMAILS
        or (name or "").lower() in TEST_NAMES
        or transaction_id in TEST_TRANSACTIONS
    )
    dedupe_key = make_key(
        event_type, body.get("trans_cod"), trans_status if trans_status is not None else "-"
    )
    event = NormalizedEvent(
        platform=PLATFORM,
        event_type=event_type,
        kind=kind,
        dedupe_key=dedupe_key or body_hash_key(event_type, body),
        transaction_id=transaction_id,
        status=status,
        buyer_email=buyer_email,
        buyer_name=name,
        buyer_phone=phone,
        buyer_document=document,
        buyer_document_type=document_type_for(document),
        product_id=text(body.get("product_cod")),
        product_name=text(body.get("product_name")),
        offer_code=text(body.get("discount_coupon_code")),
        plan_name=None,
        amount_cents=decimal_to_cents(body.get("trans_value"))
        or decimal_to_cents(body.get("trans_paid")),
        currency=normalize_currency(body.get("trans_currency")) or DEFAULT_CURRENCY,
        payment_method=LEGACY_PAYMENT_METHODS.get(as_int(body.get("trans_paymentmethod"))),
        occurred_at=(_legacy_when(body, "paid") if kind is Kind.GRANT else None)
        or _legacy_when(body, "create"),
        ordered_at=_legacy_when(body, "create"),
        subscription_id=text(body.get("recurrence_cod")),
        recurrence_number=None,
        test_origin=TEST_PLATFORM if test else panel_test(transaction_id),
        **tracking.eduzz_legacy(body),
    )
    ensure_valid(event, subscription_cancellation=cancellation)
    return event
