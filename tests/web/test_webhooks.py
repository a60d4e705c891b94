"""Webhook receiver: authentication, status codes, durable inbox, dedupe, lifecycle."""

import copy
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Access, ActivationLink, OutboxEmail, Sale, User, WebhookEvent
from tests.conftest import load_fixture

APPROVALS = {
    "hotmart": ("purchase_approved", "HP16015479281022", 19700),
    "kiwify": ("order_approved", "aac95806-d613-4cc6-80f9-f74882dbbce2", 19700),
    "kirvano": ("sale_approved", "ABC12345", 9700),
}
REFUNDS = {"hotmart": "purchase_refunded", "kiwify": "order_refunded", "kirvano": "sale_refunded"}
CHARGEBACKS = {
    "hotmart": "purchase_chargeback",
    "kiwify": "chargeback",
    "kirvano": "sale_chargeback",
}
INFO = {"hotmart": "purchase_billet_printed", "kiwify": "pix_created", "kirvano": "pix_generated"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("platform", sorted(APPROVALS))
def test_approval_creates_sale_link_and_email(platform, send_webhook, smtp_server):
    fixture, transaction, cents = APPROVALS[platform]
    response = send_webhook(platform, fixture)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert (sale.platform, sale.transaction_id, sale.status) == (platform, transaction, "approved")
    assert sale.amount_cents == cents and sale.buyer_email == "maria@example.com"
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "pending" and link.sale_id == sale.id
    assert len(link.token_hash) == 64
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "processed" and event.sale_id == sale.id
    assert "hottok" not in json.dumps(event.headers).lower()
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "maria@example.com"
    assert "/ativar/" in smtp_server.text_of(message)
    assert db.session.scalar(select(ActivationLink)).sent_at is not None


@pytest.mark.parametrize("platform", sorted(APPROVALS))
def test_duplicate_delivery_gives_one_link_and_one_email(platform, send_webhook, smtp_server):
    fixture = APPROVALS[platform][0]
    first = send_webhook(platform, fixture)
    second = send_webhook(platform, fixture)
    assert first.get_json() == {"status": "accepted"}
    assert second.get_json() == {"status": "duplicate"}
    assert count(WebhookEvent) == 1 and count(ActivationLink) == 1 and count(OutboxEmail) == 1
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(select(WebhookEvent)).duplicates == 1


def test_repeated_approval_with_new_event_id_reuses_the_link(send_webhook, smtp_server):
    body = load_fixture("hotmart", "purchase_approved")
    send_webhook("hotmart", body)
    again = copy.deepcopy(body)
    again["id"] = "another-delivery-id-0001"
    assert send_webhook("hotmart", again).get_json() == {"status": "accepted"}
    assert count(WebhookEvent) == 2 and count(ActivationLink) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("platform", sorted(APPROVALS))
@pytest.mark.parametrize("bad", ["missing", "wrong"])
def test_bad_or_missing_secret_is_401_and_nothing_stored(platform, bad, send_webhook):
    fixture = APPROVALS[platform][0]
    raw = json.dumps(load_fixture(platform, fixture)).encode()
    if bad == "wrong":
        response = send_webhook.raw(platform, raw, secret="wrong-secret-value-123")
    else:
        response = send_webhook.client.post(
            f"/webhook/{platform}", data=raw, content_type="application/json"
        )
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert count(WebhookEvent) == 0 and count(Sale) == 0


def test_platform_without_configured_secret_answers_401(app_factory, caplog):
    app = app_factory()
    with app.app_context():
        raw = json.dumps(load_fixture("kiwify", "order_approved")).encode()
        from tests.conftest import signed_request

        signed = signed_request("kiwify", raw, "whatever")
        response = app.test_client().post(
            "/webhook/kiwify", data=raw, query_string=signed["query_string"]
        )
        assert response.status_code == 401
        assert "não configurado" in caplog.text


def test_kiwify_signature_covers_the_exact_bytes(send_webhook):
    raw = json.dumps(load_fixture("kiwify", "order_approved")).encode()
    from tests.conftest import signed_request

    signed = signed_request("kiwify", raw)
    tampered = raw.replace(b"19700", b"00001")
    response = send_webhook.client.post(
        "/webhook/kiwify", data=tampered, query_string=signed["query_string"]
    )
    assert response.status_code == 401


def test_malformed_json_is_400(send_webhook):
    response = send_webhook.raw("hotmart", b"{not json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
    assert send_webhook.raw("hotmart", b"[1, 2]").status_code == 400
    assert count(WebhookEvent) == 0


@pytest.mark.parametrize("email", [None, "not-an-email", "maria@", "a" * 300 + "@example.com"])
def test_approval_without_valid_email_is_422_and_stored_failed(email, send_webhook):
    body = load_fixture("hotmart", "purchase_approved")
    if email is None:
        del body["data"]["buyer"]["email"]
    else:
        body["data"]["buyer"]["email"] = email
    response = send_webhook("hotmart", body)
    assert response.status_code == 422
    assert "e-mail" in response.get_json()["error"]["message"]
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "failed" and "e-mail" in event.last_error
    assert count(Sale) == 0 and count(ActivationLink) == 0


def test_body_over_one_mebibyte_is_413(send_webhook):
    raw = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = send_webhook.raw("hotmart", raw)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert count(WebhookEvent) == 0


@pytest.mark.parametrize("platform", sorted(INFO))
def test_info_and_unknown_events_are_stored_as_ignored(platform, send_webhook):
    assert send_webhook(platform, INFO[platform]).get_json() == {"status": "ignored"}
    assert send_webhook(platform, "unknown_event").get_json() == {"status": "ignored"}
    assert count(WebhookEvent) == 2
    assert set(db.session.scalars(select(WebhookEvent.status))) == {"ignored"}
    assert count(ActivationLink) == 0


def test_unknown_platform_is_404(send_webhook):
    assert send_webhook.client.post("/webhook/monetizze", data=b"{}").status_code == 404


@pytest.mark.parametrize("platform", sorted(APPROVALS))
@pytest.mark.parametrize("revoking", ["refund", "chargeback"])
def test_refund_and_chargeback_revoke_pending_link(platform, revoking, send_webhook):
    send_webhook(platform, APPROVALS[platform][0])
    fixture = REFUNDS[platform] if revoking == "refund" else CHARGEBACKS[platform]
    assert send_webhook(platform, fixture).get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert sale.status == ("refunded" if revoking == "refund" else "chargeback")
    assert [h.to_status for h in sale.history] == ["approved", sale.status]
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "revoked"


def test_refund_before_approval_out_of_order_never_grants(send_webhook, smtp_server):
    send_webhook("kirvano", "sale_refunded")
    send_webhook("kirvano", "sale_approved")
    sale = db.session.scalar(select(Sale))
    assert sale.status == "refunded"
    assert count(ActivationLink) == 0 and len(smtp_server.messages) == 0


def test_existing_member_gets_purchase_added_instead_of_link(send_webhook, smtp_server):
    from app.services import accounts

    accounts.create_user("maria@example.com", "senha-da-maria-1", name="Maria")
    db.session.commit()
    send_webhook("hotmart", "purchase_approved")
    assert count(ActivationLink) == 0
    access = db.session.scalar(select(Access))
    assert access.status == "active"
    assert len(smtp_server.messages) == 1
    assert "já está na sua conta" in smtp_server.text_of(smtp_server.messages[0])


def test_html_in_buyer_name_is_escaped_everywhere(send_webhook, smtp_server, webhook_app):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["buyer"]["name"] = "<script>alert('x')</script>"
    body["data"]["product"]["name"] = "<b>Curso</b>"
    send_webhook("hotmart", body)
    html = smtp_server.html_of(smtp_server.messages[0])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>Curso</b>" not in html


def test_processing_failure_keeps_event_and_replay_fixes_it(
    send_webhook, monkeypatch, webhook_app, smtp_server
):
    from sqlalchemy.exc import OperationalError

    from app.services import sales

    real = sales.apply_event

    def broken(*args, **kwargs):
        raise OperationalError("UPDATE sales", {}, Exception("database is locked"))

    monkeypatch.setattr(sales, "apply_event", broken)
    response = send_webhook("hotmart", "purchase_approved")
    assert response.status_code == 200 and response.get_json() == {"status": "accepted"}
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "failed" and "database is locked" in event.last_error
    assert count(Sale) == 0
    monkeypatch.setattr(sales, "apply_event", real)
    result = webhook_app.test_cli_runner().invoke(args=["webhooks", "replay", "--failed"])
    assert result.exit_code == 0, result.output
    assert "processados: 1" in result.output
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "processed" and event.attempts == 2
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


def test_webhook_rate_limit_is_429(app_factory):
    from tests.conftest import WEBHOOK_SECRETS, WebhookSender

    app = app_factory(**WEBHOOK_SECRETS, WEBHOOK_RATE_LIMIT="3 per minute")
    with app.app_context():
        sender = WebhookSender(app.test_client())
        statuses = [sender("hotmart", "unknown_event").status_code for _ in range(4)]
        assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
        assert sender("kiwify", "unknown_event").status_code == 200  # per platform


def test_subscription_cancellation_keeps_access_until_period_end(send_webhook):
    from app.services import accounts

    accounts.create_user("carla@example.com", "senha-da-carla-1", name="Carla")
    db.session.commit()
    send_webhook("hotmart", "purchase_approved_renewal")
    access = db.session.scalar(select(Access))
    assert access.status == "active"
    assert send_webhook("hotmart", "subscription_cancellation").status_code == 200
    access = db.session.scalar(select(Access))
    sale = db.session.get(Sale, access.sale_id)
    assert sale.status == "canceled"
    # date_next_charge in the fixture decides: either access ends later or now
    assert access.access_until is not None or access.status == "revoked"


def test_no_user_created_by_webhooks(send_webhook):
    for platform, (fixture, _, _) in APPROVALS.items():
        send_webhook(platform, fixture)
    assert count(User) == 0 and count(ActivationLink) == 3


def test_smtp_down_keeps_link_and_the_email_is_delivered_later(app_factory, smtp_server):
    from datetime import timedelta

    import time_machine

    from app.models.types import utcnow
    from tests.conftest import WEBHOOK_SECRETS, WebhookSender, free_port

    app = app_factory(
        **WEBHOOK_SECRETS, SMTP_HOST="127.0.0.1", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port()
    )
    with app.app_context():
        response = WebhookSender(app.test_client())("kiwify", "order_approved")
        assert response.get_json() == {"status": "accepted"}
        link = db.session.scalar(select(ActivationLink))
        email = db.session.scalar(select(OutboxEmail))
        assert link.status == "pending" and link.sent_at is None
        assert email.status == "pending" and "Connection" in email.last_error
        app.config["MAIL_PORT"] = smtp_server.port  # SMTP is back
        with time_machine.travel(utcnow() + timedelta(minutes=5)):
            result = app.test_cli_runner().invoke(args=["outbox", "send"])
        assert "enviados: 1" in result.output, result.output
        assert len(smtp_server.messages) == 1
        assert "/ativar/" in smtp_server.text_of(smtp_server.messages[0])
        assert db.session.scalar(select(ActivationLink)).sent_at is not None


def test_made_up_platforms_are_404_and_spend_no_real_platform_budget(app_factory):
    from tests.conftest import WEBHOOK_SECRETS, WebhookSender

    app = app_factory(**WEBHOOK_SECRETS, WEBHOOK_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        for i in range(10):
            assert client.post(f"/webhook/nope{i}", data=b"{}").status_code == 404
        sender = WebhookSender(client)
        assert [sender("hotmart", "unknown_event").status_code for _ in range(3)] == [200] * 3
