"""The buyer reopening an activation link (issue 17): a used link says when and where to log
in, a signed-in buyer goes straight to /conta, expired/revoked links say what to do."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.formatting import date_br
from app.models import ActivationLink
from app.models.types import utcnow
from app.services import activation
from tests.conftest import Auth
from tests.web.test_signup import PASSWORD, link_path, submit


def test_used_link_says_when_and_offers_login_and_password_reset(
    send_webhook, smtp_server, webhook_app
):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    submit(send_webhook.client, path)
    link = db.session.scalar(select(ActivationLink))
    other = webhook_app.test_client()  # the buyer on another device, not signed in
    page = other.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"Este link já foi usado para criar sua conta em {date_br(link.used_at)}" in html
    assert "Entre com seu e-mail e senha" in html
    assert 'href="/login"' in html and 'href="/esqueci-senha"' in html
    again = submit(other, path)  # the form sent again: the same explanation, nothing created
    assert again.status_code == 200 and "já foi usado" in again.get_data(as_text=True)


def test_signed_in_buyer_reopening_the_link_goes_to_conta(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    client = send_webhook.client
    assert submit(client, path).status_code == 302  # account created, signed in
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/conta")
    account = client.get("/conta").get_data(as_text=True)
    assert "Você já está na sua conta" in account


def test_another_signed_in_user_sees_the_used_page_not_the_account(
    send_webhook, smtp_server, webhook_app
):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    submit(send_webhook.client, path)
    operator = webhook_app.test_client()
    Auth(webhook_app, operator).operator()
    page = operator.get(path)
    assert page.status_code == 200 and "já foi usado" in page.get_data(as_text=True)


def test_expired_link_says_to_ask_for_a_new_one(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        html = send_webhook.client.get(path).get_data(as_text=True)
    assert 'data-link-state="expired"' in html and "Este link expirou" in html
    assert "Peça um novo link pelo botão abaixo" in html and "Reenviar link" in html


def test_expired_link_that_cannot_be_resent_says_to_ask_the_seller(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    link = db.session.scalar(select(ActivationLink))
    link.sale.status = "refunded"  # the purchase no longer grants access
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        html = send_webhook.client.get(path).get_data(as_text=True)
    assert "Este link expirou" in html and "Peça um novo link ao vendedor" in html
    assert "Reenviar link" not in html


def test_revoked_link_says_to_talk_to_the_seller(send_webhook, smtp_server):
    send_webhook("kiwify", "order_approved")
    path = link_path(smtp_server)
    link = db.session.scalar(select(ActivationLink))
    activation.revoke(link, "operator")
    db.session.commit()
    page = send_webhook.client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 410
    assert 'data-link-state="revoked"' in html and "fale com o vendedor" in html
    assert "Reenviar" not in html


def test_a_wrong_token_reveals_nothing(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    wrong = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    page = send_webhook.client.get(wrong)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "maria@example.com" not in html and "já foi usado" not in html
    assert PASSWORD not in html


def test_a_signed_in_buyer_opening_the_home_page_goes_to_conta(app, client):
    from tests.conftest import Auth

    Auth(app, client).member()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/conta")
    assert client.get("/vendas").status_code == 403  # the operator pages stay closed
