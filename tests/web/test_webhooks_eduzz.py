"""Eduzz end to end: approval → link → signup, refunds and cancellations revoke, SPEC §5 answers."""

import json
import re
from urllib.parse import urlencode

from sqlalchemy import func, select

from app.extensions import db
from app.models import Access, ActivationLink, Sale, User, WebhookEvent
from emulator.webhooks import build_event
from tests.conftest import WEBHOOK_SECRETS, Auth, csrf_token, load_fixture

SECRET = WEBHOOK_SECRETS["EDUZZ_WEBHOOK_SECRET"]
PASSWORD = "senha-nova-123"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def link_path(smtp_server) -> str:
    text = smtp_server.text_of(smtp_server.messages[-1])
    url = re.search(r"http://localhost(/ativar/[A-Za-z0-9_-]+)", text)
    assert url, text
    return url.group(1)


def signup(client, path):
    token = csrf_token(client, path)
    form = {"name": "Alice", "password": PASSWORD, "password_confirm": PASSWORD}
    return client.post(path, data={**form, "csrf_token": token})


def test_approval_link_signup_then_refund_revokes(send_webhook, smtp_server):
    answer = send_webhook("eduzz", "invoice_paid")
    assert answer.status_code == 200 and answer.get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert (sale.platform, sale.transaction_id, sale.status) == ("eduzz", "12345678", "approved")
    assert sale.amount_cents == 30150 and sale.buyer_email == "alice.johnson@example.com"
    assert smtp_server.messages[-1]["To"] == "alice.johnson@example.com"

    client = send_webhook.client
    response = signup(client, link_path(smtp_server))
    assert response.status_code == 302 and response.headers["Location"].endswith("/conta")
    assert db.session.scalar(select(User)).email == "alice.johnson@example.com"
    assert db.session.scalar(select(Access)).status == "active"

    # The same delivery again: a duplicate; the refund: same data.id, new envelope id.
    assert send_webhook("eduzz", "invoice_paid").get_json() == {"status": "duplicate"}
    assert send_webhook("eduzz", "invoice_refunded").get_json() == {"status": "accepted"}
    db.session.expire_all()
    assert db.session.scalar(select(Sale)).status == "refunded"
    access = db.session.scalar(select(Access))
    assert access.status == "revoked" and access.revoked_reason == "refunded"
    assert count(Sale) == 1


def test_contract_canceled_revokes_the_subscription(send_webhook, smtp_server):
    send_webhook("eduzz", "invoice_paid")
    assert db.session.scalar(select(ActivationLink)).status == "pending"
    answer = send_webhook("eduzz", "contract_updated_canceled")
    assert answer.get_json() == {"status": "accepted"}
    db.session.expire_all()
    assert db.session.scalar(select(Sale)).status == "canceled"
    assert db.session.scalar(select(ActivationLink)).status == "revoked"


def test_bump_items_become_their_own_sales_with_one_link(send_webhook, smtp_server):
    assert send_webhook("eduzz", "invoice_paid_order_bump").get_json() == {"status": "accepted"}
    sales = db.session.scalars(select(Sale).order_by(Sale.id)).all()
    assert [(s.product_id, s.amount_cents) for s in sales] == [("P567", 29750), ("P900", 4990)]
    assert sales[1].parent_transaction_id == "23456789"
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


def test_informational_events_and_ping_are_ignored(send_webhook):
    for fixture in ("ping", "invoice_opened", "cart_abandonment", "unknown_event"):
        assert send_webhook("eduzz", fixture).get_json() == {"status": "ignored"}, fixture
    assert count(Sale) == 0 and count(WebhookEvent) == 4


def test_bad_signature_missing_signature_bad_json_and_invalid_event(send_webhook):
    client = send_webhook.client
    raw = json.dumps(load_fixture("eduzz", "invoice_paid")).encode()
    bad = client.post("/webhook/eduzz", data=raw, headers={"x-signature": "0" * 64})
    assert bad.status_code == 401
    assert client.post("/webhook/eduzz", data=raw).status_code == 401
    assert send_webhook.raw("eduzz", b"{not json").status_code == 400
    body = load_fixture("eduzz", "invoice_paid")
    body["data"]["buyer"]["email"] = "sem-arroba"
    # stored as failed and answered 200: Eduzz turns a webhook off after non-200 answers
    invalid = send_webhook("eduzz", body)
    assert invalid.status_code == 200 and invalid.get_json()["error"]["code"] == "invalid_event"
    assert db.session.scalar(select(WebhookEvent)).status == "failed"


def test_without_a_configured_secret_every_delivery_is_refused_not_a_500(app_factory):
    app = app_factory()
    with app.app_context():
        body, headers, query = build_event("eduzz", "approved", secret="whatever")
        answer = app.test_client().post(
            "/webhook/eduzz", data=body, headers=headers, query_string=query
        )
        assert answer.status_code == 401
        assert count(WebhookEvent) == 0


def test_legacy_form_postback_is_accepted_and_its_token_not_stored(send_webhook, smtp_server):
    body = load_fixture("eduzz", "legacy_invoice_paid")
    answer = send_webhook.client.post(
        "/webhook/eduzz",
        data=urlencode(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and answer.get_json() == {"status": "accepted"}
    stored = db.session.scalar(select(WebhookEvent))
    assert SECRET not in stored.raw_body and "a1b2c3d4e5f6" not in stored.raw_body
    assert stored.auth_location == "body:origin"
    assert db.session.scalar(select(Sale)).transaction_id == "87654321"
    assert smtp_server.messages[-1]["To"] == "carla.souza@example.com"


def test_legacy_test_delivery_is_marked_and_sends_no_mail(send_webhook, smtp_server):
    answer = send_webhook("eduzz", "legacy_platform_test")
    assert answer.status_code == 200
    sale = db.session.scalar(select(Sale))
    assert sale.is_test and count(ActivationLink) == 0 and not smtp_server.messages


def test_emulator_families_through_the_real_receiver(send_webhook, smtp_server):
    client = send_webhook.client

    def post(event):
        body, headers, query = build_event(
            "eduzz", event, secret=SECRET, transaction="90001", email="rui@example.com"
        )
        return client.post("/webhook/eduzz", data=body, headers=headers, query_string=query)

    assert post("approved").get_json() == {"status": "accepted"}
    assert smtp_server.messages[-1]["To"] == "rui@example.com"
    assert post("refunded").get_json() == {"status": "accepted"}
    db.session.expire_all()
    assert db.session.scalar(select(Sale)).status == "refunded"


def test_panel_lists_eduzz_everywhere(webhook_app, send_webhook):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    settings = client.get("/configuracoes").get_data(as_text=True)
    assert 'id="eduzz"' in settings and "EDUZZ_WEBHOOK_SECRET" in settings
    assert "http://localhost/webhook/eduzz" in settings
    inbox = client.get("/webhooks").get_data(as_text=True)
    assert "Eduzz" in inbox and 'value="eduzz"' in inbox
    assert 'value="eduzz"' in client.get("/ativacoes").get_data(as_text=True)
    token = csrf_token(client, "/webhooks")
    answer = client.post(
        "/webhooks/teste", data={"platform": "eduzz", "event": "approved", "csrf_token": token}
    )
    assert answer.status_code == 302
    event = db.session.scalar(select(WebhookEvent))
    assert event.platform == "eduzz" and event.test_origin == "panel"
