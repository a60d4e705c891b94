"""Never lose, never wrongly grant: corrected deliveries, forward-only sales, stale e-mails."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from tests.conftest import csrf_token, load_fixture

APPROVALS = {
    "hotmart": "purchase_approved",
    "kiwify": "order_approved",
    "kirvano": "sale_approved",
}
REFUNDS = {"hotmart": "purchase_refunded", "kiwify": "order_refunded", "kirvano": "sale_refunded"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _set_email(platform: str, body: dict, email) -> dict:
    holder = {
        "hotmart": lambda b: b["data"]["buyer"],
        "kiwify": lambda b: b["Customer"],
        "kirvano": lambda b: b["customer"],
    }[platform](body)
    if email is None:
        holder.pop("email", None)
    else:
        holder["email"] = email
    return body


@pytest.mark.parametrize("platform", sorted(APPROVALS))
def test_corrected_delivery_after_a_failed_one_is_processed(platform, send_webhook, smtp_server):
    broken = _set_email(platform, load_fixture(platform, APPROVALS[platform]), "maria@")
    assert send_webhook(platform, broken).status_code == 422
    # The same broken body again is a true duplicate.
    assert send_webhook(platform, broken).status_code == 422
    assert count(WebhookEvent) == 1

    fixed = _set_email(platform, load_fixture(platform, APPROVALS[platform]), "maria@example.com")
    response = send_webhook(platform, fixed)
    assert response.status_code == 200 and response.get_json() == {"status": "accepted"}

    events = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    assert [e.status for e in events] == ["superseded", "processed"]
    assert f"#{events[1].id}" in events[0].last_error
    sale = db.session.scalar(select(Sale))
    assert sale.status == "approved" and sale.buyer_email == "maria@example.com"
    assert count(ActivationLink) == 1
    assert len(smtp_server.messages) == 1 and smtp_server.messages[0]["To"] == "maria@example.com"

    # Delivered once more after it worked: a duplicate, no second e-mail.
    assert send_webhook(platform, fixed).get_json() == {"status": "duplicate"}
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


def test_two_different_broken_deliveries_keep_both_bodies(send_webhook):
    first = _set_email("kiwify", load_fixture("kiwify", "order_approved"), None)
    second = _set_email("kiwify", load_fixture("kiwify", "order_approved"), "no-at-sign")
    assert send_webhook("kiwify", first).status_code == 422
    assert send_webhook("kiwify", second).status_code == 422
    events = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    assert [e.status for e in events] == ["superseded", "failed"]
    assert "no-at-sign" in events[1].raw_body


def test_superseded_event_links_to_its_correction_and_is_not_replayed(send_webhook, auth, client):
    broken = _set_email("kirvano", load_fixture("kirvano", "sale_approved"), "maria@")
    fixed = _set_email("kirvano", load_fixture("kirvano", "sale_approved"), "maria@example.com")
    assert send_webhook("kirvano", broken).status_code == 422
    assert send_webhook("kirvano", fixed).status_code == 200
    old, new = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    auth.operator()
    html = client.get(f"/webhooks/{old.id}").get_data(as_text=True)
    assert f'href="/webhooks/{new.id}"' in html and "Reprocessar</button>" not in html
    token = csrf_token(client, f"/webhooks/{old.id}")
    answer = client.post(f"/webhooks/{old.id}/reprocessar", data={"csrf_token": token})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEvent, old.id).status == "superseded"
    assert db.session.get(WebhookEvent, old.id).attempts == old.attempts


def test_identical_redelivery_of_an_event_that_failed_to_process_is_retried(
    send_webhook, webhook_app, monkeypatch
):
    from app.services import sales

    real = sales.apply_event

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sales, "apply_event", broken)
    send_webhook("hotmart", "purchase_approved")
    assert db.session.scalar(select(WebhookEvent)).status == "failed"
    monkeypatch.setattr(sales, "apply_event", real)
    response = send_webhook("hotmart", "purchase_approved")
    assert response.get_json() == {"status": "accepted"}
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "processed" and event.duplicates == 1
    assert count(Sale) == 1 and count(ActivationLink) == 1


@pytest.mark.parametrize("platform", sorted(APPROVALS))
def test_refunded_sale_stays_refunded_after_a_later_approval(platform, send_webhook, smtp_server):
    assert send_webhook(platform, APPROVALS[platform]).status_code == 200
    assert send_webhook(platform, REFUNDS[platform]).status_code == 200
    sent_before = len(smtp_server.messages)
    replay = load_fixture(platform, APPROVALS[platform])
    # An approval re-sent later (demo re-run, replay, out-of-order delivery with a new id).
    if platform == "hotmart":
        replay["id"] = "re-sent-approval-0001"
        replay["creation_date"] += 10**9
        replay["data"]["purchase"]["approved_date"] += 10**9
    elif platform == "kiwify":
        replay["approved_date"] = replay["updated_at"] = "2030-01-01 10:00"
        replay["order_ref"] = "changed"
    else:
        replay["payment"]["finished_at"] = "2030-01-01 10:00:00"
    response = send_webhook(platform, replay)
    assert response.status_code == 200
    sale = db.session.scalar(select(Sale))
    assert sale.status == "refunded"
    assert db.session.scalar(select(ActivationLink)).status == "revoked"
    assert count(ActivationLink) == 1
    assert len(smtp_server.messages) == sent_before
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    if response.get_json()["status"] != "duplicate":
        assert event.status == "ignored" and event.last_error == "venda já reembolsada"


def _later_approval_with_a_new_key(platform: str) -> dict:
    """An approval of the same Kiwify order / Kirvano sale that its dedupe key tells apart
    from the first one (the next billing cycle): not a duplicate, a new event."""
    body = load_fixture(platform, APPROVALS[platform])
    if platform == "kiwify":
        body["webhook_event_type"] = "subscription_renewed"
        body["updated_at"] = body["approved_date"] = "2030-01-01 10:00"
    else:
        body["plan"]["charge_number"] = 2
        body["payment"]["finished_at"] = "2030-01-01 10:00:00"
    return body


@pytest.mark.parametrize("platform", ["kiwify", "kirvano"])
def test_an_approval_with_a_new_key_after_a_refund_is_ignored_and_shown(
    platform, send_webhook, webhook_app, smtp_server
):
    from tests.conftest import Auth

    assert send_webhook(platform, APPROVALS[platform]).status_code == 200
    assert send_webhook(platform, REFUNDS[platform]).status_code == 200
    sent_before = len(smtp_server.messages)
    response = send_webhook(platform, _later_approval_with_a_new_key(platform))
    assert response.get_json() == {"status": "ignored"}
    assert count(WebhookEvent) == 3  # stored, under a key of its own
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert event.status == "ignored"
    assert (
        event.last_error
        == "venda já reembolsada; renovação paga depois disso: confira na plataforma"
    )
    assert db.session.scalar(select(Sale)).status == "refunded"
    assert count(ActivationLink) == 1
    assert db.session.scalar(select(ActivationLink)).status == "revoked"
    assert len(smtp_server.messages) == sent_before  # no e-mail
    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    inbox = client.get("/webhooks").get_data(as_text=True)
    assert "venda já reembolsada" in inbox
    detail = client.get(f"/webhooks/{event.id}").get_data(as_text=True)
    assert "venda já reembolsada" in detail


def test_chargeback_is_final_too(send_webhook):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_chargeback")
    body = load_fixture("hotmart", "purchase_approved")
    body["id"] = "later-approval"
    body["creation_date"] += 10**9
    body["data"]["purchase"]["approved_date"] += 10**9
    assert send_webhook("hotmart", body).get_json() == {"status": "ignored"}
    assert db.session.scalar(select(Sale)).status == "chargeback"
    event = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.dedupe_key == "later-approval")
    )
    assert event.last_error == "venda já estornada (chargeback)"


@pytest.fixture
def smtp_later_app(app_factory, smtp_server):
    """Webhooks accepted while SMTP is not configured yet; a test turns it on later."""
    from tests.conftest import WEBHOOK_SECRETS

    app = app_factory(
        **WEBHOOK_SECRETS,
        **smtp_server.config(SMTP_HOST=""),
        SEND_MAIL_IN_BACKGROUND=False,
    )
    with app.app_context():
        yield app


def test_queued_email_of_a_revoked_link_is_cancelled(smtp_later_app, smtp_server):
    """Approval while SMTP is down, refund before it comes back: nothing is sent."""
    from tests.conftest import WebhookSender

    app = smtp_later_app
    send = WebhookSender(app.test_client())
    send("hotmart", "purchase_approved")
    assert db.session.scalar(select(OutboxEmail)).status == "pending"
    send("hotmart", "purchase_refunded")
    app.config["SMTP_HOST"] = "127.0.0.1"  # SMTP comes back
    from app.services import outbox

    counts = outbox.send_pending()
    assert counts["cancelled"] == 1 and counts["sent"] == 0
    email = db.session.scalar(select(OutboxEmail))
    assert email.status == "cancelled" and "revogado" in email.last_error
    assert "/ativar/" not in email.body_text  # the dead token is not kept at rest
    assert smtp_server.messages == []


def test_queued_email_of_a_replaced_link_is_cancelled_and_the_new_one_sent(
    smtp_later_app, smtp_server
):
    from app.services import activation, outbox
    from tests.conftest import WebhookSender

    app = smtp_later_app
    WebhookSender(app.test_client())("kiwify", "order_approved")
    link = db.session.scalar(select(ActivationLink))
    with app.test_request_context():
        activation.change_email(link, "certo@example.com")
    db.session.commit()
    app.config["SMTP_HOST"] = "127.0.0.1"  # SMTP comes back
    counts = outbox.send_pending()
    assert (counts["sent"], counts["cancelled"]) == (1, 1)
    assert [m["To"] for m in smtp_server.messages] == ["certo@example.com"]


def test_emoji_rich_long_names_are_delivered(send_webhook, smtp_server):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["product"]["name"] = "Curso 🚀" + "😀" * 240
    body["data"]["buyer"]["name"] = "Maria " + "🌸" * 240
    assert send_webhook("hotmart", body).status_code == 200
    email = db.session.scalar(select(OutboxEmail))
    assert email.status == "sent", email.last_error
    (message,) = smtp_server.messages
    assert message["Subject"].startswith("Ative seu acesso: Curso 🚀😀")
    assert "🌸" in smtp_server.text_of(message) and "/ativar/" in smtp_server.text_of(message)
    assert "😀" in smtp_server.html_of(message)
    assert max(len(line) for line in message.as_bytes().splitlines()) <= 998


def test_password_reset_email_is_sent_when_token_and_user_ids_differ(smtp_later_app, smtp_server):
    from app.services import accounts, outbox

    app = smtp_later_app
    with app.test_request_context():
        accounts.create_user("a@example.com", "senha-segura-123", name="A", role="admin")
        accounts.create_user("b@example.com", "senha-segura-123", name="B", role="member")
        db.session.commit()
        accounts.request_password_reset("b@example.com")  # token id 1, user id 2
        db.session.commit()
    app.config["SMTP_HOST"] = "127.0.0.1"
    assert outbox.send_pending()["sent"] == 1
    assert [m["To"] for m in smtp_server.messages] == ["b@example.com"]
