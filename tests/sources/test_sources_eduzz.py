"""Eduzz webhooks: v3 x-signature and legacy origin token, event mapping, both formats."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from app.sources import SOURCES, InvalidPayload, Kind, MalformedPayload, eduzz
from app.sources.events import TEST_PANEL, TEST_PLATFORM

SECRET = "eduzz-secret-0123456789"


def sign(raw: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


# --- verify ----------------------------------------------------------------------------------


def test_verify_accepts_the_lowercase_hex_signature(webhook_raw):
    raw = webhook_raw("eduzz", "invoice_paid")
    result = eduzz.verify(raw, {"x-signature": sign(raw)}, {}, SECRET)
    assert result.ok and result.location == "header:x-signature"


@pytest.mark.parametrize(
    "transform",
    [
        lambda digest: digest.upper(),
        lambda digest: f"sha256={digest}",
        lambda digest: f" SHA256={digest} ",
    ],
)
def test_verify_accepts_prefix_and_case(webhook_raw, transform):
    raw = webhook_raw("eduzz", "invoice_paid")
    assert eduzz.verify(raw, {"X-Signature": transform(sign(raw))}, {}, SECRET).ok


def test_verify_accepts_base64_as_a_fallback(webhook_raw):
    raw = webhook_raw("eduzz", "invoice_paid")
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()
    assert eduzz.verify(raw, {"x-signature": base64.b64encode(digest).decode()}, {}, SECRET).ok


def test_verify_accepts_any_of_several_rotating_secrets(webhook_raw):
    raw = webhook_raw("eduzz", "invoice_paid")
    headers = {"x-signature": sign(raw, "old-secret-abcdef")}
    assert eduzz.verify(raw, headers, {}, f"{SECRET}, old-secret-abcdef").ok
    assert not eduzz.verify(raw, headers, {}, SECRET).ok


def test_verify_rejects_a_signature_of_another_body(webhook_raw):
    raw = webhook_raw("eduzz", "invoice_paid")
    result = eduzz.verify(raw + b" ", {"x-signature": sign(raw)}, {}, SECRET)
    assert not result.ok and "inválida" in result.reason


def test_verify_without_proof_or_secret(webhook_raw):
    raw = webhook_raw("eduzz", "invoice_paid")
    missing = eduzz.verify(raw, {}, {}, SECRET)
    assert not missing.ok and "ausente" in missing.reason
    assert eduzz.verify(raw, {"x-signature": sign(raw)}, {}, None).reason == (
        "Segredo do webhook não configurado para esta plataforma"
    )
    assert not eduzz.verify(raw, {"x-signature": sign(raw)}, {}, " , ").ok


def test_verify_accepts_the_legacy_origin_token(webhook_raw, webhook_body):
    result = eduzz.verify(webhook_raw("eduzz", "legacy_invoice_paid"), {}, {}, SECRET)
    assert result.ok and result.location == "body:origin"
    body = webhook_body("eduzz", "legacy_invoice_paid")
    body["origin"] = "someone-else"
    assert not eduzz.verify(json.dumps(body).encode(), {}, {}, SECRET).ok


def test_verify_and_decode_a_legacy_form_postback(webhook_body):
    raw = urlencode(webhook_body("eduzz", "legacy_invoice_paid")).encode()
    assert eduzz.verify(raw, {"Content-Type": "application/x-www-form-urlencoded"}, {}, SECRET).ok
    body = eduzz.decode(raw)
    assert body["trans_cod"] == "87654321"
    assert eduzz.parse(body).kind is Kind.GRANT


def test_decode_refuses_what_is_neither_json_nor_a_postback():
    for raw in (b"", b"not json", b"[1]", b"hottok=abc&prod=1", b"\xff\xfe"):
        with pytest.raises(MalformedPayload):
            eduzz.decode(raw)


# --- parse: v3 -------------------------------------------------------------------------------


def test_invoice_paid_grants(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "invoice_paid"))
    assert event.platform == "eduzz" and event.kind is Kind.GRANT
    assert event.event_type == "myeduzz.invoice_paid"
    assert event.dedupe_key == "g90wu09uwge"
    assert event.transaction_id == "12345678"
    assert event.status == "approved"
    assert event.buyer_email == "alice.johnson@example.com"
    assert event.buyer_name == "Alice Johnson"
    assert event.buyer_phone == "+5511987654321"
    assert event.product_id == "P567" and event.product_name == "Widget X"
    assert event.amount_cents == 30150 and event.currency == "BRL"
    assert event.payment_method == "credit_card"
    assert event.occurred_at == datetime(2024, 1, 9, 14, 45, tzinfo=UTC)
    assert event.test_origin is None and event.extra_items == ()


def test_refund_shares_the_transaction_under_a_new_event_id(webhook_body):
    paid = eduzz.parse(webhook_body("eduzz", "invoice_paid"))
    refund = eduzz.parse(webhook_body("eduzz", "invoice_refunded"))
    assert refund.kind is Kind.REVOKE and refund.status == "refunded"
    assert refund.transaction_id == paid.transaction_id
    assert refund.dedupe_key != paid.dedupe_key
    assert refund.occurred_at == datetime(2024, 1, 12, 9, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("invoice_canceled", "canceled"), ("invoice_chargeback", "chargeback")],
)
def test_cancellation_and_chargeback_revoke(webhook_body, fixture, status):
    event = eduzz.parse(webhook_body("eduzz", fixture))
    assert event.kind is Kind.REVOKE and event.status == status


def test_bump_items_and_the_student(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "invoice_paid_order_bump"))
    assert event.buyer_email == "bruno.johnson@example.com"  # student ?? buyer
    assert event.buyer_name == "Bruno Johnson"
    assert event.product_id == "P567" and event.amount_cents == 29750
    assert event.occurred_at == datetime(2024, 1, 9, 14, 44, 10, tzinfo=UTC)  # paidAt
    (bump,) = event.extra_items
    assert bump.product_id == "P900" and bump.amount_cents == 4990 and bump.is_order_bump


def test_payment_methods_map_to_the_normalized_names(webhook_body):
    body = webhook_body("eduzz", "invoice_paid")
    for method, expected in [
        ("creditCard", "credit_card"),
        ("bankslip", "boleto"),
        ("pix", "pix"),
        ("eduzzBalance", "eduzz_balance"),
    ]:
        body["data"]["paymentMethod"] = method
        assert eduzz.parse(body).payment_method == expected


def test_contract_canceled_revokes_the_subscription(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "contract_updated_canceled"))
    assert event.kind is Kind.REVOKE and event.status == "canceled"
    assert SOURCES["eduzz"].cancels_subscription(event)
    assert event.subscription_id == "3456" and event.transaction_id is None
    assert event.buyer_email == "alice.johnson@example.com" and event.product_id == "P567"
    assert event.buyer_phone == "+5511987654321"
    assert event.access_until == datetime(2024, 3, 15, 15, tzinfo=UTC)


@pytest.mark.parametrize("status", ["suspended", "defaulter"])
def test_suspended_or_defaulter_contract_revokes_at_once(webhook_body, status):
    body = webhook_body("eduzz", "contract_updated_canceled")
    body["data"]["contract"]["status"] = status
    event = eduzz.parse(body)
    assert event.kind is Kind.REVOKE and event.access_until is None


def test_contract_up_to_date_is_informational(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "contract_updated_up_to_date"))
    assert event.kind is Kind.INFO
    assert not SOURCES["eduzz"].cancels_subscription(event)


@pytest.mark.parametrize("fixture", ["invoice_opened", "cart_abandonment", "ping", "unknown_event"])
def test_other_events_are_informational(webhook_body, fixture):
    event = eduzz.parse(webhook_body("eduzz", fixture))
    assert event.kind is Kind.INFO


def test_unknown_event_is_ignored_even_with_a_refunded_status(webhook_body):
    # SPEC §13: an unknown myeduzz.* event is "ignored"; logic follows the event name only.
    assert eduzz.parse(webhook_body("eduzz", "unknown_event")).kind is Kind.INFO


def test_ping_and_panel_tests_are_marked(webhook_body):
    assert eduzz.parse(webhook_body("eduzz", "ping")).test_origin == TEST_PLATFORM
    body = webhook_body("eduzz", "invoice_paid")
    body["data"]["id"] = "TESTE-ABCD1234"
    assert eduzz.parse(body).test_origin == TEST_PANEL


def test_cart_has_no_transaction(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "cart_abandonment"))
    assert event.transaction_id is None and event.status == "abandoned"


def test_approval_without_email_is_invalid(webhook_body):
    body = webhook_body("eduzz", "invoice_paid")
    body["data"]["buyer"]["email"] = "not-an-email"
    with pytest.raises(InvalidPayload) as info:
        eduzz.parse(body)
    assert info.value.dedupe_key == "g90wu09uwge"


def test_event_without_app_prefix_and_without_envelope_id(webhook_body):
    body = webhook_body("eduzz", "contract_updated_canceled")
    body["event"] = "contract_updated"
    del body["id"]
    event = eduzz.parse(body)
    assert event.event_type == "myeduzz.contract_updated" and event.kind is Kind.REVOKE
    assert event.dedupe_key.startswith("myeduzz.contract_updated:sha256:")


# --- parse: legacy ---------------------------------------------------------------------------


def test_legacy_invoice_paid(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "legacy_invoice_paid"))
    assert event.kind is Kind.GRANT and event.event_type == "invoice_paid"
    assert event.transaction_id == "87654321"
    assert event.dedupe_key == "invoice_paid:87654321:3"
    assert event.buyer_email == "carla.souza@example.com"
    assert event.buyer_document == "12345678909" and event.buyer_document_type == "CPF"
    assert event.amount_cents == 19700 and event.payment_method == "pix"
    assert event.product_id == "1234567"
    assert event.occurred_at == datetime(2024, 1, 9, 14, 45, tzinfo=UTC)  # 11:45 in São Paulo
    assert event.test_origin is None


def test_legacy_refund_and_status_only_bodies(webhook_body):
    refund = eduzz.parse(webhook_body("eduzz", "legacy_invoice_refunded"))
    assert refund.kind is Kind.REVOKE and refund.status == "refunded"
    body = webhook_body("eduzz", "legacy_invoice_paid")
    del body["event_name"]
    body["trans_status"] = "4"
    assert eduzz.parse(body).kind is Kind.REVOKE


def test_legacy_test_delivery_is_a_platform_test(webhook_body):
    event = eduzz.parse(webhook_body("eduzz", "legacy_platform_test"))
    assert event.kind is Kind.GRANT and event.test_origin == TEST_PLATFORM


def test_descriptor_declares_the_secret_and_credentials_in_the_body():
    source = SOURCES["eduzz"]
    assert source.secret_key == "EDUZZ_WEBHOOK_SECRET" and source.secrets[0].secret
    assert ("origin",) in source.body_secrets and ("api_key",) in source.body_secrets


def test_a_later_contract_charge_is_a_renewal(webhook_body):
    body = webhook_body("eduzz", "invoice_paid")
    body["data"]["contract"] = {"id": "3456", "recurrence": {"charges": {"current": 3}}}
    event = eduzz.parse(body)
    assert event.kind is Kind.RENEW and event.recurrence_number == 3
    assert event.subscription_id == "3456"
