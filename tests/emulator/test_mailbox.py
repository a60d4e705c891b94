"""The demo's mail catcher: the app's real outbox sends to it, the operator opens the link."""

import re
import smtplib
from email.message import EmailMessage

import pytest
from werkzeug.test import Client

from emulator.mailbox import Mailbox, MailboxApp, start_smtp
from tests.conftest import WEBHOOK_SECRETS, WebhookSender, free_port


@pytest.fixture
def catcher():
    mailbox = Mailbox(limit=3)
    port = free_port()
    controller = start_smtp(mailbox, "127.0.0.1", port, echo=False)
    yield mailbox, port
    controller.stop()


def _send(port, subject, text, html=None, to="maria@example.com"):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Loja <loja@example.com>", to, subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


def test_the_activation_email_of_the_app_lands_in_the_catcher_with_its_link(app_factory, catcher):
    mailbox, port = catcher
    app = app_factory(
        **WEBHOOK_SECRETS, SMTP_HOST="127.0.0.1", MAIL_SERVER="127.0.0.1", MAIL_PORT=port
    )
    with app.app_context():
        answer = WebhookSender(app.test_client())("hotmart", "purchase_approved")
        assert answer.get_json() == {"status": "accepted"}
    (caught,) = mailbox.all()
    assert caught.to == ["maria@example.com"]
    assert any("/ativar/" in link for link in caught.links)

    web = Client(MailboxApp(mailbox))
    index = web.get("/").get_data(as_text=True)
    assert caught.subject.split(":")[0] in index and "maria@example.com" in index
    page = web.get(f"/{caught.id}")
    html = page.get_data(as_text=True)
    link = next(link for link in caught.links if "/ativar/" in link)
    assert f"href='{link}'" in html or f'href="{link}"' in html
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert web.get(f"/{caught.id}/html").headers["Content-Security-Policy"].startswith("sandbox")


def test_message_content_is_escaped_and_old_messages_roll_off(catcher):
    mailbox, port = catcher
    _send(port, "<script>alert(1)</script>", "Olá <b>x</b> https://exemplo.com/a?b=1&c=2")
    web = Client(MailboxApp(mailbox))
    html = web.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    page = web.get(f"/{mailbox.all()[0].id}").get_data(as_text=True)
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert re.search(r'href="https://exemplo.com/a\?b=1&amp;c=2"', page)
    for n in range(4):
        _send(port, f"e-mail {n}", "texto")
    assert [m.subject for m in mailbox.all()] == ["e-mail 3", "e-mail 2", "e-mail 1"]
    assert web.get("/999").status_code == 404
