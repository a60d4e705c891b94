"""/conta and a sale's page at 1366 and 390 px: the buyer's purchases fit a phone (the Acesso
column on screen, no sideways scroll) and the operator sees what the sale granted."""

import pytest

from app.extensions import db
from app.services import accounts, activation
from app.services.customers import index
from tests.access_kit import buy, make_item, make_member, make_rule, make_sale
from tests.conftest import Auth
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser
LONG = "Formação Completa em Marketing Digital para Pequenos Negócios com Mentoria em Grupo"

SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"


def _seed():
    area = make_item("Área de membros da Formação", instructions="Entre com o e-mail da compra.")
    group = make_item("Grupo VIP da turma", kind="telegram", chat_id="-100555")
    ebook = make_item("E-book de bônus", kind="download", url="https://a.example/bonus.pdf")
    make_rule("hotmart", "formacao", area, group)
    make_rule("kiwify", "bonus", group, ebook)
    user = make_member("bia.compradora.com.nome.comprido@example.com")
    main = make_sale("hotmart", "HP1601547928102299", "formacao", LONG, email=user.email)
    bonus = make_sale("kiwify", "KW-0001", "bonus", "Bônus", email=user.email)
    buy(user, main, bonus)
    bonus.status = "refunded"
    activation.revoke_for_sale(bonus, "refunded")
    accounts.create_user("operador@example.com", Auth.PASSWORD, name="Ana", role="admin")
    db.session.commit()
    index.rebuild()
    db.session.commit()
    return user.email, main.id, bonus.id


@pytest.mark.parametrize("width", [1366, 390])
def test_conta_and_sale_page_fit(live_app, page, width, shots):
    email, main_id, bonus_id = _seed()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})

    login(page, base, email, "senha-segura-123")
    page.goto(base + "/conta")
    page.screenshot(path=shots / f"accessmail-conta-{width}.png", full_page=True)
    assert page.evaluate(SIDEWAYS) <= 0, "/conta scrolls sideways"
    for badge in ("Ativo", "Revogado"):
        box = page.locator("td[data-label='Acesso'] .badge", has_text=badge).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, badge
    page.context.clear_cookies()  # signed out (the phone's navbar hides the button)

    login(page, base)
    page.goto(f"{base}/vendas/{bonus_id}")
    page.screenshot(path=shots / f"accessmail-venda-{width}.png", full_page=True)
    assert page.evaluate(SIDEWAYS) <= 0, "the sale page scrolls sideways"
    card = page.locator("#acessos-da-venda")
    assert "Mantido por outra compra" in card.inner_text()
    assert "Revogado" in card.inner_text() and "E-book de bônus" in card.inner_text()
    box = card.locator("[data-state=kept] .badge").bounding_box()
    assert box["x"] + box["width"] <= width
    page.goto(f"{base}/vendas/{main_id}")
    assert page.evaluate(SIDEWAYS) <= 0
    assert page.locator("#acessos-da-venda [data-state=held]").count() == 2
    page.goto(f"{base}/clientes/sale:{main_id}")
    page.screenshot(path=shots / f"accessmail-cliente-{width}.png", full_page=True)
    assert page.evaluate(SIDEWAYS) <= 0, "the customer page scrolls sideways"
    assert page.locator("#compras [data-access-grant]").count() == 4
    assert page.console_errors == []
