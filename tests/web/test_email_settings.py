"""E-mail is part of set-up: SMTP on the Settings page (database wins over SMTP_*), a test
e-mail that says plainly what went wrong, and an overview that says when buyers are waiting."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender, csrf_token, free_port


@pytest.fixture
def no_smtp_app(app_factory):
    """Webhook secrets set, no SMTP_* in the environment: a seller on day one."""
    app = app_factory(**WEBHOOK_SECRETS, SMTP_HOST=None)
    with app.app_context():
        yield app


@pytest.fixture
def operator(no_smtp_app):
    client = no_smtp_app.test_client()
    Auth(no_smtp_app, client).operator()
    return client


def _save_smtp(client, **fields):
    data = {"csrf_token": csrf_token(client, "/configuracoes"), **fields}
    return client.post("/configuracoes/email", data=data)


def test_buyers_waiting_are_announced_then_mailed_once_smtp_is_saved(
    no_smtp_app, operator, smtp_server
):
    WebhookSender(no_smtp_app.test_client())("hotmart", "purchase_approved")
    assert smtp_server.messages == []
    page = operator.get("/").get_data(as_text=True)
    assert "O envio de e-mails não está configurado" in page
    assert "1 e-mail para comprador aguarda na fila" in page
    assert "Copiar novo link" in page

    response = _save_smtp(
        operator,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        SMTP_USE_TLS="false",
        SMTP_FROM="Minha Loja <contato@minhaloja.com.br>",
    )
    assert response.status_code == 302
    # saving the settings sent what was waiting, from the sender chosen on the page
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["From"] == "Minha Loja <contato@minhaloja.com.br>"
    assert smtp_server.messages[0]["To"] == "maria@example.com"
    assert db.session.scalar(select(OutboxEmail.status)) == "sent"
    assert "não está configurado" not in operator.get("/").get_data(as_text=True)


def test_test_email_arrives_and_the_page_says_so(operator, smtp_server):
    _save_smtp(
        operator,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_server.port),
        SMTP_FROM="loja@minhaloja.com.br",
    )
    response = operator.post(
        "/configuracoes/email/teste",
        data={"csrf_token": csrf_token(operator, "/configuracoes"), "to": "eu@minhaloja.com.br"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "E-mail de teste enviado para eu@minhaloja.com.br" in html
    (message,) = smtp_server.messages
    assert message["Subject"] == "Teste de e-mail do Vendas Hub"
    assert message["To"] == "eu@minhaloja.com.br"


def test_a_failing_test_email_explains_and_never_shows_the_password(operator):
    closed = free_port()  # nothing listens there
    _save_smtp(
        operator,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(closed),
        SMTP_USER="loja@minhaloja.com.br",
        SMTP_PASSWORD="senha-super-secreta",
        SMTP_FROM="loja@minhaloja.com.br",
    )
    html = operator.post(
        "/configuracoes/email/teste",
        data={"csrf_token": csrf_token(operator, "/configuracoes")},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"127.0.0.1:{closed} recusou a conexão" in html
    assert "senha-super-secreta" not in html


def test_bad_port_and_choices_are_refused_with_a_readable_message(operator):
    bad_port = _save_smtp(operator, SMTP_HOST="smtp.exemplo.com", SMTP_PORT="porta")
    assert bad_port.status_code == 422
    assert "entre 1 e 65535" in bad_port.get_data(as_text=True)
    bad_choice = _save_smtp(operator, SMTP_USE_TLS="talvez")
    assert bad_choice.status_code == 422
    assert "Sim, Não" in bad_choice.get_data(as_text=True)


def test_the_settings_page_offers_smtp_and_the_test_button(operator):
    html = operator.get("/configuracoes").get_data(as_text=True)
    assert 'id="email"' in html and "E-mail (SMTP)" in html
    assert "Enviar e-mail de teste" in html
    assert '<option value="true" >Sim</option>' in html or ">Sim</option>" in html


def test_smtp_explanations_cover_what_sellers_hit():
    import smtplib
    import socket
    import ssl

    from app.services.mail_settings import SmtpSettings, explain

    smtp = SmtpSettings("smtp.gmail.com", 587, True, False, "u", "p", "u@gmail.com", 5.0)
    assert "senha de app" in explain(smtplib.SMTPAuthenticationError(535, b"bad"), smtp)
    assert "não encontrado" in explain(socket.gaierror(-2, "Name"), smtp)
    assert "465" in explain(ssl.SSLError("wrong version"), smtp)
    assert "não respondeu" in explain(TimeoutError(), smtp)
    assert "remetente" in explain(smtplib.SMTPSenderRefused(553, b"no", "u@gmail.com"), smtp)


def test_a_mistyped_host_keeps_buyers_emails_waiting_until_it_is_fixed(
    no_smtp_app, operator, smtp_server
):
    sender = WebhookSender(no_smtp_app.test_client())
    sender("hotmart", "purchase_approved")
    sender("kiwify", "order_approved")
    assert db.session.query(OutboxEmail).count() == 2
    _save_smtp(operator, SMTP_HOST="smtp..gmail.com", SMTP_FROM="loja@minhaloja.com.br")
    db.session.rollback()
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    # a settings mistake is not the buyers' fault: nothing given up, one attempt spent at most
    assert [e.status for e in emails] == ["pending", "pending"]
    assert sorted(e.attempts for e in emails) == [0, 1]

    from app.models.types import utcnow

    db.session.execute(db.update(OutboxEmail).values(next_attempt_at=utcnow()))  # back-off over
    db.session.commit()
    _save_smtp(operator, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port))
    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(e.to_email for e in emails)
