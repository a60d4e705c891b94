"""The operator sees a refused delivery explained, sends a panel test and finds it on /vendas."""

import json

import pytest
import requests

from tests.conftest import load_fixture
from tests.e2e.conftest import setup_operator

pytestmark = pytest.mark.browser

NO_HORIZONTAL_SCROLL = (
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def test_refused_delivery_notice_panel_test_and_sales_test_filter(live_app, page):
    # Kirvano delivered without the token: refused, and the refusal is counted.
    raw = json.dumps(load_fixture("kirvano", "sale_approved")).encode()
    refused = requests.post(
        f"{live_app.live_url}/webhook/kirvano",
        data=raw,
        timeout=30,
        headers={"Content-Type": "application/json"},
    )
    assert refused.status_code == 401

    setup_operator(page, live_app.live_url)

    page.click("nav >> text=Webhooks")
    page.wait_for_url(live_app.live_url + "/webhooks")
    kirvano = page.locator(".card", has=page.locator("input[value=kirvano]"))
    notice = kirvano.locator(".alert-warning").inner_text()
    assert "1 entrega recusada" in notice and "sem token" in notice
    assert "(s)" not in notice

    kirvano.locator("input[name=email]").fill("teste@example.com")
    kirvano.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_app.live_url}/webhooks/*")
    assert "aceito e processado" in page.locator(".alert").first.inner_text()
    assert "Teste enviado pelo painel" in page.locator("main").inner_text()
    page.click("nav >> text=Webhooks")
    assert page.locator("tbody >> text=teste do painel").count() == 1

    # /vendas hides tests by default; "Só testes" shows the panel test with its badge.
    page.get_by_role("link", name="Vendas", exact=True).click()
    page.wait_for_url(live_app.live_url + "/vendas")
    assert "teste@example.com" not in page.locator("main").inner_text()
    page.select_option("select[name=testes]", "apenas")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**/vendas?*testes=apenas*")
    row = page.locator("tbody tr", has_text="teste@example.com")
    assert row.count() == 1 and row.locator(".badge", has_text="teste").count() == 1
    assert page.locator("select[name=testes]").input_value() == "apenas"

    # The filter row fits a phone screen without sideways scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    page.goto(live_app.live_url + "/webhooks")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
    assert page.console_errors == []
