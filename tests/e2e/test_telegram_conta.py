"""The buyer signs up in a browser and /conta shows their personal Telegram invite link."""

import json
import re

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import TelegramInvite
from tests.clients.conftest import start_emulator  # noqa: F401 - fixture
from tests.conftest import load_fixture, signed_request
from tests.e2e.conftest import login, serving
from tests.e2e.test_tables_fit import OVERFLOW
from tests.web.test_telegram import control, tg_config

pytestmark = pytest.mark.browser


@pytest.fixture
def tg_live_app(app_factory, smtp_server, start_emulator):  # noqa: F811
    emu = start_emulator()
    control(emu, "/config", {"rate_limit": False})
    config = tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID="")
    config.pop("APP_URL")
    with serving(app_factory, **config, **smtp_server.config()) as app:
        app.emu = emu
        yield app


@pytest.mark.parametrize("width", [1366, 390])
def test_conta_shows_the_personal_invite_link(tg_live_app, smtp_server, page, width, shots):
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    signed = signed_request("hotmart", raw)
    base = tg_live_app.live_url
    resp = requests.post(
        f"{base}/webhook/hotmart",
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", **signed["headers"]},
    )
    assert resp.json() == {"status": "accepted"}
    mail = smtp_server.text_of(smtp_server.messages[-1])
    assert "Grupo no Telegram" in mail
    path = re.search(r"(/ativar/[A-Za-z0-9_-]+)", mail).group(1)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + path)
    page.fill("#name", "Maria Souza")
    page.fill("#password", "senha-nova-123")
    page.fill("#password_confirm", "senha-nova-123")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/conta")
    card = page.locator("#telegram-groups")
    card.wait_for()
    link = db.session.scalar(select(TelegramInvite.invite_link))
    assert link and link.startswith("https://t.me/+")
    assert page.locator("#telegram-groups input").input_value() == link
    assert card.locator("a", has_text="Entrar no grupo").get_attribute("href") == link
    assert "vale para uma única entrada" in card.inner_text()
    calls = control(tg_live_app.emu)["calls"]
    made = [c for c in calls if c["method"] == "create_chat_invite_link"]
    assert len(made) == 1 and made[0]["params"]["member_limit"] == 1
    page.reload()
    assert page.locator("#telegram-groups input").input_value() == link  # same on reload
    page.screenshot(path=shots / f"conta-telegram-{width}.png", full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.console_errors == []


@pytest.mark.parametrize("width", [1366, 390])
def test_operator_telegram_page(tg_live_app, smtp_server, page, width, shots):
    from app.services import automation_sender
    from tests.conftest import Auth
    from tests.web.test_telegram_access import buy_and_sign_up, join, post_update, refunded

    client, tx = buy_and_sign_up(tg_live_app, smtp_server)
    link = db.session.scalar(select(TelegramInvite.invite_link))
    post_update(client, join(tg_live_app.emu, link, 555)["update"])
    control(tg_live_app.emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    from tests.conftest import WebhookSender

    WebhookSender(client)("hotmart", refunded(tx))
    automation_sender.send_pending()
    Auth(tg_live_app, tg_live_app.test_client()).create()
    base = tg_live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base)
    page.goto(base + "/telegram")
    assert page.locator("[data-removal]").count() == 1
    assert page.locator("#chats td[data-label=Entraram]").inner_text() == "1"  # not removed yet
    assert "Membros que entraram" in page.inner_text("body")
    assert page.locator(".card table.table-stack").count() == 4  # every card shows its list
    assert "Nada enviado ainda" not in page.inner_text("#log")
    page.screenshot(path=shots / f"telegram-page-{width}.png", full_page=True)
    found = page.evaluate(OVERFLOW)  # the lists' own check (tests/e2e/test_tables_fit.py)
    assert found["page"] <= 0, "page scrolls sideways"
    assert found["boxes"] == [], "a table is wider than its box"
    assert found["unlabelled"] == [], "cells without data-label"
    assert page.console_errors == []
