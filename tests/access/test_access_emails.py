"""The activation and "compra adicionada" e-mails list what the purchase gives (the access
catalogue's items), in both parts, escaped in the HTML one; unmapped products keep today's
text; a refunded sale's e-mail never goes out. Through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.services import outbox
from tests.access_kit import make_item, make_rule
from tests.clients.conftest import start_emulator  # noqa: F401 - fixture
from tests.conftest import WEBHOOK_SECRETS, WebhookSender, csrf_token
from tests.web.test_telegram import (  # noqa: F401 - fixtures
    approved,
    control,
    emu,
    post_update,
    refunded,
    tg_config,
)

PRODUCT = "fb056612-bcc6-4217-9e6d-2a5d1110ac2f"  # the Hotmart fixture's ucode
INTRO = "O que a sua compra inclui"


def catalogue(telegram_chat: str = "-1001234567890") -> None:
    """The fixture's product → a member area, a download and a Telegram group."""
    area = make_item(
        "Curso <script>alert(1)</script>",
        url="https://membros.example.com/curso?a=1&b=2",
        instructions="Entre com o e-mail da compra.\nSenha: a que você escolher.",
    )
    ebook = make_item("E-book bônus", kind="download", url="https://arquivos.example.com/e.pdf")
    group = make_item("Grupo VIP", kind="telegram", chat_id=telegram_chat)
    make_rule("hotmart", PRODUCT, area, ebook, group)
    db.session.commit()


@pytest.fixture
def mail_app(app_factory, smtp_server):
    app = app_factory(**WEBHOOK_SECRETS, **smtp_server.config())
    with app.app_context():
        yield app


@pytest.fixture
def smtp_later_app(app_factory, smtp_server):
    """Webhooks accepted while SMTP is not configured yet; a test turns it on later."""
    app = app_factory(**WEBHOOK_SECRETS, **smtp_server.config(SMTP_HOST=""))
    with app.app_context():
        yield app


def parts(smtp_server, message) -> tuple[str, str]:
    text, html = smtp_server.text_of(message), smtp_server.html_of(message)
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def test_the_activation_email_lists_every_item_in_both_parts_escaped(mail_app, smtp_server):
    catalogue()
    assert WebhookSender(mail_app.test_client())("hotmart", approved()).status_code == 200
    (message,) = smtp_server.messages
    assert message["Subject"].startswith("Ative seu acesso:")
    text, html = parts(smtp_server, message)
    assert INTRO in text and INTRO in html
    # The member area with its instructions, line by line.
    assert "- Curso <script>alert(1)</script> (área de membros): " in text
    assert "https://membros.example.com/curso?a=1&b=2" in text
    assert "  Entre com o e-mail da compra.\n  Senha: a que você escolher." in text
    assert "<script>" not in html and "Curso &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://membros.example.com/curso?a=1&amp;b=2"' in html
    assert "Entre com o e-mail da compra.<br>Senha: a que você escolher." in html
    # The download.
    assert "- E-book bônus (download): https://arquivos.example.com/e.pdf" in text
    assert 'href="https://arquivos.example.com/e.pdf">Baixar</a>' in html
    # The group: no link exists before the signup.
    expected = "o link pessoal do grupo está em"
    group = f"- Grupo VIP (grupo no Telegram): {expected} Minha conta (http://localhost/conta)"
    assert group in text
    assert f'{expected} <a href="http://localhost/conta">Minha conta</a>' in html
    # The activation link itself is still there.
    assert "/ativar/" in text and "Ativar meu acesso" in html


def test_an_unmapped_product_keeps_todays_email(mail_app, smtp_server):
    other = make_item("Outro curso")
    make_rule("hotmart", "outro-produto", other)
    db.session.commit()
    assert WebhookSender(mail_app.test_client())("hotmart", approved()).status_code == 200
    (message,) = smtp_server.messages
    text, html = parts(smtp_server, message)
    assert INTRO not in text and INTRO not in html and "Outro curso" not in text
    assert "foi aprovada. Para acessar, crie sua conta pelo link abaixo:" in text
    assert "Grupo no Telegram" not in text  # no bot, no default chat


def sign_up(client, smtp_server) -> None:
    mail = smtp_server.text_of(smtp_server.messages[-1])
    path = re.search(r"https?://[^/\s]+(/ativar/[A-Za-z0-9_-]+)", mail).group(1)
    response = client.post(
        path,
        data={
            "name": "Bia Souza",
            "password": "senha-nova-123",
            "password_confirm": "senha-nova-123",
            "csrf_token": csrf_token(client, path),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_purchase_added_lists_the_items_with_the_members_telegram_link(
    app_factory,
    emu,  # noqa: F811
    smtp_server,
):
    from emulator.telegram import DEFAULT_CHAT_ID

    app = app_factory(**tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID=""), **smtp_server.config())
    with app.app_context():
        catalogue(telegram_chat=str(DEFAULT_CHAT_ID))
        client = app.test_client()
        assert WebhookSender(client)("hotmart", approved()).status_code == 200
        sign_up(client, smtp_server)  # the personal link is made right after the signup
        from app.models import TelegramInvite

        invite = db.session.scalar(select(TelegramInvite))
        assert invite is not None and invite.usable()

        assert WebhookSender(client)("hotmart", approved()).status_code == 200
        message = smtp_server.messages[-1]
        assert message["Subject"].startswith("Compra adicionada à sua conta:")
        text, html = parts(smtp_server, message)
        for body in (text, html):
            assert INTRO in body and invite.invite_link in body
            assert "o link pessoal do grupo está em" not in body
            assert "E-book bônus" in body
        assert "- Grupo VIP (grupo no Telegram): entre pelo seu link pessoal" in text
        assert "Curso &lt;script&gt;" in html and "<script>" not in html
        # The group is named once: the generic Telegram paragraph does not repeat it.
        assert text.count(invite.invite_link) == 1
        assert "Este produto inclui um grupo no Telegram" not in html

        # Once the member joined through it, the next purchase's e-mail says so.
        member = {"id": 555, "first_name": "Bia"}
        joined = control(emu, "/join", {"invite_link": invite.invite_link, "user": member})
        assert post_update(client, joined["update"]).status_code == 200
        assert WebhookSender(client)("hotmart", approved()).status_code == 200
        text, html = parts(smtp_server, smtp_server.messages[-1])
        assert "- Grupo VIP (grupo no Telegram): você já está no grupo" in text
        assert "você já está no grupo" in html and invite.invite_link not in text


def test_a_refunded_sales_activation_email_never_goes_out(smtp_later_app, smtp_server):
    catalogue()
    send = WebhookSender(smtp_later_app.test_client())
    body = approved()
    assert send("hotmart", body).status_code == 200
    queued = db.session.scalar(select(OutboxEmail))
    assert queued.status == "pending" and "Grupo VIP" in queued.body_text
    assert send("hotmart", refunded(body["data"]["purchase"]["transaction"])).status_code == 200
    smtp_later_app.config["SMTP_HOST"] = "127.0.0.1"  # SMTP comes back
    counts = outbox.send_pending()
    assert (counts["sent"], counts["cancelled"]) == (0, 1)
    db.session.expire_all()
    assert db.session.scalar(select(OutboxEmail)).status == "cancelled"
    assert smtp_server.messages == []


def test_a_refunded_sales_purchase_added_email_never_goes_out(smtp_later_app, smtp_server):
    from app.services import accounts

    catalogue()
    accounts.create_user("bia.tg@example.com", "senha-segura-123", name="Bia", role="member")
    db.session.commit()
    send = WebhookSender(smtp_later_app.test_client())
    body = approved()
    assert send("hotmart", body).status_code == 200
    queued = db.session.scalar(select(OutboxEmail))
    assert queued.kind == "purchase_added" and "E-book bônus" in queued.body_html
    assert send("hotmart", refunded(body["data"]["purchase"]["transaction"])).status_code == 200
    smtp_later_app.config["SMTP_HOST"] = "127.0.0.1"
    counts = outbox.send_pending()
    assert (counts["sent"], counts["cancelled"]) == (0, 1)
    db.session.expire_all()
    email = db.session.scalar(select(OutboxEmail))
    assert email.status == "cancelled" and "reembolsada" in email.last_error
    assert smtp_server.messages == []
