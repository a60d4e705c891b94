"""/acessos in a browser at 1366 and 390 px: the operator creates a link item and a Telegram
item (the form shows the field of each kind), maps a product to both; the member's items on
/conta and the overview's unmapped products; nothing overflows."""

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.access_kit import buy, make_item, make_rule, make_sale
from tests.conftest import Auth
from tests.e2e.conftest import login, open_menu, setup_operator

pytestmark = pytest.mark.browser


def assert_fits(page, width):
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"page is {overflow}px wide at {width}px"


@pytest.mark.parametrize("width", [1366, 390])
def test_operator_builds_the_catalogue(live_app, page, width, shots):
    make_sale("kiwify", "KW1", "kw-curso", "Curso de Confeitaria")
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 900})
    url = live_app.live_url
    setup_operator(page, url)
    if width < 1200:  # the bar is collapsed behind its menu button below 1200 px
        open_menu(page)
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
    page.screenshot(path=shots / f"acessos-{width}.png", full_page=True)
    page.goto(url + "/")
    page.screenshot(path=shots / f"overview-{width}.png")
    assert page.console_errors == []


@pytest.mark.parametrize("width", [1366, 390])
def test_member_sees_items_and_operator_sees_unmapped_products(live_app, page, width, shots):
    from app.models import User

    auth = Auth(live_app, live_app.test_client())
    auth.create()
    auth.create(email="bia@example.com", role="member", name="Bia")
    user = db.session.scalar(select(User).where(User.email == "bia@example.com"))
    course = make_item("Área de membros", instructions="Entre com o e-mail da compra.")
    group = make_item("Grupo VIP da Confeitaria", "telegram", chat_id="-1001234567890")
    sheet = make_item("Planilha de custos", "download", url="https://arquivos.example.com/p.xlsx")
    make_rule("kiwify", "kw-curso", course, group)
    make_rule("hotmart", "hp-bonus", sheet)
    buy(
        user,
        make_sale("kiwify", "KW1", "kw-curso", "Curso de Confeitaria"),
        make_sale("hotmart", "HP1", "hp-bonus", "Planilha Bônus"),
    )
    make_sale("eduzz", "ED1", "ed-ebook", "E-book de Receitas Fáceis", email="x@example.com")
    db.session.commit()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})

    login(page, base, "bia@example.com")
    page.goto(base + "/conta")
    box = page.locator("[data-member-access]")
    text = box.inner_text()
    assert "Área de membros" in text and "Entre com o e-mail da compra." in text
    assert "Grupo VIP da Confeitaria" in text and "convite pessoal" in text
    assert box.locator("a", has_text="Baixar").get_attribute("href").endswith("/p.xlsx")
    assert_fits(page, width)
    page.screenshot(path=shots / f"conta-{width}.png", full_page=True)
    page.context.clear_cookies()  # another person on the same browser

    login(page, base)
    page.goto(base + "/")
    banner = page.locator("[data-unmapped-products]")
    assert "E-book de Receitas Fáceis (Eduzz)" in banner.inner_text()
    assert_fits(page, width)
    page.screenshot(path=shots / f"overview-{width}.png")
    banner.locator("a", has_text="Vincular produtos").click()
    page.wait_for_url(base + "/acessos#vincular")
    assert page.console_errors == []
