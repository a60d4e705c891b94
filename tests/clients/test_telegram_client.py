"""TelegramClient against the live emulator over HTTP: methods, error mapping, 429
retry_after honoured, the connection test's pt-BR explanations, the token masked in logs."""

from __future__ import annotations

import logging

import pytest
import requests

from app.clients.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from app.clients.telegram import ALLOWED_UPDATES, TelegramClient
from emulator.telegram import BOT, DEFAULT_CHAT_ID, DEFAULT_TOKEN
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401

CHAT = str(DEFAULT_CHAT_ID)


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator()


def control(emu, path: str = "", body: dict | None = None):
    url = f"{emu.url}/_emulator/telegram{path}"
    resp = requests.post(url, json=body, timeout=5) if body is not None else requests.get(url)
    assert resp.status_code < 300, resp.text
    return resp.json()


def client(emu, token: str = DEFAULT_TOKEN, **kw) -> TelegramClient:
    kw.setdefault("retry_delay", 0.01)
    kw.setdefault("sleep", emu.clock.sleep)
    kw.setdefault("clock", emu.clock)
    return TelegramClient(token, f"{emu.url}/telegram", **kw)


def test_get_me_and_chat_methods(emu):
    bot = client(emu)
    assert bot.get_me()["username"] == BOT["username"]
    assert bot.get_chat(CHAT)["type"] == "supergroup"
    member = bot.get_chat_member(CHAT, BOT["id"])
    assert member["status"] == "administrator" and member["can_invite_users"] is True
    assert [a["user"]["id"] for a in bot.get_chat_administrators(CHAT)] == [BOT["id"]]
    message = bot.send_message(CHAT, "Olá")
    assert message["text"] == "Olá" and message["chat"]["id"] == DEFAULT_CHAT_ID


def test_invite_link_ban_and_unban_only_if_banned(emu):
    bot = client(emu)
    link = bot.create_chat_invite_link(
        CHAT, name="membro-42", member_limit=1, expire_date=4102444800
    )
    assert (link["member_limit"], link["name"], link["is_revoked"]) == (1, "membro-42", False)
    joined = control(emu, "/join", {"invite_link": link["invite_link"], "user": {"id": 555}})
    assert joined["update"]["chat_member"]["invite_link"]["invite_link"] == link["invite_link"]
    again = requests.post(
        f"{emu.url}/_emulator/telegram/join",
        json={"invite_link": link["invite_link"], "user": {"id": 556}},
        timeout=5,
    )
    assert again.status_code == 409  # member_limit 1
    assert bot.revoke_chat_invite_link(CHAT, link["invite_link"])["is_revoked"] is True
    assert bot.ban_chat_member(CHAT, 555) is True
    assert bot.get_chat_member(CHAT, 555)["status"] == "kicked"
    assert bot.unban_chat_member(CHAT, 555) is True
    assert bot.get_chat_member(CHAT, 555)["status"] == "left"
    calls = [c for c in control(emu)["calls"] if c["method"] == "unban_chat_member"]
    assert calls[0]["params"]["only_if_banned"] is True


def test_webhook_methods_send_secret_and_chat_member(emu):
    bot = client(emu)
    assert bot.set_webhook("https://hub.example.com/webhook/telegram", secret_token="s3cr_et-1")
    info = bot.get_webhook_info()
    assert info["url"] == "https://hub.example.com/webhook/telegram"
    assert info["allowed_updates"] == list(ALLOWED_UPDATES)
    assert control(emu)["webhook"]["secret_token"] == "s3cr_et-1"
    assert bot.delete_webhook() is True
    assert bot.get_webhook_info()["url"] == ""


def test_errors_are_mapped(emu):
    with pytest.raises(AuthenticationError) as bad:
        client(emu, token="123:wrong-token-value").get_me()
    assert bad.value.status == 401 and "Unauthorized" in bad.value.message
    assert "wrong-token-value" not in bad.value.message and "wrong-token-value" not in (
        bad.value.url or ""
    )
    with pytest.raises(NotFoundError) as missing:
        client(emu).get_chat("-100999")
    assert "chat not found" in missing.value.message
    control(
        emu, "/chats", {"id": -1002, "title": "Sem direitos", "bot": {"can_invite_users": False}}
    )
    with pytest.raises(PermissionDeniedError):
        client(emu).create_chat_invite_link("-1002", member_limit=1)


def test_429_waits_retry_after_before_retrying(emu):
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 7}})
    bot = client(emu, retry_attempts=2)
    assert bot.get_me()["id"] == BOT["id"]
    assert any(wait >= 7 for wait in emu.clock.slept)  # paused the budget for retry_after
    assert [c["method"] for c in control(emu)["calls"]] == ["get_me", "get_me"]


def test_429_longer_than_allowed_is_raised_with_retry_after(emu):
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 35}})
    with pytest.raises(RateLimitError) as exc:
        client(emu, max_retry_after=5).send_message(CHAT, "oi")
    assert exc.value.retry_after == 35
    assert len(control(emu)["calls"]) == 1  # no retry before retry_after


def test_emulator_rate_limit_per_chat(emu):
    bot = client(emu, retry_attempts=0)
    bot.send_message(CHAT, "1")
    with pytest.raises(RateLimitError) as exc:
        bot.send_message(CHAT, "2")
    assert exc.value.retry_after >= 1


def test_connection_test_explains_each_chat(emu):
    control(emu, "/chats", {"id": -1003, "title": "Só membro", "bot": {"status": "member"}})
    control(
        emu,
        "/chats",
        {"id": -1004, "title": "Sem banir", "bot": {"can_restrict_members": False}},
    )
    ok = client(emu).test_connection((CHAT,))
    assert ok.success and "@vendashub_bot" in ok.message and "pode convidar" in ok.message
    result = client(emu).test_connection((CHAT, "-1003", "-1004", "-100777"))
    assert not result.success and result.code == "chat_problem"
    assert "O bot não é administrador do grupo “Só membro”" in result.message
    assert "falta ao bot: a permissão de banir" in result.message
    assert "O grupo -100777 não foi encontrado" in result.message
    assert len(result.lines) == 5  # the bot, then one line per group
    assert result.lines[3] == (
        "No grupo “Sem banir” (-1004) falta ao bot: a permissão de banir usuários (remover quem "
        "teve reembolso, chargeback ou cancelamento). No Telegram, abra o grupo › "
        "Administradores › @vendashub_bot e ative “Banir usuários”."
    )
    assert result.as_dict()["lines"] == list(result.lines)
    bad = client(emu, token="1:nope-nope").test_connection((CHAT,))
    assert (bad.success, bad.code) == (False, "invalid_credentials")
    assert "token do bot" in bad.message


def test_token_never_in_logs(emu, caplog):
    caplog.set_level(logging.DEBUG)
    bot = client(emu)
    bot.get_me()
    with pytest.raises(NotFoundError):
        bot.get_chat("-1")
    assert DEFAULT_TOKEN not in caplog.text
    assert "/bot" in caplog.text


def test_emulator_cli_makes_a_user_join(emu, capsys):
    from emulator.__main__ import main

    link = client(emu).create_chat_invite_link(CHAT, member_limit=1)["invite_link"]
    assert main(["telegram-join", emu.url, link, "--user-id", "901", "--username", "cli"]) == 0
    out = capsys.readouterr().out
    assert "HTTP 200" in out and '"chat_member"' in out and "no webhook set" in out
    members = next(c for c in control(emu)["chats"] if c["id"] == DEFAULT_CHAT_ID)["members"]
    assert members["901"]["status"] == "member"
