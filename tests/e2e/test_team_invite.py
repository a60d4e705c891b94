"""The owner invites an operator from the Equipe page: the invite e-mail arrives at a real SMTP
server, the invitee opens its link in another browser, chooses a name and a password and lands
on the dashboard; the Equipe page fits a laptop and a phone; a read-only operator's buttons
are disabled."""

import re

import pytest

from app.models import OPERATOR_READ_ONLY
from tests.conftest import Auth
from tests.e2e.conftest import login
from tests.e2e.test_tables_fit import OVERFLOW

pytestmark = pytest.mark.browser


def _fits(page, width, label):
    page.set_viewport_size({"width": width, "height": 900})
    found = page.evaluate(OVERFLOW)
    assert found["page"] <= 0, (label, width, "page scrolls sideways")
    assert found["boxes"] == [], (label, width, "a table is wider than its box")
    assert found["unlabelled"] == [], (label, "cells without data-label")


def test_owner_invites_an_operator_who_signs_up_from_the_email(live_app, page, smtp_server, shots):
    Auth(live_app, live_app.test_client()).create()  # the owner (as /setup makes it)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    assert page.locator("nav.navbar").bounding_box()["height"] < 70  # still one line

    page.locator("#nav-user").click()  # the user menu, beside the settings
    page.locator(".dropdown-menu a", has_text="Equipe").click()
    page.wait_for_url(base + "/equipe")
    page.fill("#email", "nova.operadora@example.com")
    page.select_option("#role", label="Operador")
    page.locator("button", has_text="Enviar convite").click()
    page.wait_for_selector("[data-invite-link]")
    page.wait_for_url(base + "/equipe")  # reloading does not invite again
    shown = page.locator("#invite-link").input_value()
    assert "/convite/" in shown
    assert page.locator("[data-invite='nova.operadora@example.com']").count() == 1
    for width in (1366, 390):
        _fits(page, width, "/equipe")
        page.screenshot(path=shots / f"equipe-{width}.png", full_page=True)

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "nova.operadora@example.com"
    assert message["Subject"] == "Convite para a equipe do Vendas Hub"
    link = re.search(
        r"(http://127\.0\.0\.1:\d+/convite/[A-Za-z0-9_-]+)", smtp_server.text_of(message)
    )
    assert link and link.group(1) == shown

    invitee = page.context.browser.new_context(locale="pt-BR").new_page()
    invitee.set_viewport_size({"width": 390, "height": 900})
    invitee.goto(link.group(1))
    assert "nova.operadora@example.com" in invitee.locator("main").inner_text()
    invitee.fill("#name", "Nova Operadora")
    invitee.fill("#password", "senha-nova-123")
    invitee.fill("#password_confirm", "senha-nova-123")
    invitee.locator("button", has_text="Criar minha conta").click()
    invitee.wait_for_url(base + "/")
    assert "Bem-vindo à equipe, Nova Operadora!" in invitee.locator("main").inner_text()
    assert invitee.locator("h1").first.is_visible()

    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base + "/equipe")
    row = page.locator("[data-operator='nova.operadora@example.com']")
    assert "Operador" in row.inner_text() and "Ativo" in row.inner_text()
    assert page.console_errors == []


def test_a_read_only_operator_sees_disabled_buttons(live_app, page):
    from app.extensions import db
    from app.services import accounts

    Auth(live_app, live_app.test_client()).create()
    accounts.create_operator(
        "leitor@example.com", Auth.PASSWORD, "Lia", operator_role=OPERATOR_READ_ONLY
    )
    db.session.commit()
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base, email="leitor@example.com")
    assert page.locator("[data-read-only-banner]").is_visible()
    page.goto(base + "/configuracoes")
    assert page.locator("button", has_text="Salvar Hotmart").first.is_disabled()
    page.goto(base + "/webhooks")
    buttons = page.evaluate(
        "() => [...document.querySelectorAll('form[method=post]:not([data-read-only-ok]) "
        "button')].map((b) => b.disabled)"
    )
    assert buttons and all(buttons)  # e.g. "Enviar webhook de teste"
    page.goto(base + "/conta")
    assert page.locator("form[data-read-only-ok] button").first.is_enabled()  # own password
    assert page.locator("nav button", has_text="Sair").is_enabled()
    assert page.console_errors == []
