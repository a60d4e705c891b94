"""The operator sees what was done on /auditoria, reached from the Settings page."""

import os

import pytest

from tests.e2e.conftest import setup_operator

pytestmark = pytest.mark.browser


def test_operator_actions_show_up_on_the_audit_page(live_app, page):
    setup_operator(page, live_app.live_url)
    page.click("nav >> text=Configurações")
    page.fill("#KOMMO_JWT_TOKEN", "kommo-token-muito-secreto-987")
    page.click("#kommo button[type=submit]")
    page.click("nav >> text=Webhooks")
    page.click("form:has(input[value=kiwify]) button[type=submit]")
    page.click("nav >> text=Configurações")
    page.click("text=Auditoria: quem fez o quê")
    page.wait_for_url(live_app.live_url + "/auditoria")
    table = page.locator("table").inner_text()
    assert "Operador criado" in table and "ana@example.com" in table
    assert "Configuração alterada" in table and "Kommo — Token de longa duração (JWT)" in table
    assert "Webhook de teste enviado" in table and "Kiwify — Compra aprovada" in table
    assert "kommo-token-muito-secreto-987" not in page.content()
    page.select_option("select[name=action]", "settings.changed")
    page.click("form[role=search] button[type=submit]")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "Configuração alterada" in rows.first.inner_text()
    if os.environ.get("AUDIT_SCREENSHOT"):
        page.goto(live_app.live_url + "/configuracoes")
        page.screenshot(path=os.environ["AUDIT_SCREENSHOT"])
    assert page.console_errors == []
