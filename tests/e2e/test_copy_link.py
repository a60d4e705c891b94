"""The operator copies a fresh activation link to send by WhatsApp when e-mail fails."""

import json

import pytest
import requests

from tests.conftest import Auth, load_fixture, signed_request
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def _approve(live_app):
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    signed = signed_request("hotmart", raw)
    response = requests.post(
        f"{live_app.live_url}/webhook/hotmart",
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", **signed["headers"]},
    )
    assert response.json() == {"status": "accepted"}


@pytest.mark.parametrize("width", [1366, 390])
def test_copy_a_fresh_link_and_the_buyer_signs_up_with_it(live_app, page, width, tmp_path):
    _approve(live_app)
    Auth(live_app, live_app.test_client()).create()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    login(page, base)
    page.goto(base + "/ativacoes")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("button", has_text="Copiar novo link").first.click()
    page.wait_for_selector("#fresh-link")
    page.wait_for_url(base + "/ativacoes")  # reloading lands on the list, not a new link
    url = page.locator("#fresh-link").input_value()
    assert "/ativar/" in url
    page.screenshot(path=str(tmp_path / f"copy-link-{width}.png"), full_page=True)
    page.locator("[data-copy-target]").click()
    page.locator("[data-copy-target]", has_text="Copiado!").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    assert (
        page.locator("a", has_text="Enviar pelo WhatsApp")
        .get_attribute("href")
        .startswith("https://wa.me/")
    )
    # no horizontal scroll at this width
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    page.goto(url)
    assert page.locator("#email").input_value() == "maria@example.com"
    assert page.console_errors == []
