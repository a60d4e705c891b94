"""A new seller sets up e-mail in the browser: the overview says buyers are waiting, the
Settings page saves SMTP and its test button reports what happened."""

import pytest

from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender
from tests.e2e.conftest import login, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_app(app_factory):
    with serving(app_factory, **WEBHOOK_SECRETS, SMTP_HOST=None) as app:
        Auth(app, app.test_client()).create()
        yield app


@pytest.mark.parametrize("width", [1366, 390])
def test_seller_configures_email_and_sends_a_test(fresh_app, page, smtp_server, width, tmp_path):
    WebhookSender(fresh_app.test_client())("hotmart", "purchase_approved")
    base = fresh_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base)
    banner = page.locator("[data-smtp-missing]")
    assert "1 e-mail para comprador aguarda na fila" in banner.inner_text()
    page.screenshot(path=str(tmp_path / f"overview-{width}.png"))
    banner.locator("a", has_text="Configurar e-mail").click()

    card = page.locator("section#email")
    card.locator("#SMTP_HOST").fill("127.0.0.1")
    card.locator("#SMTP_PORT").fill(str(smtp_server.port))
    card.locator("#SMTP_USE_TLS").select_option(label="Não")
    card.locator("#SMTP_FROM").fill("Minha Loja <contato@minhaloja.com.br>")
    card.locator("button", has_text="Salvar E-mail (SMTP)").click()
    # the result shows inside the card the seller is looking at, not out of sight at the top
    card.locator(".alert-success", has_text="configurações salvas").wait_for()
    assert card.locator(".alert-success").is_visible()
    assert len(smtp_server.messages) == 1  # the waiting buyer got the link

    page.locator("section#email button", has_text="Enviar e-mail de teste").click()
    page.locator("section#email .alert-success", has_text="E-mail de teste enviado").wait_for()
    assert smtp_server.messages[-1]["Subject"] == "Teste de e-mail do Vendas Hub"
    page.locator("section#email").screenshot(path=str(tmp_path / f"smtp-{width}.png"))
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.console_errors == []
    page.goto(base + "/sincronizacoes")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
