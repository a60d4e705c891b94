"""Fuzz-ish robustness: random nested junk may only produce InvalidPayload/MalformedPayload.

Hypothesis is not available, so a seeded ``random.Random`` generates junk bodies and mutates
the real fixtures; failures are reproducible from the printed seed and iteration.
"""

import copy
import json
import math
import random
from datetime import datetime
from pathlib import Path

import pytest

from app.sources import (
    SOURCES,
    InvalidPayload,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    parse_json,
)
from app.sources.base import MAX_KEY_LEN

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"

# Keys the parsers look at, so random dicts actually reach the interesting code paths.
VOCABULARY = [
    "id", "event", "creation_date", "creationDate", "data", "purchase", "buyer", "product",
    "transaction", "status", "price", "value", "currency_value", "payment", "type",
    "approved_date", "recurrence_number", "subscription", "subscriber", "code", "plan", "name",
    "email", "checkout_phone", "checkout_phone_code", "document", "document_type", "ucode",
    "offer", "order_bump", "is_order_bump", "cancellation_date", "date_next_charge", "phone",
    "dddCell", "cell", "hottok", "webhook_event_type", "order_id", "order_status", "Customer",
    "Product", "Commissions", "Subscription", "charge_amount", "currency", "payment_method",
    "updated_at", "created_at", "refunded_at", "mobile", "CPF", "full_name", "product_id",
    "product_name", "next_payment", "order", "sale_id", "checkout_id", "customer", "fiscal",
    "total_value", "total_price", "products", "method", "finished_at", "charge_number",
    "next_charge_date", "phone_number", "offer_id", "token",
]  # fmt: skip

EVENTS = [
    "PURCHASE_APPROVED", "PURCHASE_REFUNDED", "PURCHASE_CHARGEBACK", "PURCHASE_CANCELED",
    "SUBSCRIPTION_CANCELLATION", "PURCHASE_COMPLETE", "order_approved", "order_refunded",
    "chargeback", "subscription_canceled", "subscription_renewed", "SALE_APPROVED",
    "SALE_REFUNDED", "SUBSCRIPTION_CANCELED", "SUBSCRIPTION_RENEWED", "ABANDONED_CART",
]  # fmt: skip

STRINGS = [
    "", " ", "abc", "maria@example.com", " MARIA@EXAMPLE.COM ", "a@b", "@", "R$ 1.169,80",
    "R$", "1.169,80", "197.0", "1e400", "NaN", "-1", "2026-06-08 11:54", "2026-13-45",
    "2026-06-08T14:54:10.298Z", "99999999999999999999", "1763247745000", "abandoned", "paid",
    "APPROVED", "CANCELLED_BY_CUSTOMER", "PIX", "BANK_SLIP", "\x00", "\ud800", "🙂" * 50,
    "x" * 5000, "+5511999998888", "Bearer ", "true", "null",
]  # fmt: skip


LEAVES = [
    lambda rng: None,
    lambda rng: True,
    lambda rng: False,
    lambda rng: 0,
    lambda rng: -1,
    lambda rng: rng.randint(-(10**20), 10**20),
    lambda rng: 10**400,
    lambda rng: 10**5000,
    lambda rng: rng.uniform(-1e6, 1e6),
    lambda rng: 1e308,
    lambda rng: float("nan"),
    lambda rng: float("inf"),
    lambda rng: -0.0,
    lambda rng: rng.choice(STRINGS),
    lambda rng: rng.choice(EVENTS),
    lambda rng: "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 12))),
]


def junk(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return rng.choice(LEAVES)(rng)
    if roll < 0.7:
        return [junk(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(VOCABULARY): junk(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def mutate(rng: random.Random, node, rate: float = 0.25):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if rng.random() < 0.05:
                continue  # drop the key
            out[key] = junk(rng) if rng.random() < rate else mutate(rng, value, rate)
        if rng.random() < 0.2:
            out[rng.choice(VOCABULARY)] = junk(rng)
        return out
    if isinstance(node, list):
        return [junk(rng) if rng.random() < rate else mutate(rng, v, rate) for v in node]
    return junk(rng) if rng.random() < rate else node


def load_fixtures(platform: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted((FIXTURES / platform).glob("*.json"))]


def check_event(event: NormalizedEvent, platform: str) -> None:
    assert isinstance(event, NormalizedEvent)
    assert event.platform == platform
    assert isinstance(event.kind, Kind)
    assert isinstance(event.event_type, str) and event.event_type
    assert isinstance(event.dedupe_key, str) and 0 < len(event.dedupe_key) <= MAX_KEY_LEN
    for moment in (event.occurred_at, event.access_until):
        assert moment is None or (isinstance(moment, datetime) and moment.utcoffset() is not None)
    assert event.amount_cents is None or type(event.amount_cents) is int
    assert event.recurrence_number is None or type(event.recurrence_number) is int
    assert event.buyer_email is None or event.buyer_email == event.buyer_email.strip().lower()
    assert event.buyer_document is None or event.buyer_document.isdigit()
    assert isinstance(event.is_order_bump, bool)
    for value in (
        event.transaction_id,
        event.buyer_name,
        event.product_id,
        event.product_name,
        event.offer_code,
        event.plan_name,
        event.subscription_id,
    ):
        assert value is None or (isinstance(value, str) and value == value.strip() and value)
    if event.kind is Kind.GRANT:
        assert event.buyer_email and event.transaction_id
    # the event must be storable as JSON-ish text without surprises
    json.dumps({k: str(v) for k, v in event.__dict__.items()}, ensure_ascii=True, allow_nan=False)


@pytest.mark.parametrize("platform", sorted(SOURCES))
def test_random_junk_only_raises_known_errors(platform):
    source = SOURCES[platform]
    rng = random.Random(f"junk-{platform}")
    outcomes = {"ok": 0, "invalid": 0}
    for iteration in range(1500):
        body = junk(rng)
        if not isinstance(body, dict):
            body = {"data": body, "event": rng.choice(EVENTS), "webhook_event_type": body}
        try:
            event = source.parse(body)
        except (InvalidPayload, MalformedPayload) as exc:
            assert exc.reason, (platform, iteration)
            outcomes["invalid"] += 1
        else:
            check_event(event, platform)
            outcomes["ok"] += 1
    assert outcomes["ok"] > 0


@pytest.mark.parametrize("platform", sorted(SOURCES))
def test_mutated_fixtures_only_raise_known_errors(platform):
    source = SOURCES[platform]
    fixtures = load_fixtures(platform)
    rng = random.Random(f"mutate-{platform}")
    outcomes = {"ok": 0, "invalid": 0}
    for iteration in range(1500):
        body = mutate(rng, copy.deepcopy(rng.choice(fixtures)), rate=rng.choice([0.05, 0.2, 0.5]))
        try:
            event = source.parse(body)
        except (InvalidPayload, MalformedPayload) as exc:
            assert exc.reason, (platform, iteration)
            outcomes["invalid"] += 1
        else:
            check_event(event, platform)
            outcomes["ok"] += 1
    assert outcomes["ok"] > 100 and outcomes["invalid"] > 10


@pytest.mark.parametrize("platform", sorted(SOURCES))
@pytest.mark.parametrize("body", [None, [], "x", 1, b"{}", ["event", "SALE_APPROVED"]])
def test_non_dict_bodies_are_malformed(platform, body):
    with pytest.raises(MalformedPayload):
        SOURCES[platform].parse(body)


def random_bytes(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.3:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 64)))
    if choice < 0.6:
        value = junk(rng)
        try:
            return json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass")
        except (ValueError, TypeError, OverflowError):
            return b"{}"
    if choice < 0.8:
        return json.dumps({"token": rng.choice(STRINGS), "hottok": rng.choice(STRINGS)}).encode()
    return rng.choice([b"", b"hottok=x&prod=1", b"%ff%fe=\xff", b"[" * 5000, b"{" * 5000])


@pytest.mark.parametrize("platform", sorted(SOURCES))
def test_verify_never_raises(platform):
    source = SOURCES[platform]
    rng = random.Random(f"verify-{platform}")
    header_names = [
        "X-HOTMART-HOTTOK", "x-kirvano-token", "Authorization", "security-token", "token",
        "Content-Type",
    ]  # fmt: skip
    for _ in range(800):
        raw = random_bytes(rng)
        headers = {
            rng.choice(header_names): rng.choice([*STRINGS, None, 5, b"bytes"])
            for _ in range(rng.randint(0, 4))
        }
        args = {
            rng.choice(["signature", "token", "x"]): rng.choice([*STRINGS, None, ["a"], 3])
            for _ in range(rng.randint(0, 2))
        }
        secret = rng.choice(["s3cret", "", None, "🙂", "\ud800", " padded "])
        result = source.verify(raw, headers, args, secret)
        assert isinstance(result, VerifyResult)
        assert isinstance(result.ok, bool) and isinstance(result.reason, str)
        if secret is None or not secret.strip():
            assert not result.ok


def test_parse_json_only_raises_malformed():
    rng = random.Random("parse-json")
    for _ in range(2000):
        raw = random_bytes(rng)
        try:
            body = parse_json(raw)
        except MalformedPayload:
            continue
        assert isinstance(body, dict)
        for value in body.values():
            assert not (isinstance(value, float) and math.isnan(value))
