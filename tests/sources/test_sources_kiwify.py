"""Kiwify webhooks: ?signature= HMAC-SHA1 verification and event mapping."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from app.sources import InvalidPayload, Kind, kiwify

TOKEN = "kiwify-token-0123456789abcdef"
ORDER = "aac95806-d613-4cc6-80f9-f74882dbbce2"
SUBSCRIPTION = "9584c28e-8c7b-44bc-9282-2fa03c45b7db"
RENEWAL_ORDER = "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"
PRODUCT = "845f2fff-61de-4aee-a201-d502e2f5ca94"


def independent_signature(raw: bytes, token: str = TOKEN) -> str:
    return hmac.new(token.encode(), raw, hashlib.sha1).hexdigest()


# --- verify ----------------------------------------------------------------------------------


def test_verify_accepts_a_correct_signature(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    result = kiwify.verify(raw, {}, {"signature": independent_signature(raw)}, TOKEN)
    assert result.ok
    assert result.location == "query:signature"


def test_sign_matches_an_independent_hmac(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    assert kiwify.sign(raw, TOKEN) == independent_signature(raw)


def test_verify_accepts_upper_case_hex(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    signature = independent_signature(raw).upper()
    assert kiwify.verify(raw, {}, {"signature": signature}, TOKEN).ok


def test_verify_rejects_a_tampered_body(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    signature = independent_signature(raw)
    tampered = raw.replace(b"maria@example.com", b"evil@example.com")
    assert tampered != raw
    result = kiwify.verify(tampered, {}, {"signature": signature}, TOKEN)
    assert not result.ok
    assert result.reason == "Assinatura inválida"


def test_verify_is_on_raw_bytes_not_on_reserialised_json(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw
    assert not kiwify.verify(reserialised, {}, {"signature": independent_signature(raw)}, TOKEN).ok


def test_verify_rejects_a_signature_made_with_another_token(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    signature = independent_signature(raw, "other-token")
    assert not kiwify.verify(raw, {}, {"signature": signature}, TOKEN).ok


def test_verify_rejects_sha256_signatures(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    signature = hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
    assert not kiwify.verify(raw, {}, {"signature": signature}, TOKEN).ok


@pytest.mark.parametrize("args", [{}, {"signature": ""}, {"signature": "  "}])
def test_verify_rejects_a_missing_signature(webhook_raw, args):
    raw = webhook_raw("kiwify", "order_approved")
    result = kiwify.verify(raw, {}, args, TOKEN)
    assert not result.ok
    assert "ausente" in result.reason


def test_verify_ignores_signature_headers(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    headers = {"X-Kiwify-Signature": independent_signature(raw)}
    assert not kiwify.verify(raw, headers, {}, TOKEN).ok


@pytest.mark.parametrize("secret", [None, "", "  "])
def test_verify_without_configured_token_fails(secret):
    # Even a signature made with the empty key (Kiwify's behaviour without a token) fails.
    raw = b"{}"
    signature = hmac.new(b"", raw, hashlib.sha1).hexdigest()
    result = kiwify.verify(raw, {}, {"signature": signature}, secret)
    assert not result.ok
    assert "não configurado" in result.reason


def test_verify_accepts_list_valued_args(webhook_raw):
    raw = webhook_raw("kiwify", "order_approved")
    assert kiwify.verify(raw, {}, {"signature": [independent_signature(raw)]}, TOKEN).ok


# --- fixtures --------------------------------------------------------------------------------

EXPECTED = {
    # name: (event_type, kind, status, transaction, amount, email, product, dedupe_key)
    "order_approved": (
        "order_approved",
        Kind.GRANT,
        "approved",
        ORDER,
        19700,
        "maria@example.com",
        PRODUCT,
        f"order_approved:{ORDER}",
    ),
    "order_refunded": (
        "order_refunded",
        Kind.REVOKE,
        "refunded",
        ORDER,
        19700,
        "maria@example.com",
        PRODUCT,
        f"order_refunded:{ORDER}",
    ),
    "chargeback": (
        "chargeback",
        Kind.REVOKE,
        "chargeback",
        ORDER,
        19700,
        "maria@example.com",
        PRODUCT,
        f"chargeback:{ORDER}",
    ),
    "order_rejected": (
        "order_rejected",
        Kind.REVOKE,
        "refused",
        "3f2e1d0c-9b8a-4765-8432-10fedcba9876",
        19700,
        "joao@example.com",
        PRODUCT,
        "order_rejected:3f2e1d0c-9b8a-4765-8432-10fedcba9876",
    ),
    "pix_created": (
        "pix_created",
        Kind.INFO,
        "pending",
        "7c6b5a49-3827-4165-a4f3-e2d1c0b9a887",
        19700,
        "ana@example.com",
        PRODUCT,
        "pix_created:7c6b5a49-3827-4165-a4f3-e2d1c0b9a887",
    ),
    "abandoned_cart": (
        "abandoned_cart",
        Kind.INFO,
        "abandoned",
        None,
        None,
        "pedro@example.com",
        PRODUCT,
        "abandoned_cart:0e4b2c1a-7d3f-4b8e-9a6c-5f1d2e3b4a70",
    ),
    "subscription_canceled": (
        "subscription_canceled",
        Kind.REVOKE,
        "canceled",
        ORDER,
        19700,
        "maria@example.com",
        PRODUCT,
        f"subscription_canceled:{ORDER}:{SUBSCRIPTION}",
    ),
    "subscription_renewed": (
        "subscription_renewed",
        Kind.RENEW,
        "approved",
        RENEWAL_ORDER,
        19700,
        "maria@example.com",
        PRODUCT,
        f"subscription_renewed:{RENEWAL_ORDER}:{SUBSCRIPTION}:2026-07-08 11:55",
    ),
    "unknown_event": (
        "order_delivered",
        Kind.INFO,
        "approved",
        ORDER,
        None,
        "maria@example.com",
        PRODUCT,
        f"order_delivered:{ORDER}",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_expected_event(webhook_body, name):
    event_type, kind, status, transaction, amount, email, product_id, key = EXPECTED[name]
    event = kiwify.parse(webhook_body("kiwify", name))
    assert event.platform == "kiwify"
    assert event.event_type == event_type
    assert event.kind is kind
    assert event.status == status
    assert event.transaction_id == transaction
    assert event.amount_cents == amount
    assert event.buyer_email == email
    assert event.product_id == product_id
    assert event.dedupe_key == key
    assert event.occurred_at is not None and event.occurred_at.tzinfo is not None


def test_approved_details(webhook_body):
    event = kiwify.parse(webhook_body("kiwify", "order_approved"))
    assert event.buyer_name == "Maria Souza"
    assert event.buyer_phone == "+5511999998888"
    assert event.buyer_document == "00000000191"
    assert event.buyer_document_type == "CPF"
    assert event.product_name == "Curso Exemplo"
    assert event.plan_name == "Plano Mensal"
    assert event.currency == "BRL"
    assert event.payment_method == "pix"
    assert event.subscription_id == SUBSCRIPTION
    # "2026-06-08 11:54" in America/Sao_Paulo (UTC-3) → 14:54 UTC
    assert event.occurred_at == datetime(2026, 6, 8, 14, 54, tzinfo=UTC)


def test_refund_occurred_at_is_refunded_at(webhook_body):
    event = kiwify.parse(webhook_body("kiwify", "order_refunded"))
    assert event.occurred_at == datetime(2026, 6, 10, 12, 12, tzinfo=UTC)


def test_iso_dates_are_accepted(webhook_body):
    body = webhook_body("kiwify", "order_approved")
    body["approved_date"] = "2026-06-08T14:54:10.298Z"
    assert kiwify.parse(body).occurred_at == datetime(2026, 6, 8, 14, 54, 10, 298000, tzinfo=UTC)


def test_unparseable_date_falls_back_without_raising(webhook_body):
    body = webhook_body("kiwify", "order_approved")
    body["approved_date"] = "ontem à tarde"
    body["updated_at"] = 12
    assert kiwify.parse(body).occurred_at == datetime(2026, 6, 8, 14, 53, tzinfo=UTC)


def test_cnpj_in_cpf_field_is_classified(webhook_body):
    event = kiwify.parse(webhook_body("kiwify", "pix_created"))
    assert event.buyer_document == "12345678000195"
    assert event.buyer_document_type == "CNPJ"


def test_subscription_canceled_keeps_access_until_next_payment(webhook_body):
    event = kiwify.parse(webhook_body("kiwify", "subscription_canceled"))
    assert event.subscription_id == SUBSCRIPTION
    assert event.access_until == datetime(2026, 7, 8, 14, 54, 10, 298000, tzinfo=UTC)


def test_renewal_shares_the_subscription(webhook_body):
    approved = kiwify.parse(webhook_body("kiwify", "order_approved"))
    renewed = kiwify.parse(webhook_body("kiwify", "subscription_renewed"))
    assert renewed.subscription_id == approved.subscription_id
    assert renewed.payment_method == "credit_card"


def test_renewals_of_the_same_order_differ_by_updated_at(webhook_body):
    first = webhook_body("kiwify", "subscription_renewed")
    second = webhook_body("kiwify", "subscription_renewed")
    second["updated_at"] = "2026-08-08 11:55"
    assert kiwify.parse(first).dedupe_key != kiwify.parse(second).dedupe_key


def test_subscription_late_is_flagged(webhook_body):
    body = webhook_body("kiwify", "subscription_renewed")
    body["webhook_event_type"] = "subscription_late"
    event = kiwify.parse(body)
    assert (event.kind, event.status) == (Kind.FLAG, "overdue")


def test_billet_created_is_info(webhook_body):
    body = webhook_body("kiwify", "pix_created")
    body["webhook_event_type"] = "billet_created"
    body["payment_method"] = "boleto"
    event = kiwify.parse(body)
    assert (event.kind, event.payment_method) == (Kind.INFO, "boleto")


def test_order_wrapper_is_unwrapped(webhook_body):
    inner = webhook_body("kiwify", "order_approved")
    event = kiwify.parse({"order": inner})
    assert event == kiwify.parse(inner)


def test_order_key_among_others_is_not_unwrapped(webhook_body):
    body = webhook_body("kiwify", "order_approved")
    body["order"] = {"webhook_event_type": "order_refunded"}
    assert kiwify.parse(body).event_type == "order_approved"


def test_cart_needs_abandoned_status_and_id():
    event = kiwify.parse({"id": "cart-1", "status": "ABANDONED", "email": "x@example.com"})
    assert (event.event_type, event.kind) == ("abandoned_cart", Kind.INFO)
    other = kiwify.parse({"status": "abandoned"})
    assert other.event_type == "unknown"


def test_amount_in_cents_junk_is_missing(webhook_body):
    body = webhook_body("kiwify", "order_approved")
    body["Commissions"]["charge_amount"] = "abc"
    assert kiwify.parse(body).amount_cents is None
    body["Commissions"] = None
    assert kiwify.parse(body).amount_cents is None


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["", "maria", "maria@@example.com", None, 123])
def test_approval_without_valid_email_is_invalid(webhook_body, email):
    body = webhook_body("kiwify", "order_approved")
    body["Customer"]["email"] = email
    with pytest.raises(InvalidPayload) as info:
        kiwify.parse(body)
    assert info.value.reason == "Evento de aprovação sem e-mail válido do comprador"


def test_approval_without_customer_is_invalid(webhook_body):
    body = webhook_body("kiwify", "order_approved")
    del body["Customer"]
    with pytest.raises(InvalidPayload):
        kiwify.parse(body)


@pytest.mark.parametrize(
    "name", ["order_approved", "order_refunded", "chargeback", "subscription_renewed"]
)
def test_actionable_event_without_order_id_is_invalid(webhook_body, name):
    body = webhook_body("kiwify", name)
    body["order_id"] = None
    with pytest.raises(InvalidPayload) as info:
        kiwify.parse(body)
    assert "transação" in info.value.reason


def test_subscription_cancel_without_order_but_with_subscription_is_valid(webhook_body):
    body = webhook_body("kiwify", "subscription_canceled")
    del body["order_id"]
    event = kiwify.parse(body)
    assert event.kind is Kind.REVOKE and event.subscription_id == SUBSCRIPTION


def test_info_event_missing_everything_is_accepted():
    event = kiwify.parse({"webhook_event_type": "pix_created"})
    assert event.kind is Kind.INFO
    assert event.dedupe_key.startswith("pix_created:sha256:")


# --- dedupe ----------------------------------------------------------------------------------


def test_dedupe_keys(webhook_body):
    approved = kiwify.parse(webhook_body("kiwify", "order_approved"))
    refunded = kiwify.parse(webhook_body("kiwify", "order_refunded"))
    chargeback = kiwify.parse(webhook_body("kiwify", "chargeback"))
    assert approved.transaction_id == refunded.transaction_id == chargeback.transaction_id
    assert len({approved.dedupe_key, refunded.dedupe_key, chargeback.dedupe_key}) == 3
    assert kiwify.parse(webhook_body("kiwify", "order_approved")).dedupe_key == approved.dedupe_key
