"""/acessos in a browser at 1366 and 390 px: the operator creates a link item and a Telegram
item (the form shows the field of each kind), maps a product to both, nothing overflows."""

import os

import pytest

from app.extensions import db
from tests.access_kit import make_sale

pytestmark = pytest.mark.browser


def setup_operator(page, url):
    page.goto(url + "/setup")
    page.fill("#name", "Ana Operadora")
    page.fill("#email", "ana@example.com")
    page.fill("#password", "senha-forte-123")
    page.fill("#password_confirm", "senha-forte-123")
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


def assert_fits(page, width):
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide at {width}px"


@pytest.mark.parametrize("width", [1366, 390])
def test_operator_builds_the_catalogue(live_app, page, width):
    make_sale("kiwify", "KW1", "kw-curso", "Curso de Confeitaria")
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    url = live_app.live_url
    setup_operator(page, url)
    if width < 992:
        page.click("button.navbar-toggler")
    page.click("#nav-integrations")
    page.click("text=Acessos dos compradores")
    page.wait_for_url(url + "/acessos")

    assert page.is_hidden("#chat_id") and page.is_visible("#url")
    page.fill("#title", "Área de membros")
    page.fill("#url", "https://membros.example.com/confeitaria")
    page.fill("#instructions", "Entre com o e-mail da compra.")
    page.click("#novo-item button[type=submit]")
    page.wait_for_url(url + "/acessos#itens")

    page.select_option("#kind", "telegram")
    assert page.is_visible("#chat_id") and page.is_hidden("#url")
    page.fill("#title", "Grupo VIP")
    page.fill("#chat_id", "-1001234567890")
    page.click("#novo-item button[type=submit]")
    page.wait_for_url(url + "/acessos#itens")
    items = page.locator("[data-access-items]").inner_text()
    assert "Área de membros" in items and "Grupo VIP" in items

    page.select_option("#product", "kiwify:kw-curso")
    page.get_by_label("Área de membros", exact=True).check()
    page.get_by_label("Grupo VIP", exact=True).check()
    page.click("#vincular button[type=submit]")
    page.wait_for_url(url + "/acessos#regras")
    rules = page.locator("[data-access-rules]").inner_text()
    assert "Curso de Confeitaria" in rules and "Grupo VIP" in rules and "Kiwify" in rules
    assert_fits(page, width)
    shots = os.environ.get("ACCESS_SCREENSHOTS")
    if shots:
        page.screenshot(path=f"{shots}/acessos-{width}.png", full_page=True)
        page.goto(url + "/")
        page.screenshot(path=f"{shots}/overview-{width}.png")
    assert page.console_errors == []
