"""Hotmart 2.0.0 webhooks: hottok verification and event mapping."""

import json
from datetime import UTC, datetime

import pytest

from app.sources import InvalidPayload, Kind, hotmart

SECRET = "hottok-0123456789abcdef"
TRANSACTION = "HP16015479281022"
UCODE = "fb056612-bcc6-4217-9e6d-2a5d1110ac2f"


# --- verify ----------------------------------------------------------------------------------


def test_verify_accepts_the_header(webhook_raw):
    result = hotmart.verify(
        webhook_raw("hotmart", "purchase_approved"), {"X-HOTMART-HOTTOK": SECRET}, {}, SECRET
    )
    assert result.ok
    assert result.location == "header:x-hotmart-hottok"


@pytest.mark.parametrize("name", ["x-hotmart-hottok", "X-Hotmart-Hottok", "X-HOTMART-HOTTOK"])
def test_verify_header_lookup_is_case_insensitive(name):
    assert hotmart.verify(b"{}", {name: SECRET}, {}, SECRET).ok


def test_verify_falls_back_to_the_body_hottok(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    body["hottok"] = SECRET
    result = hotmart.verify(json.dumps(body).encode(), {}, {}, SECRET)
    assert result.ok
    assert result.location == "body:hottok"


def test_verify_body_fallback_when_header_is_wrong():
    raw = json.dumps({"hottok": SECRET, "event": "PURCHASE_APPROVED"}).encode()
    assert hotmart.verify(raw, {"X-HOTMART-HOTTOK": "nope"}, {}, SECRET).location == "body:hottok"


def test_verify_recognises_legacy_form_postback():
    raw = f"hottok={SECRET}&prod=4962378&status=approved".encode()
    assert hotmart.verify(raw, {}, {}, SECRET).ok


def test_verify_rejects_a_bad_token(webhook_raw):
    raw = webhook_raw("hotmart", "purchase_approved")
    result = hotmart.verify(raw, {"X-HOTMART-HOTTOK": SECRET + "x"}, {}, SECRET)
    assert not result.ok
    assert result.location is None
    assert "inválido" in result.reason


def test_verify_rejects_a_bad_body_token():
    raw = json.dumps({"hottok": "wrong"}).encode()
    assert not hotmart.verify(raw, {}, {}, SECRET).ok


def test_verify_rejects_a_missing_token(webhook_raw):
    result = hotmart.verify(webhook_raw("hotmart", "purchase_approved"), {}, {}, SECRET)
    assert not result.ok
    assert "ausente" in result.reason


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_verify_without_configured_secret_fails(secret):
    result = hotmart.verify(b"{}", {"X-HOTMART-HOTTOK": "anything"}, {}, secret)
    assert not result.ok
    assert "não configurado" in result.reason


def test_verify_never_matches_empty_header_against_secret():
    assert not hotmart.verify(b"{}", {"X-HOTMART-HOTTOK": ""}, {}, SECRET).ok


def test_verify_ignores_non_string_body_hottok():
    assert not hotmart.verify(json.dumps({"hottok": [SECRET]}).encode(), {}, {}, SECRET).ok


# --- fixtures --------------------------------------------------------------------------------

EXPECTED = {
    # name: (event_type, kind, status, transaction, amount_cents, email, product_id, dedupe_key)
    "purchase_approved": (
        "PURCHASE_APPROVED",
        Kind.GRANT,
        "approved",
        TRANSACTION,
        19700,
        "maria@example.com",
        UCODE,
        "545e7d21-8fc4-4906-8fba-dcd7889f6481",
    ),
    "purchase_refunded": (
        "PURCHASE_REFUNDED",
        Kind.REVOKE,
        "refunded",
        TRANSACTION,
        19700,
        "maria@example.com",
        UCODE,
        "8b2839d3-8d3c-4dee-ad79-a487d7814d6d",
    ),
    "purchase_chargeback": (
        "PURCHASE_CHARGEBACK",
        Kind.REVOKE,
        "chargeback",
        TRANSACTION,
        19700,
        "maria@example.com",
        UCODE,
        "0c9e6b1f-3a55-4c21-8f0e-6d2b7f1a9c34",
    ),
    "purchase_canceled": (
        "PURCHASE_CANCELED",
        Kind.REVOKE,
        "canceled",
        "HP17022334455667",
        19700,
        "joao@example.com",
        UCODE,
        "c4f1a2b3-5d6e-4f70-8a91-b2c3d4e5f607",
    ),
    "purchase_billet_printed": (
        "PURCHASE_BILLET_PRINTED",
        Kind.INFO,
        "pending",
        "HP18033445566778",
        19700,
        "ana@example.com",
        UCODE,
        "d7e8f9a0-1b2c-4d3e-9f40-5a6b7c8d9e0f",
    ),
    "subscription_cancellation": (
        "SUBSCRIPTION_CANCELLATION",
        Kind.REVOKE,
        "canceled",
        None,
        4990,
        "carla@example.com",
        "5123456",
        "f0e1d2c3-b4a5-4968-8776-655443322110",
    ),
    "purchase_out_of_shopping_cart": (
        "PURCHASE_OUT_OF_SHOPPING_CART",
        Kind.INFO,
        "abandoned",
        None,
        None,
        "pedro@example.com",
        "4962378",
        "b9c8d7e6-f5a4-4b3c-9d2e-1f0a9b8c7d6e",
    ),
    "unknown_event": (
        "CLUB_FIRST_ACCESS",
        Kind.INFO,
        None,
        None,
        None,
        None,
        "4962378",
        "e2d3c4b5-a697-4881-9273-645546372819",
    ),
    "purchase_approved_renewal": (
        "PURCHASE_APPROVED",
        Kind.RENEW,
        "approved",
        "HP19044556677889",
        4990,
        "carla@example.com",
        "3b0e5c7a-2d4f-4e6b-8a1c-9d0e1f2a3b4c",
        "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_maps_to_expected_event(webhook_body, name):
    event_type, kind, status, transaction, amount, email, product_id, key = EXPECTED[name]
    event = hotmart.parse(webhook_body("hotmart", name))
    assert event.platform == "hotmart"
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
    event = hotmart.parse(webhook_body("hotmart", "purchase_approved"))
    assert event.buyer_name == "Maria Souza"
    assert event.buyer_phone == "+5511999998888"
    assert event.buyer_document == "00000000191"
    assert event.buyer_document_type == "CPF"
    assert event.product_name == "Curso Exemplo"
    assert event.offer_code == "k2pasun0"
    assert event.currency == "BRL"
    assert event.payment_method == "pix"
    assert event.is_order_bump is False
    assert event.subscription_id is None
    assert event.recurrence_number is None
    # approvals use approved_date (ms), not the envelope creation_date
    assert event.occurred_at == datetime(2025, 11, 15, 23, 2, 25, tzinfo=UTC)


def test_non_approval_uses_creation_date(webhook_body):
    event = hotmart.parse(webhook_body("hotmart", "purchase_refunded"))
    assert event.occurred_at == datetime(2025, 11, 16, 23, 2, 25, 854000, tzinfo=UTC)


def test_creation_date_camel_case_is_accepted(webhook_body):
    body = webhook_body("hotmart", "purchase_refunded")
    body["creationDate"] = body.pop("creation_date")
    assert hotmart.parse(body).occurred_at == datetime(2025, 11, 16, 23, 2, 25, 854000, tzinfo=UTC)


def test_renewal_carries_subscription(webhook_body):
    event = hotmart.parse(webhook_body("hotmart", "purchase_approved_renewal"))
    assert event.subscription_id == "I9OT62C3"
    assert event.recurrence_number == 2
    assert event.plan_name == "Plano Mensal"
    assert event.payment_method == "credit_card"


def test_first_recurrence_is_a_grant(webhook_body):
    body = webhook_body("hotmart", "purchase_approved_renewal")
    body["data"]["purchase"]["recurrence_number"] = 1
    assert hotmart.parse(body).kind is Kind.GRANT


def test_subscription_cancellation_keeps_access_until_next_charge(webhook_body):
    event = hotmart.parse(webhook_body("hotmart", "subscription_cancellation"))
    assert event.subscription_id == "I9OT62C3"
    assert event.access_until == datetime(2026, 1, 14, 23, 2, 25, tzinfo=UTC)
    assert event.occurred_at == datetime(2025, 12, 17, 19, 33, 10, tzinfo=UTC)
    assert event.buyer_phone == "+5511955554444"
    assert event.plan_name == "Plano Mensal"


def test_subscription_cancellation_matches_the_renewal_subscriber(webhook_body):
    renewal = hotmart.parse(webhook_body("hotmart", "purchase_approved_renewal"))
    cancellation = hotmart.parse(webhook_body("hotmart", "subscription_cancellation"))
    assert renewal.subscription_id == cancellation.subscription_id


def test_subscription_cancellation_needs_subscriber_or_email(webhook_body):
    body = webhook_body("hotmart", "subscription_cancellation")
    del body["data"]["subscriber"]["code"]
    assert hotmart.parse(body).buyer_email == "carla@example.com"
    body["data"]["subscriber"]["email"] = "not-an-email"
    with pytest.raises(InvalidPayload) as info:
        hotmart.parse(body)
    assert "assinatura" in info.value.reason


def test_billet_method_is_boleto(webhook_body):
    assert hotmart.parse(webhook_body("hotmart", "purchase_billet_printed")).payment_method == (
        "boleto"
    )


@pytest.mark.parametrize(
    ("event_name", "kind", "status"),
    [
        ("PURCHASE_COMPLETE", Kind.GRANT, "complete"),
        ("PURCHASE_PROTEST", Kind.FLAG, "disputed"),
        ("PURCHASE_DELAYED", Kind.FLAG, "overdue"),
        ("PURCHASE_EXPIRED", Kind.INFO, "expired"),
        ("SWITCH_PLAN", Kind.INFO, "approved"),
    ],
)
def test_other_events(webhook_body, event_name, kind, status):
    body = webhook_body("hotmart", "purchase_approved")
    body["event"] = event_name
    event = hotmart.parse(body)
    assert (event.kind, event.status) == (kind, status)


def test_unknown_event_status_comes_from_purchase_status(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    body["event"] = "SOMETHING_NEW"
    body["data"]["purchase"]["status"] = "CANCELLED_BY_CUSTOMER"
    event = hotmart.parse(body)
    assert (event.kind, event.status) == (
        Kind.REVOKE,
        "canceled",
    )  # act on the status, never keep access


def test_product_id_falls_back_to_numeric_id(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    del body["data"]["product"]["ucode"]
    assert hotmart.parse(body).product_id == "4962378"


def test_order_bump_flag(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    body["data"]["purchase"]["order_bump"] = {
        "is_order_bump": True,
        "parent_purchase_transaction": "HP0000000000",
    }
    assert hotmart.parse(body).is_order_bump is True


def test_price_edge_cases(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    body["data"]["purchase"]["price"]["value"] = 0.1 + 0.2
    assert hotmart.parse(body).amount_cents == 30
    body["data"]["purchase"]["price"]["value"] = "abc"
    assert hotmart.parse(body).amount_cents is None
    body["data"]["purchase"]["price"] = "197"
    event = hotmart.parse(body)
    assert (event.amount_cents, event.currency) == (None, None)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "maria", "maria@example", 42, ["maria@example.com"]])
def test_approval_without_valid_email_is_invalid(webhook_body, email):
    body = webhook_body("hotmart", "purchase_approved")
    if email is None:
        del body["data"]["buyer"]["email"]
    else:
        body["data"]["buyer"]["email"] = email
    with pytest.raises(InvalidPayload) as info:
        hotmart.parse(body)
    assert info.value.reason == "Evento de aprovação sem e-mail válido do comprador"
    assert info.value.event_type == "PURCHASE_APPROVED"
    assert info.value.dedupe_key == "545e7d21-8fc4-4906-8fba-dcd7889f6481"


def test_approval_email_is_normalised(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    body["data"]["buyer"]["email"] = "  Maria@Example.COM "
    assert hotmart.parse(body).buyer_email == "maria@example.com"


@pytest.mark.parametrize("name", ["purchase_approved", "purchase_refunded", "purchase_chargeback"])
def test_actionable_event_without_transaction_is_invalid(webhook_body, name):
    body = webhook_body("hotmart", name)
    del body["data"]["purchase"]["transaction"]
    with pytest.raises(InvalidPayload) as info:
        hotmart.parse(body)
    assert "transação" in info.value.reason


def test_refund_without_email_is_still_valid(webhook_body):
    body = webhook_body("hotmart", "purchase_refunded")
    del body["data"]["buyer"]
    event = hotmart.parse(body)
    assert event.kind is Kind.REVOKE and event.buyer_email is None


def test_info_event_missing_everything_is_accepted():
    event = hotmart.parse({"event": "PURCHASE_BILLET_PRINTED"})
    assert event.kind is Kind.INFO
    assert event.dedupe_key.startswith("PURCHASE_BILLET_PRINTED:sha256:")


def test_empty_body_is_an_unknown_info_event():
    event = hotmart.parse({})
    assert (event.event_type, event.kind) == ("unknown", Kind.INFO)


def test_wrong_types_are_treated_as_missing():
    event = hotmart.parse({"id": "x1", "event": "PURCHASE_EXPIRED", "data": [1, 2, 3]})
    assert event.kind is Kind.INFO
    assert event.transaction_id is None


# --- dedupe ----------------------------------------------------------------------------------


def test_dedupe_keys(webhook_body):
    approved = hotmart.parse(webhook_body("hotmart", "purchase_approved"))
    refunded = hotmart.parse(webhook_body("hotmart", "purchase_refunded"))
    chargeback = hotmart.parse(webhook_body("hotmart", "purchase_chargeback"))
    replay = hotmart.parse(webhook_body("hotmart", "purchase_approved"))
    assert approved.transaction_id == refunded.transaction_id == chargeback.transaction_id
    assert len({approved.dedupe_key, refunded.dedupe_key, chargeback.dedupe_key}) == 3
    assert replay.dedupe_key == approved.dedupe_key
    assert replay == approved


def test_dedupe_falls_back_to_business_key(webhook_body):
    body = webhook_body("hotmart", "purchase_approved")
    del body["id"]
    assert hotmart.parse(body).dedupe_key == f"PURCHASE_APPROVED:{TRANSACTION}"
    cancellation = webhook_body("hotmart", "subscription_cancellation")
    del cancellation["id"]
    assert hotmart.parse(cancellation).dedupe_key == (
        "SUBSCRIPTION_CANCELLATION:I9OT62C3:1765999990000"
    )


# --- subscription updates (app.services.subscriptions.record_update) -------------------------


def test_switch_plan_names_the_current_plan(webhook_body):
    event = hotmart.parse(webhook_body("hotmart", "switch_plan"))
    assert (event.kind, event.transaction_id, event.dedupe_key) == (
        Kind.INFO,
        None,
        "7c1e4b9a-3d2f-4a6e-9b8c-5d4e3f2a1b0c",
    )
    update = event.subscription_update
    assert (update.code, update.product_id, update.state) == ("I9OT62C3", "5123456", "active")
    assert (update.plan_id, update.plan_name, update.plan_switch) == ("778900", "Plano Anual", True)
    assert update.price_cents is None  # SWITCH_PLAN sends no price
    assert update.at == datetime(2025, 12, 16, 21, 19, 50, tzinfo=UTC)  # switch_plan_date
    assert update.next_charge_at == datetime(2026, 12, 16, 21, 15, 45, tzinfo=UTC)
    assert event.buyer_email == "carla@example.com" and event.subscription_id == "I9OT62C3"


@pytest.mark.parametrize(
    "status", ["CANCELED_BY_CUSTOMER", "CANCELLED_BY_SELLER", "canceled_by_admin"]
)
def test_switch_plan_status_spellings_normalise(webhook_body, status):
    body = webhook_body("hotmart", "switch_plan")
    body["data"]["subscription"]["status"] = status
    assert hotmart.parse(body).subscription_update.state == "canceled"


def test_switch_plan_without_envelope_id_keys_on_subscriber(webhook_body):
    body = webhook_body("hotmart", "switch_plan")
    del body["id"]
    key = hotmart.parse(body).dedupe_key
    assert "I9OT62C3" in key and key.startswith("SWITCH_PLAN")


@pytest.mark.parametrize(
    "plans", [None, "x", 7, [], [{"id": 1, "name": "Velho", "current": False}]]
)
def test_switch_plan_odd_plans_list_keeps_the_plan(webhook_body, plans):
    body = webhook_body("hotmart", "switch_plan")
    body["data"]["plans"] = plans
    update = hotmart.parse(body).subscription_update
    assert update.plan_id is None and update.plan_name is None


def test_charge_date_change_carries_only_the_date_and_status(webhook_body):
    event = hotmart.parse(webhook_body("hotmart", "update_subscription_charge_date"))
    update = event.subscription_update
    assert event.kind is Kind.INFO and event.transaction_id is None
    assert (update.code, update.product_id, update.state) == ("I9OT62C3", "5123456", "active")
    assert update.next_charge_at == datetime(2026, 1, 20, 23, 0, tzinfo=UTC)
    assert update.price_cents is None and not update.plan_switch


def test_charge_date_change_date_may_sit_at_the_top(webhook_body):
    body = webhook_body("hotmart", "update_subscription_charge_date")
    del body["data"]["subscription"]["date_next_charge"]
    body["data"]["date_next_charge"] = 1768950000000
    update = hotmart.parse(body).subscription_update
    assert update.next_charge_at == datetime(2026, 1, 20, 23, 0, tzinfo=UTC)


def test_cancellation_update(webhook_body):
    update = hotmart.parse(webhook_body("hotmart", "subscription_cancellation")).subscription_update
    assert (update.code, update.product_id, update.state) == ("I9OT62C3", "5123456", "canceled")
    assert update.at == datetime(2025, 12, 17, 19, 33, 10, tzinfo=UTC)  # cancellation_date


def test_purchase_subscription_block_is_an_update(webhook_body):
    first = hotmart.parse(webhook_body("hotmart", "purchase_approved_subscription"))
    update = first.subscription_update
    assert (update.product_id, update.product_ucode) == (
        "5123456",
        "3b0e5c7a-2d4f-4e6b-8a1c-9d0e1f2a3b4c",
    )  # the numeric id, as the subscriptions API keys it
    assert (update.price_cents, update.currency, update.state) == (4990, "BRL", "active")
    assert update.started_at == datetime(2025, 11, 15, 23, 2, 25, tzinfo=UTC)
    renewal = hotmart.parse(webhook_body("hotmart", "purchase_approved_renewal"))
    assert renewal.subscription_update.started_at is None  # recurrence 2: not the start


def test_refund_does_not_guess_the_subscription_state(webhook_body):
    body = webhook_body("hotmart", "purchase_approved_subscription")
    body["event"] = "PURCHASE_REFUNDED"
    del body["data"]["subscription"]["status"]
    update = hotmart.parse(body).subscription_update
    assert update.state is None and update.price_cents is None


def test_one_off_purchase_has_no_subscription_update(webhook_body):
    assert hotmart.parse(webhook_body("hotmart", "purchase_approved")).subscription_update is None
