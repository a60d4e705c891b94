"""Webhook sender: payloads per platform/event, signatures checked independently, real POSTs."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.wrappers import Request, Response

from emulator import webhooks
from emulator.__main__ import main
from emulator.webhooks import FAMILIES, build_event, build_payload, resolve_event

EXPECTED_NATIVE = {
    "hotmart": [
        "PURCHASE_APPROVED",
        "PURCHASE_REFUNDED",
        "PURCHASE_CHARGEBACK",
        "PURCHASE_CANCELED",
        "PURCHASE_BILLET_PRINTED",
        "PURCHASE_BILLET_PRINTED",
        "PURCHASE_OUT_OF_SHOPPING_CART",
        "SUBSCRIPTION_CANCELLATION",
        "PURCHASE_APPROVED",
    ],
    "kiwify": [
        "order_approved",
        "order_refunded",
        "chargeback",
        "order_rejected",
        "pix_created",
        "billet_created",
        None,
        "subscription_canceled",
        "subscription_renewed",
    ],
    "kirvano": [
        "SALE_APPROVED",
        "SALE_REFUNDED",
        "SALE_CHARGEBACK",
        "SALE_REFUSED",
        "PIX_GENERATED",
        "BANK_SLIP_GENERATED",
        "ABANDONED_CART",
        "SUBSCRIPTION_CANCELED",
        "SUBSCRIPTION_RENEWED",
    ],
}
EVENT_KEY = {"hotmart": "event", "kiwify": "webhook_event_type", "kirvano": "event"}


def cases():
    for platform, natives in EXPECTED_NATIVE.items():
        for family, native in zip(FAMILIES, natives, strict=True):
            yield platform, family, native


@pytest.mark.parametrize(("platform", "family", "native"), list(cases()))
def test_every_family_builds_the_native_event(platform, family, native):
    body, headers, _ = build_event(
        platform, family, secret="s3cret", email="ana@example.com", amount=4990
    )
    payload = json.loads(body)
    assert headers["Content-Type"] == "application/json"
    if native is None:  # Kiwify abandoned cart: no event type, status "abandoned"
        assert "webhook_event_type" not in payload
        assert payload["status"] == "abandoned" and payload["id"]
        assert payload["email"] == "ana@example.com"
        return
    assert payload[EVENT_KEY[platform]] == native
    assert ana_in(payload)
    # the native name is accepted as well as the family
    assert json.loads(build_event(platform, native, seed=1)[0])[EVENT_KEY[platform]] == native


def ana_in(payload) -> bool:
    return "ana@example.com" in json.dumps(payload)


def test_hotmart_envelope_and_fields():
    body, headers, query = build_event(
        "hotmart",
        "approved",
        secret="hot",
        transaction="HP123",
        amount=19700,
        product_id="4962378",
        email="maria@example.com",
    )
    payload = json.loads(body)
    assert headers["X-HOTMART-HOTTOK"] == "hot" and query == {}
    assert payload["version"] == "2.0.0" and len(payload["id"]) == 36
    assert isinstance(payload["creation_date"], int)
    data = payload["data"]
    assert data["purchase"]["transaction"] == "HP123"
    assert data["purchase"]["status"] == "APPROVED"
    assert data["purchase"]["price"] == {"value": 197.0, "currency_value": "BRL"}
    assert data["product"]["id"] == 4962378
    assert data["buyer"]["email"] == "maria@example.com"
    assert {c["source"] for c in data["commissions"]} == {"MARKETPLACE", "PRODUCER"}
    other = json.loads(build_event("hotmart", "approved")[0])
    assert other["id"] != payload["id"]  # fresh uuid per event
    refund = json.loads(build_event("hotmart", "refunded")[0])
    assert refund["data"]["purchase"]["status"] == "REFUNDED"
    renewal = json.loads(build_event("hotmart", "subscription_renewed", recurrence=3)[0])
    assert renewal["data"]["purchase"]["recurrence_number"] == 3
    assert renewal["data"]["subscription"]["subscriber"]["code"]
    cancel = json.loads(build_event("hotmart", "subscription_canceled")[0])["data"]
    assert set(cancel) >= {
        "subscriber",
        "subscription",
        "product",
        "cancellation_date",
        "date_next_charge",
        "actual_recurrence_value",
    }
    assert "purchase" not in cancel and set(cancel["subscriber"]["phone"]) == {
        "dddPhone",
        "phone",
        "dddCell",
        "cell",
    }


def test_kiwify_signature_is_hmac_sha1_of_the_raw_body():
    body, headers, query = build_event("kiwify", "approved", secret="tok-123", amount=19700)
    expected = hmac.new(b"tok-123", body, hashlib.sha1).hexdigest()
    assert query == {"signature": expected} and expected == expected.lower()
    assert not any(name.lower().startswith("x-kiwify") for name in headers)
    payload = json.loads(body)
    assert payload["order_status"] == "paid"
    assert payload["Commissions"]["charge_amount"] == 19700
    assert payload["Customer"]["mobile"].startswith("+55")
    assert webhooks.url_with_query("http://h/hook?a=1", query).startswith(
        "http://h/hook?a=1&signature="
    )
    chargeback = json.loads(build_event("kiwify", "chargeback")[0])
    assert chargeback["order_status"] == "chargedback"


def test_kirvano_token_header_and_money():
    body, headers, query = build_event("kirvano", "approved", secret="kv", amount=116980)
    assert headers["x-kirvano-token"] == "kv" and query == {}
    payload = json.loads(body)
    assert payload["total_price"] == "R$ 1.169,80"
    assert payload["fiscal"]["total_value"] == 1169.8
    assert len(payload["sale_id"]) == 8 and payload["status"] == "APPROVED"
    assert payload["payment"]["finished_at"]
    custom = build_event("kirvano", "refunded", secret="kv", kirvano_header="security-token")[1]
    assert custom["security-token"] == "kv"
    cart = json.loads(build_event("kirvano", "abandoned_cart")[0])
    assert "sale_id" not in cart and cart["checkout_id"]
    renewed = json.loads(build_event("kirvano", "subscription_renewed", recurrence=4)[0])
    assert renewed["plan"]["charge_number"] == 4 and renewed["type"] == "RECURRING"


def test_resolution_and_errors():
    assert resolve_event("kiwify", "compra_aprovada") == ("approved", "order_approved")
    assert resolve_event("hotmart", "purchase_complete") == ("approved", "PURCHASE_COMPLETE")
    assert resolve_event("kirvano", "pix-generated") == ("pix_generated", "PIX_GENERATED")
    with pytest.raises(ValueError):
        resolve_event("hotmart", "order.paid")
    with pytest.raises(ValueError):
        resolve_event("stripe", "approved")
    with pytest.raises(TypeError):
        build_payload("hotmart", "approved", colour="blue")


def test_seeded_payloads_are_deterministic():
    now = datetime(2026, 7, 10, 20, 5, tzinfo=UTC)
    one = build_event("kirvano", "approved", seed=5, now=now)
    assert one == build_event("kirvano", "approved", seed=5, now=now)
    assert json.loads(one[0])["created_at"] == "2026-07-10 17:04:49"  # São Paulo local time


@pytest.fixture
def receiver(live_server):
    """A tiny live receiver that records every request and answers 200."""
    seen = []

    @Request.application
    def app(request: Request) -> Response:
        seen.append(
            {
                "path": request.full_path,
                "headers": dict(request.headers),
                "body": request.get_data(),
                "args": request.args.to_dict(),
            }
        )
        return Response(json.dumps({"status": "accepted"}), content_type="application/json")

    return live_server(app), seen


def test_send_webhook_cli_posts_signed_kiwify_event(receiver, capsys):
    base, seen = receiver
    code = main(
        [
            "send-webhook",
            "kiwify",
            "order_approved",
            "--to",
            f"{base}/webhook/kiwify?x=1",
            "--secret",
            "k-secret",
            "--email",
            "joao@example.com",
            "--amount",
            "4700",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out and "accepted" in out
    (request,) = seen
    assert urlsplit(request["path"]).path == "/webhook/kiwify"
    qs = parse_qs(urlsplit(request["path"]).query)
    assert qs["x"] == ["1"]
    good = hmac.new(b"k-secret", request["body"], hashlib.sha1).hexdigest()
    assert hmac.compare_digest(qs["signature"][0], good)
    assert json.loads(request["body"])["Customer"]["email"] == "joao@example.com"


def test_send_webhook_cli_hotmart_and_kirvano(receiver, capsys):
    base, seen = receiver
    assert (
        main(
            [
                "send-webhook",
                "hotmart",
                "refunded",
                "--to",
                f"{base}/webhook/hotmart",
                "--secret",
                "hot-tok",
                "--transaction",
                "HP999",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "send-webhook",
                "kirvano",
                "SALE_CHARGEBACK",
                "--to",
                f"{base}/webhook/kirvano",
                "--secret",
                "kv-tok",
                "--name",
                "Pedro Lima",
            ]
        )
        == 0
    )
    hot, kir = seen
    assert hot["headers"]["X-Hotmart-Hottok"] == "hot-tok"
    assert json.loads(hot["body"])["data"]["purchase"]["transaction"] == "HP999"
    assert kir["headers"]["X-Kirvano-Token"] == "kv-tok"
    assert json.loads(kir["body"])["customer"]["name"] == "Pedro Lima"
    assert main(["send-webhook", "kirvano", "nope", "--to", base]) == 2
    assert "unknown kirvano event" in capsys.readouterr().err
