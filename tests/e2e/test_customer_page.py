"""The customer page opened from the navbar search, at 1366 px (one-line navbar) and 390 px
(stacked, nothing to swipe sideways)."""

from __future__ import annotations

from datetime import date

import pytest

from app.extensions import db
from app.models import GcClient, GcSale, KommoContact, KommoLead
from tests.conftest import Auth, WebhookSender
from tests.e2e.conftest import login, open_menu

pytestmark = pytest.mark.browser


def _fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def _seed(app):
    assert WebhookSender(app.test_client())("hotmart", "purchase_approved").status_code == 200
    db.session.add(KommoContact(remote_id=501, name="Maria S.", email="maria@example.com"))
    db.session.add(
        KommoLead(
            remote_id=9001,
            name="Mentoria anual",
            price=1500,
            currency="BRL",
            contact_id=501,
            is_won=True,
        )
    )
    db.session.add(GcClient(remote_id="7001", nome="Maria Souza ME", cpf_cnpj="00000000191"))
    db.session.add(
        GcSale(
            remote_id="8001",
            codigo="PED-8001",
            cliente_id="7001",
            data=date(2026, 11, 2),
            valor_total_cents=45990,
        )
    )
    db.session.commit()
    Auth(app, app.test_client()).create()


def _search_and_open(page, base, q):
    page.click("#nav-customer-search")
    page.fill("#nav-q", q)
    page.press("#nav-q", "Enter")
    page.wait_for_url("**/clientes?q=*")
    page.locator("[data-customer-hit]").first.click()
    page.wait_for_url("**/clientes/*")
    assert "Maria Souza" in page.locator("[data-customer-name]").inner_text()
    assert page.locator("[data-customer-sale]").count() == 1
    assert "Mentoria anual" in page.locator("#kommo").inner_text()
    assert "PED-8001" in page.locator("#gestao-click").inner_text()


def test_customer_page_from_the_navbar_search(live_app, page, tmp_path):
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    nav = page.locator("nav.navbar").bounding_box()
    assert nav["height"] < 70  # the search icon keeps the bar on one line
    _search_and_open(page, base, "maria@example")
    page.screenshot(path=str(tmp_path / "cliente-1366.png"), full_page=True)
    assert _fits(page)
    kommo = page.locator("#kommo").bounding_box()
    gc = page.locator("#gestao-click").bounding_box()
    assert abs(kommo["y"] - gc["y"]) < 2  # side by side on a wide screen

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    open_menu(page)
    _search_and_open(page, base, "000.000.001-91")
    page.screenshot(path=str(tmp_path / "cliente-390.png"), full_page=True)
    assert _fits(page)
    compras = page.locator("#compras").bounding_box()
    kommo = page.locator("#kommo").bounding_box()
    gc = page.locator("#gestao-click").bounding_box()
    assert compras["y"] < kommo["y"] < gc["y"]  # stacked
    assert gc["x"] >= 0 and gc["x"] + gc["width"] <= 390
    assert page.console_errors == []
