"""What a person clicks: the buyer's activation and the operator's first steps."""

import json
import re

import pytest
import requests

from tests.conftest import load_fixture, signed_request
from tests.e2e.conftest import setup_operator

pytestmark = pytest.mark.browser


def test_buyer_opens_emailed_link_signs_up_and_sees_the_product(live_app, page, smtp_server):
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    signed = signed_request("hotmart", raw)
    response = requests.post(
        f"{live_app.live_url}/webhook/hotmart",
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", **signed["headers"]},
    )
    assert response.json() == {"status": "accepted"}
    text = smtp_server.text_of(smtp_server.messages[0])
    link = re.search(r"(http://127\.0\.0\.1:\d+/ativar/\S+)", text)[1]

    page.goto(link)
    assert page.locator("#email").input_value() == "maria@example.com"
    assert page.locator("#email").get_attribute("readonly") is not None
    page.fill("#name", "Maria Souza")
    page.fill("#password", "senha-nova-123")
    page.fill("#password_confirm", "senha-nova-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_app.live_url}/conta")
    body = page.locator("main").inner_text()
    assert "Curso Exemplo" in body and "Ativo" in body and "R$" in body
    assert "Conta criada" in body
    assert page.console_errors == []


def test_operator_setup_login_settings_and_logout(live_app, page):
    page.goto(live_app.live_url + "/")
    page.wait_for_url("**/setup")
    setup_operator(page, live_app.live_url, visit=False)
    assert "Visão geral" in page.locator("h1").inner_text()
    page.click("nav >> text=Configurações")
    page.fill("#KIWIFY_WEBHOOK_SECRET", "um-token-bem-secreto-123")
    page.click("#kiwify button[type=submit]")
    assert "configurações salvas" in page.locator(".alert-dismissible").first.inner_text()
    assert "um-token-bem-secreto-123" not in page.content()
    page.click("nav >> text=Webhooks")
    page.select_option("#kiwify ~ * select, form:has(input[value=kiwify]) select", "approved")
    page.click("form:has(input[value=kiwify]) button[type=submit]")
    assert "recebido: aceito e processado" in page.locator(".alert").first.inner_text()
    page.click("text=Sair")
    page.wait_for_url("**/login")
    assert page.console_errors == []
