"""At 390 px the main lists are stacked cards: nothing to swipe sideways, actions in reach."""

import pytest

from tests.conftest import Auth, WebhookSender, load_fixture
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def test_lists_fit_a_phone_and_their_actions_are_reachable(live_app, page, tmp_path):
    sender = WebhookSender(live_app.test_client())
    sender("hotmart", "purchase_approved")
    body = load_fixture("kirvano", "sale_approved")
    body["customer"]["email"] = "um.nome.bem.comprido.de.comprador@exemplo-de-dominio.com.br"
    sender("kirvano", body)
    Auth(live_app, live_app.test_client()).create()
    base = live_app.live_url
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, base)
    for path in ("/", "/vendas", "/ativacoes", "/webhooks"):
        page.goto(base + path)
        name = path.strip("/") or "visao-geral"
        page.screenshot(path=str(tmp_path / f"{name}-390.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), (
            path
        )
    page.goto(base + "/ativacoes")
    button = page.locator("button", has_text="Reenviar").first
    box = button.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen, no swipe
    assert page.locator("td[data-label='Status']").first.is_visible()
    assert page.console_errors == []
