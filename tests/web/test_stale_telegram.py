"""Issue 10 for the Telegram outboxes: an invite link queued for a purchase that is refunded
before it goes out is cancelled in the claiming transaction and never made; the operator's
"nova venda" of a sale refunded before sending is still sent, then its "reembolso" (the
operator wants to know both; nothing reaches the buyer)."""

from __future__ import annotations

from sqlalchemy import select, text, update

from app.extensions import db
from app.models import AutomationDelivery
from app.models.automation import DELIVERY_CANCELLED, DELIVERY_PENDING, DELIVERY_SENT
from app.models.telegram import INVITE_REVOKED
from app.models.types import utcnow
from app.services import automation_sender
from tests.clients.conftest import start_emulator  # noqa: F401 - fixture
from tests.conftest import Auth, WebhookSender
from tests.web.test_telegram import (  # noqa: F401 - fixtures
    approved,
    control,
    emu,
    messages,
    refunded,
    tg_app,
)
from tests.web.test_telegram_access import (  # noqa: F401 - fixture
    access_app,
    buy_and_sign_up,
    calls,
    the_invite,
)


def _all_due() -> None:
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.execute(text("UPDATE rate_budgets SET paused_until = 0, next_slot = 0"))
    db.session.commit()


def test_an_invite_queued_before_a_refund_is_cancelled_and_never_made(
    access_app,  # noqa: F811
    emu,  # noqa: F811
    smtp_server,
):
    # Telegram answers 429 to the signup's link: the invite waits in the outbox.
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    client, tx = buy_and_sign_up(access_app, smtp_server)
    db.session.expire_all()
    [invite] = db.session.scalars(select(AutomationDelivery)).all()
    assert (invite.step, invite.status) == ("invite", DELIVERY_PENDING)
    assert calls(emu, "createChatInviteLink") == []
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    _all_due()
    automation_sender.send_pending()
    db.session.expire_all()
    invite = db.session.get(AutomationDelivery, invite.id)
    assert invite.status == DELIVERY_CANCELLED
    assert invite.last_error.startswith("Compra reembolsada ou acesso revogado antes do envio")
    assert calls(emu, "createChatInviteLink") == []  # never made: only the refused try
    assert len(calls(emu, "createChatInviteLink", status=429)) == 1
    assert the_invite().status == INVITE_REVOKED and the_invite().invite_link is None
    operator = access_app.test_client()
    Auth(access_app, operator).operator()
    page = operator.get("/automacoes").get_data(as_text=True)
    assert "Compra reembolsada ou acesso revogado antes do envio" in page


def test_a_sale_notification_queued_before_its_refund_is_sent_then_the_refund(tg_app, emu):  # noqa: F811
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    hook = WebhookSender(tg_app.test_client())
    body = approved()
    assert hook("hotmart", body).status_code == 200
    assert messages(emu) == []  # the "nova venda" waits (429)
    assert hook("hotmart", refunded(body["data"]["purchase"]["transaction"])).status_code == 200
    _all_due()
    automation_sender.send_pending()
    sent = messages(emu)
    assert [m.split(":")[0] for m in sent] == ["Nova venda aprovada", "Reembolso"], sent
    db.session.expire_all()
    rows = db.session.scalars(select(AutomationDelivery).order_by(AutomationDelivery.id)).all()
    assert [(r.step, r.status) for r in rows] == [
        ("notify_sale", DELIVERY_SENT),
        ("notify_revoked", DELIVERY_SENT),
    ]
