"""The Telegram card's "Testar conexão" on /configuracoes, in a browser against the emulator:
a bot that can do everything, then a group where it lacks a right, explained in Portuguese."""

import pytest

from app.extensions import db
from emulator.telegram import DEFAULT_CHAT_ID, DEFAULT_TOKEN
from tests.access_kit import make_item
from tests.clients.conftest import start_emulator  # noqa: F401 - fixture
from tests.conftest import Auth
from tests.e2e.conftest import login, serving
from tests.web.test_telegram import control, tg_config

pytestmark = pytest.mark.browser


@pytest.fixture
def tg_settings_app(app_factory, start_emulator):  # noqa: F811
    emu = start_emulator()
    control(emu, "/config", {"rate_limit": False})
    config = tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID="")
    config.pop("APP_URL")
    with serving(app_factory, **config) as app:
        app.emu = emu
        Auth(app, app.test_client()).create()
        yield app


def press_test(page, base: str):
    page.goto(base + "/configuracoes")
    card = page.locator("section#telegram")
    card.get_by_role("button", name="Testar conexão").click()
    page.wait_for_url(lambda url: "/configuracoes" in url)
    box = page.locator(".alert", has_text="Bot @")
    box.wait_for(timeout=10_000)
    return box


def test_telegram_connection_test_in_the_settings_page(tg_settings_app, page):
    base = tg_settings_app.live_url
    login(page, base)

    box = press_test(page, base)
    text = box.inner_text()
    assert "alert-success" in box.get_attribute("class")
    assert "Bot @vendashub_bot conectado." in text
    assert f"Grupo “Curso X — VIP” ({DEFAULT_CHAT_ID}): o bot é administrador" in text
    assert DEFAULT_TOKEN not in page.content()

    # A product's group on /acessos where the bot may not invite: named by its item.
    control(
        tg_settings_app.emu,
        "/chats",
        {"id": -1010, "title": "Mentoria", "bot": {"can_invite_users": False}},
    )
    make_item("Grupo da Mentoria", kind="telegram", chat_id="-1010")
    db.session.commit()
    box = press_test(page, base)
    text = box.inner_text()
    assert "alert-danger" in box.get_attribute("class")
    assert (
        "Item “Grupo da Mentoria” de Acessos — No grupo “Mentoria” (-1010) falta ao bot: "
        "a permissão de convidar usuários (links de convite)." in text
    )
    assert page.console_errors == []
