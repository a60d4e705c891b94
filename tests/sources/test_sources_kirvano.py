"""Kirvano webhooks: static token in any known location, and event mapping."""

import json
from datetime import UTC, datetime

import pytest

from app.sources import InvalidPayload, Kind, kirvano

TOKEN = "kirvano-token-0123456789abcdef"
SALE = "ABC12345"
PRODUCT = "1c5f17f3-8682-4015-9837-05d2d7807757"


# --- verify ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "location"),
    [
        ({"x-kirvano-token": TOKEN}, "header:x-kirvano-token"),
        ({"X-Kirvano-Token": TOKEN}, "header:x-kirvano-token"),
        ({"Authorization": TOKEN}, "header:authorization"),
        ({"Authorization": f"Bearer {TOKEN}"}, "header:authorization"),
        ({"authorization": f"bearer  {TOKEN} "}, "header:authorization"),
        ({"Security-Token": TOKEN}, "header:security-token"),
        ({"token": TOKEN}, "header:token"),
    ],
)
def test_verify_accepts_each_header_location(webhook_raw, headers, location):
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), headers, {}, TOKEN)
    assert result.ok
    assert result.location == location


def test_verify_accepts_the_body_token(webhook_body):
    body = webhook_body("kirvano", "sale_approved")
    body["token"] = TOKEN
    result = kirvano.verify(json.dumps(body).encode(), {}, {}, TOKEN)
    assert result.ok
    assert result.location == "body:token"


def test_verify_accepts_a_query_token(webhook_raw):
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), {}, {"token": TOKEN}, TOKEN)
    assert result.ok
    assert result.location == "query:token"


def test_verify_reports_the_matching_location_among_several(webhook_raw):
    headers = {"Authorization": "Bearer something-else", "security-token": TOKEN}
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), headers, {}, TOKEN)
    assert result.ok
    assert result.location == "header:security-token"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-kirvano-token": TOKEN + "x"},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"token": ""},
        {"security-token": TOKEN[:-1]},
    ],
)
def test_verify_rejects_bad_tokens(webhook_raw, headers):
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), headers, {}, TOKEN)
    assert not result.ok
    assert result.location is None
    assert result.reason == "Token inválido"


def test_verify_rejects_a_missing_token(webhook_raw):
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), {"Accept": "*/*"}, {}, TOKEN)
    assert not result.ok
    assert "ausente" in result.reason


def test_verify_ignores_a_non_string_body_token():
    raw = json.dumps({"token": {"value": TOKEN}}).encode()
    assert not kirvano.verify(raw, {}, {}, TOKEN).ok


def test_verify_with_a_non_json_body_still_checks_headers():
    assert kirvano.verify(b"\xff not json", {"x-kirvano-token": TOKEN}, {}, TOKEN).ok
    assert not kirvano.verify(b"\xff not json", {}, {}, TOKEN).ok


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_verify_without_configured_token_fails(webhook_raw, secret):
    result = kirvano.verify(webhook_raw("kirvano", "sale_approved"), {"token": ""}, {}, secret)
    assert not result.ok
    assert "não configurado" in result.reason


# --- fixtures --------------------------------------------------------------------------------

EXPECTED = {
    # name: (event_type, kind, status, transaction, amount, email, product, dedupe_key)
    "sale_approved": (
        "SALE_APPROVED",
        Kind.GRANT,
        "approved",
        SALE,
        9700,
        "maria@example.com",
        PRODUCT,
        f"SALE_APPROVED:{SALE}",
    ),
    "sale_refunded": (
        "SALE_REFUNDED",
        Kind.REVOKE,
        "refunded",
        SALE,
        9700,
        "maria@example.com",
        PRODUCT,
        f"SALE_REFUNDED:{SALE}",
    ),
    "sale_chargeback": (
        "SALE_CHARGEBACK",
        Kind.REVOKE,
        "chargeback",
        SALE,
        9700,
        "maria@example.com",
        PRODUCT,
        f"SALE_CHARGEBACK:{SALE}",
    ),
    "sale_refused": (
        "SALE_REFUSED",
        Kind.REVOKE,
        "refused",
        "RFS98765",
        116980,
        "joao@example.com",
        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "SALE_REFUSED:RFS98765",
    ),
    "pix_generated": (
        "PIX_GENERATED",
        Kind.INFO,
        "pending",
        "PX7Y8Z90",
        4790,
        "ana@example.com",
        "2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819",
        "PIX_GENERATED:PX7Y8Z90",
    ),
    "abandoned_cart": (
        "ABANDONED_CART",
        Kind.INFO,
        "abandoned",
        None,
        9700,
        "pedro@example.com",
        PRODUCT,
        "ABANDONED_CART:CRT45678",
    ),
    "subscription_canceled": (
        "SUBSCRIPTION_CANCELED",
        Kind.REVOKE,
        "canceled",
        SALE,
        9700,
        "maria@example.com",
        PRODUCT,
        f"SUBSCRIPTION_CANCELED:{SALE}",
    ),
    "subscription_renewed": (
        "SUBSCRIPTION_RENEWED",
        Kind.RENEW,
        "approved",
        "RNW23456",
        9700,
        "maria@example.com",
        PRODUCT,
        "SUBSCRIPTION_RENEWED:RNW23456:2",
    ),
    "unknown_event": (
        "SUBSCRIPTION_PLAN_CHANGED",
        Kind.INFO,
        "approved",
        SALE,
        None,
        "maria@example.com",
        PRODUCT,
        f"SUBSCRIPTION_PLAN_CHANGED:{SALE}",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_expected_event(webhook_body, name):
    event_type, kind, status, transaction, amount, email, product_id, key = EXPECTED[name]
    event = kirvano.parse(webhook_body("kirvano", name))
    assert event.platform == "kirvano"
    assert event.event_type == event_type
    assert event.kind is kind
    assert event.status == status
    assert event.transaction_id == transaction
    assert event.amount_cents == amount
    assert event.buyer_email == email
    assert event.product_id == product_id
    assert event.dedupe_key == key
    assert event.currency == "BRL"
    assert event.subscription_id is None
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None


def test_approved_details(webhook_body):
    event = kirvano.parse(webhook_body("kirvano", "sale_approved"))
    assert event.buyer_name == "Maria Souza"
    assert event.buyer_phone == "+5511999998888"
    assert event.buyer_document == "00000000191"
    assert event.buyer_document_type == "CPF"
    assert event.product_name == "Clube Exemplo"
    assert event.offer_code == "56619168-3b4c-4052-b28b-238288ad2190"
    assert event.plan_name == "Plano Mensal"
    assert event.payment_method == "credit_card"
    assert event.recurrence_number == 1
    assert event.is_order_bump is False
    # payment.finished_at "2026-07-10 17:05:41" São Paulo → 20:05:41 UTC
    assert event.occurred_at == datetime(2026, 7, 10, 20, 5, 41, tzinfo=UTC)


def test_non_approval_uses_created_at(webhook_body):
    event = kirvano.parse(webhook_body("kirvano", "sale_refunded"))
    assert event.occurred_at == datetime(2026, 7, 12, 12, 30, tzinfo=UTC)


def test_total_price_string_when_fiscal_is_missing(webhook_body):
    event = kirvano.parse(webhook_body("kirvano", "sale_refused"))
    assert event.amount_cents == 116980  # "R$ 1.169,80"


def test_fiscal_total_wins_over_total_price(webhook_body):
    body = webhook_body("kirvano", "sale_approved")
    body["fiscal"]["total_value"] = 0.1 + 0.2
    assert kirvano.parse(body).amount_cents == 30
    body["fiscal"]["total_value"] = "abc"
    assert kirvano.parse(body).amount_cents == 9700  # falls back to total_price
    body["total_price"] = "grátis"
    assert kirvano.parse(body).amount_cents is None


def test_order_bump_is_skipped_for_the_main_product(webhook_body):
    body = webhook_body("kirvano", "sale_approved")
    bump = {"id": "bump-1", "name": "Bônus", "price": "R$ 19,90", "is_order_bump": True}
    body["products"].insert(0, bump)
    event = kirvano.parse(body)
    assert event.product_id == PRODUCT
    assert event.is_order_bump is False


def test_bump_only_sale_is_marked(webhook_body):
    body = webhook_body("kirvano", "sale_approved")
    body["products"] = [{"id": "bump-1", "name": "Bônus", "is_order_bump": True}, "junk"]
    event = kirvano.parse(body)
    assert (event.product_id, event.is_order_bump) == ("bump-1", True)


def test_subscription_canceled_keeps_access_until_next_charge(webhook_body):
    event = kirvano.parse(webhook_body("kirvano", "subscription_canceled"))
    assert event.access_until == datetime(2026, 8, 10, 20, 5, 41, tzinfo=UTC)


def test_subscription_canceled_without_sale_id_needs_email(webhook_body):
    body = webhook_body("kirvano", "subscription_canceled")
    del body["sale_id"]
    assert kirvano.parse(body).buyer_email == "maria@example.com"
    del body["customer"]
    with pytest.raises(InvalidPayload):
        kirvano.parse(body)


def test_second_charge_approval_is_a_renewal(webhook_body):
    body = webhook_body("kirvano", "sale_approved")
    body["plan"]["charge_number"] = 3
    assert kirvano.parse(body).kind is Kind.RENEW


@pytest.mark.parametrize(
    ("event_name", "kind", "status"),
    [
        ("SUBSCRIPTION_EXPIRED", Kind.FLAG, "overdue"),
        ("PIX_EXPIRED", Kind.INFO, "expired"),
        ("BANK_SLIP_GENERATED", Kind.INFO, "pending"),
        ("BANK_SLIP_EXPIRED", Kind.INFO, "expired"),
    ],
)
def test_other_events(webhook_body, event_name, kind, status):
    body = webhook_body("kirvano", "pix_generated")
    body["event"] = event_name
    event = kirvano.parse(body)
    assert (event.kind, event.status) == (kind, status)


def test_bank_slip_method_is_boleto(webhook_body):
    body = webhook_body("kirvano", "pix_generated")
    body["payment"]["method"] = "BANK_SLIP"
    assert kirvano.parse(body).payment_method == "boleto"


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "maria", "maria@example", None, 7, {"a": 1}])
def test_approval_without_valid_email_is_invalid(webhook_body, email):
    body = webhook_body("kirvano", "sale_approved")
    body["customer"]["email"] = email
    with pytest.raises(InvalidPayload) as info:
        kirvano.parse(body)
    assert info.value.reason == "Evento de aprovação sem e-mail válido do comprador"
    assert info.value.dedupe_key == f"SALE_APPROVED:{SALE}"


@pytest.mark.parametrize("name", ["sale_approved", "sale_refunded", "subscription_renewed"])
def test_actionable_event_without_sale_id_is_invalid(webhook_body, name):
    body = webhook_body("kirvano", name)
    body["sale_id"] = "   "
    with pytest.raises(InvalidPayload) as info:
        kirvano.parse(body)
    assert "transação" in info.value.reason


def test_cart_without_anything_is_accepted():
    event = kirvano.parse({"event": "ABANDONED_CART"})
    assert event.kind is Kind.INFO
    assert event.dedupe_key.startswith("ABANDONED_CART:sha256:")


# --- dedupe ----------------------------------------------------------------------------------


def test_dedupe_keys(webhook_body):
    approved = kirvano.parse(webhook_body("kirvano", "sale_approved"))
    refunded = kirvano.parse(webhook_body("kirvano", "sale_refunded"))
    chargeback = kirvano.parse(webhook_body("kirvano", "sale_chargeback"))
    assert approved.transaction_id == refunded.transaction_id == chargeback.transaction_id
    assert len({approved.dedupe_key, refunded.dedupe_key, chargeback.dedupe_key}) == 3
    assert kirvano.parse(webhook_body("kirvano", "sale_approved")) == approved


def test_renewals_differ_by_charge_number(webhook_body):
    first = webhook_body("kirvano", "subscription_renewed")
    second = webhook_body("kirvano", "subscription_renewed")
    second["plan"]["charge_number"] = 3
    assert kirvano.parse(first).dedupe_key != kirvano.parse(second).dedupe_key
