"""Telegram access over HTTP against the live emulator (issue 15): approval → signup → /conta
shows a personal invite link (member_limit 1) for the default chat; a chat_member update links
the Telegram user; a refund bans + unbans exactly that user and revokes unused links; a 429 is
retried only after retry_after; the bot token never reaches the logs.

Written against the default ``TELEGRAM_CHAT_ID``, so they hold with the access catalogue's stub
and with the real catalogue (every product falls back to the default chat)."""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, text, update

from app.extensions import db
from app.models import (
    AutomationDelivery,
    OutboxEmail,
    TelegramInvite,
    TelegramMember,
    User,
    WebhookEvent,
)
from app.models.automation import DELIVERY_PENDING, DELIVERY_SENT
from app.models.telegram import INVITE_ACTIVE, INVITE_REVOKED, INVITE_USED
from app.models.types import utcnow
from app.services import automation_sender
from emulator.telegram import DEFAULT_CHAT_ID, DEFAULT_TOKEN
from tests.clients.conftest import start_emulator  # noqa: F401 - fixture
from tests.conftest import Auth, WebhookSender, csrf_token, load_fixture
from tests.web.test_telegram import (  # noqa: F401 - fixtures
    approved,
    control,
    emu,
    post_update,
    refunded,
    tg_config,
)

PASSWORD = "senha-nova-123"
CHAT = str(DEFAULT_CHAT_ID)


@pytest.fixture
def access_app(app_factory, emu, smtp_server):  # noqa: F811
    app = app_factory(**tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID=""), **smtp_server.config())
    with app.app_context():
        yield app


def calls(emu, method: str, status: int = 200) -> list[dict]:  # noqa: F811
    """The Bot API calls of ``method`` the emulator answered with ``status``."""
    wanted = method.lower()
    return [
        c["params"]
        for c in control(emu)["calls"]
        if c["method"].replace("_", "") == wanted and c["status"] == status
    ]


def buy_and_sign_up(app, smtp_server, body=None, group: str = "Grupo no Telegram") -> tuple:
    """A Hotmart approval, then the buyer's signup through the e-mailed link (``group``: how
    the activation e-mail names the Telegram group)."""
    client = app.test_client()
    body = body or approved()
    assert WebhookSender(client)("hotmart", body).status_code == 200
    mail = smtp_server.text_of(smtp_server.messages[-1])
    assert group in mail and "/conta" in mail  # the activation e-mail says so
    path = re.search(r"https?://[^/\s]+(/ativar/[A-Za-z0-9_-]+)", mail).group(1)
    resp = client.post(
        path,
        data={
            "name": "Maria Souza",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "csrf_token": csrf_token(client, path),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client, body["data"]["purchase"]["transaction"]


def the_invite() -> TelegramInvite:
    db.session.expire_all()
    return db.session.scalar(select(TelegramInvite))


def join(emu, link: str, user_id: int = 555):  # noqa: F811
    return control(
        emu, "/join", {"invite_link": link, "user": {"id": user_id, "first_name": "Ana"}}
    )


def test_signup_makes_a_personal_link_shown_on_every_reload(access_app, emu, smtp_server):  # noqa: F811
    client, _ = buy_and_sign_up(access_app, smtp_server)
    # Created through the outbox right after the signup's commit, before /conta is opened.
    [made] = calls(emu, "createChatInviteLink")
    assert made["member_limit"] == 1 and str(made["chat_id"]) == CHAT
    assert made["name"] == f"Maria Souza #{db.session.scalar(select(User.id))}"
    assert made["expire_date"] > utcnow().timestamp() + 6 * 86400
    invite = the_invite()
    assert invite.status == INVITE_ACTIVE and invite.invite_link.startswith("https://t.me/+")
    [delivery] = db.session.scalars(select(AutomationDelivery)).all()
    assert (delivery.target, delivery.step, delivery.status) == (
        "telegram_access",
        "invite",
        DELIVERY_SENT,
    )
    first = client.get("/conta").get_data(as_text=True)
    assert "Grupos no Telegram" in first and invite.invite_link in first
    assert "Entrar no grupo" in first
    again = client.get("/conta").get_data(as_text=True)
    assert invite.invite_link in again
    assert len(calls(emu, "createChatInviteLink")) == 1  # the same link on every reload
    link = next(x for x in control(emu)["links"] if x["invite_link"] == invite.invite_link)
    assert link["member_limit"] == 1 and link["is_revoked"] is False


def test_a_join_through_the_link_records_the_members_telegram_user(access_app, emu, smtp_server):  # noqa: F811
    client, _ = buy_and_sign_up(access_app, smtp_server)
    invite = the_invite()
    joined = join(emu, invite.invite_link, 555)
    assert post_update(client, joined["update"]).status_code == 200
    invite = the_invite()
    assert invite.telegram_user_id == 555 and invite.status == INVITE_USED
    first_link = invite.invite_link
    page = client.get("/conta").get_data(as_text=True)
    assert "Você entrou" in page and "Gerar novo link" not in page
    # no access item names the group: the title Telegram gave it (seen in the join) does
    assert '<h3 class="h6 mb-1">Curso X — VIP</h3>' in page
    # While 555 is in the group a second link would let another account in that a removal
    # would not know: refused.
    refused = client.post(
        "/conta/telegram/novo-link",
        data={"chat": CHAT, "csrf_token": csrf_token(client, "/conta")},
        follow_redirects=True,
    )
    assert "Você já está no grupo" in refused.get_data(as_text=True)
    assert the_invite().invite_link == first_link
    left = copy.deepcopy(joined["update"])
    left["update_id"] += 1000
    left["chat_member"]["old_chat_member"] = left["chat_member"]["new_chat_member"]
    left["chat_member"]["new_chat_member"] = {
        **left["chat_member"]["new_chat_member"],
        "status": "left",
    }
    left["chat_member"].pop("invite_link", None)
    assert post_update(client, left).status_code == 200
    page = client.get("/conta").get_data(as_text=True)
    assert "Você saiu do grupo" in page and "Gerar novo link" in page
    # "Gerar novo link" (CSRF) once they left: a new link, shown from then on.
    resp = client.post(
        "/conta/telegram/novo-link",
        data={"chat": CHAT, "csrf_token": csrf_token(client, "/conta")},
        follow_redirects=True,
    )
    assert "Novo link gerado" in resp.get_data(as_text=True)
    renewed = the_invite()
    assert renewed.invite_link != first_link and renewed.status == INVITE_ACTIVE
    assert renewed.telegram_user_id == 555  # still known for a later removal
    assert client.post("/conta/telegram/novo-link", data={"chat": CHAT}).status_code == 400
    still = client.post(
        "/conta/telegram/novo-link",
        data={"chat": CHAT, "csrf_token": csrf_token(client, "/conta")},
        follow_redirects=True,
    )
    assert "ainda vale" in still.get_data(as_text=True)
    assert the_invite().invite_link == renewed.invite_link


def test_an_expired_unused_link_is_replaced_on_conta_without_a_button(
    access_app,
    emu,  # noqa: F811
    smtp_server,
):
    """The member never sees a dead link nor has to ask: /conta shows a fresh one."""
    client, _ = buy_and_sign_up(access_app, smtp_server)
    old = the_invite()
    old_link, generation = old.invite_link, old.generation
    db.session.execute(
        update(TelegramInvite)
        .where(TelegramInvite.id == old.id)
        .values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    page = client.get("/conta").get_data(as_text=True)
    renewed = the_invite()
    assert renewed.invite_link and renewed.invite_link != old_link
    assert renewed.generation == generation + 1 and renewed.status == INVITE_ACTIVE
    assert renewed.expires_at > utcnow() + timedelta(days=6)
    assert renewed.invite_link in page and old_link not in page
    assert "Entrar no grupo" in page and "Seu link de entrada" in page
    assert "Link expirado" not in page and "Gerar novo link" not in page
    made = calls(emu, "createChatInviteLink")
    assert len(made) == 2 and made[1]["member_limit"] == 1
    assert renewed.invite_link in client.get("/conta").get_data(as_text=True)  # kept on reload
    assert len(calls(emu, "createChatInviteLink")) == 2


def test_an_expired_link_while_telegram_is_down_says_why(access_app, emu, smtp_server):  # noqa: F811
    client, _ = buy_and_sign_up(access_app, smtp_server)
    old = the_invite()
    old_link = old.invite_link
    db.session.execute(
        update(TelegramInvite)
        .where(TelegramInvite.id == old.id)
        .values(expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    control(emu, "/config", {"token": "another-token"})  # the bot's token no longer answers
    page = client.get("/conta").get_data(as_text=True)
    assert "Não conseguimos gerar seu link de entrada agora" in page
    assert old_link not in page and "Entrar no grupo" not in page
    assert "Link expirado" not in page


def test_a_refund_removes_from_the_group_joined_even_after_the_settings_changed(
    access_app,
    emu,  # noqa: F811
    smtp_server,
):
    client, tx = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 555)["update"])
    # The operator points the products at another group after the purchase.
    access_app.config["TELEGRAM_CHAT_ID"] = "-100777"
    access_app.extensions.pop("vendas_settings_cache", None)
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    bans = calls(emu, "banChatMember")
    assert [(str(b["chat_id"]), b["user_id"]) for b in bans] == [(CHAT, 555)]


def test_refund_bans_then_unbans_exactly_that_user(access_app, emu, smtp_server):  # noqa: F811
    client, tx = buy_and_sign_up(access_app, smtp_server)
    invite = the_invite()
    post_update(client, join(emu, invite.invite_link, 555)["update"])
    post_update(client, join(emu, _other_link(), 999)["update"])  # someone else in the group
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    bans, unbans = calls(emu, "banChatMember"), calls(emu, "unbanChatMember")
    assert [(str(b["chat_id"]), b["user_id"]) for b in bans] == [(CHAT, 555)]
    assert [(str(u["chat_id"]), u["user_id"], u["only_if_banned"]) for u in unbans] == [
        (CHAT, 555, True)
    ]
    chat = next(c for c in control(emu)["chats"] if c["id"] == DEFAULT_CHAT_ID)
    assert chat["members"]["555"]["status"] == "left"  # out, and may rejoin after a new purchase
    assert chat["members"]["999"]["status"] == "member"
    invite = the_invite()
    assert invite.status == INVITE_REVOKED and invite.removed_at is not None
    [removal] = db.session.scalars(
        select(AutomationDelivery).where(AutomationDelivery.step == "remove")
    ).all()
    assert removal.status == DELIVERY_SENT and removal.payload["unbanned"] is True
    # A replayed refund and another sender run: never a second removal.
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    automation_sender.send_pending()
    assert len(calls(emu, "banChatMember")) == 1
    assert "Grupos no Telegram" not in client.get("/conta").get_data(as_text=True)
    operator = access_app.test_client()
    Auth(access_app, operator).operator()
    assert client.get("/telegram").status_code == 403  # a member: not the operator's page
    page = operator.get("/telegram").get_data(as_text=True)
    assert "Membros que entraram" in page and "bia.tg@example.com" in page
    members = page.split("Membros que entraram", 1)[1].split("</table>", 1)[0]
    assert '<td data-label="Grupo">Curso X — VIP <div class="small' in members
    assert "Removido" in page and "Telegram: remoção do membro do grupo" in page
    assert "Nenhuma remoção pendente" in page and DEFAULT_TOKEN not in page


def _other_link() -> str:
    from app.services import telegram

    with telegram.client() as bot:
        return bot.create_chat_invite_link(CHAT, member_limit=1)["invite_link"]


def test_refund_before_joining_revokes_the_unused_link(access_app, emu, smtp_server):  # noqa: F811
    client, tx = buy_and_sign_up(access_app, smtp_server)
    link = the_invite().invite_link
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    assert [r["invite_link"] for r in calls(emu, "revokeChatInviteLink")] == [link]
    assert calls(emu, "banChatMember") == []  # nobody joined: nobody to remove
    assert next(x for x in control(emu)["links"] if x["invite_link"] == link)["is_revoked"]
    assert the_invite().status == INVITE_REVOKED


def test_a_second_purchase_keeps_the_group_and_a_new_one_gives_a_new_link(
    access_app,
    emu,  # noqa: F811
    smtp_server,
):
    client, tx = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 555)["update"])
    second = approved()
    assert WebhookSender(client)("hotmart", second).status_code == 200  # "compra adicionada"
    mail = smtp_server.text_of(smtp_server.messages[-1])
    assert "Compra adicionada" in smtp_server.messages[-1]["Subject"]
    assert "Grupo no Telegram" in mail
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    assert calls(emu, "banChatMember") == []  # still in the group through the second purchase
    assert WebhookSender(client)("hotmart", refunded(second["data"]["purchase"]["transaction"]))
    assert [b["user_id"] for b in calls(emu, "banChatMember")] == [555]
    old = the_invite().invite_link
    third = approved()
    assert WebhookSender(client)("hotmart", third).status_code == 200
    invite = the_invite()
    assert invite.status == INVITE_ACTIVE and invite.invite_link != old and invite.generation == 2
    assert invite.invite_link in client.get("/conta").get_data(as_text=True)


def test_429_is_retried_only_after_retry_after(access_app, emu, smtp_server):  # noqa: F811
    client, tx = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 555)["update"])
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    db.session.expire_all()
    [removal] = db.session.scalars(
        select(AutomationDelivery).where(AutomationDelivery.step == "remove")
    ).all()
    assert removal.status == DELIVERY_PENDING and "40" in removal.last_error
    assert (removal.next_attempt_at - utcnow()).total_seconds() > 35
    operator = access_app.test_client()
    Auth(access_app, operator).operator()
    page = operator.get("/telegram").get_data(as_text=True)
    assert "Remoções pendentes" in page and f'data-removal="{removal.id}"' in page
    # the group by its name, as the Grupos table shows it, with the id in small text
    row = page.split(f'data-removal="{removal.id}"', 1)[1].split("</tr>", 1)[0]
    assert (
        '<td data-label="Grupo">Curso X — VIP <div class="small text-secondary font-monospace">'
        f"{CHAT}</div></td>" in row
    )
    before = len(control(emu)["calls"])
    automation_sender.send_pending()  # not due: nothing is sent to Telegram
    assert len(control(emu)["calls"]) == before
    # 40 seconds later (the row and the bot's shared pause both move back in time):
    _travel(removal, seconds=41)
    automation_sender.send_pending()
    db.session.expire_all()
    assert db.session.get(AutomationDelivery, removal.id).status == DELIVERY_SENT
    assert [b["user_id"] for b in calls(emu, "banChatMember")] == [555]
    assert [u["user_id"] for u in calls(emu, "unbanChatMember")] == [555]
    assert len(calls(emu, "banChatMember", status=429)) == 1  # the refused try, 40 s earlier


def _travel(removal: AutomationDelivery, seconds: float) -> None:
    db.session.execute(
        update(AutomationDelivery)
        .where(AutomationDelivery.id == removal.id)
        .values(next_attempt_at=removal.next_attempt_at - timedelta(seconds=seconds))
    )
    db.session.execute(
        text("UPDATE rate_budgets SET paused_until = paused_until - :s, next_slot = 0"),
        {"s": seconds},
    )
    db.session.commit()


def test_conta_tells_plainly_when_telegram_is_down(app_factory, emu, smtp_server, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    app = app_factory(
        **tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID=""),
        **smtp_server.config(),
    )
    with app.app_context():
        control(emu, "/config", {"flood": {"count": 2, "retry_after": 30}})
        client, _ = buy_and_sign_up(app, smtp_server)  # the outbox's try: a 429, deferred
        from app.clients.budget import process_store

        db.session.execute(text("UPDATE rate_budgets SET paused_until = 0"))
        db.session.commit()
        process_store.reset()
        page = client.get("/conta")  # the on-demand try: another 429
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "Não conseguimos gerar seu link de entrada agora" in body
        assert the_invite().invite_link is None
        db.session.execute(text("UPDATE rate_budgets SET paused_until = 0"))  # 30 s later
        db.session.commit()
        later = client.get("/conta").get_data(as_text=True)  # Telegram answers again
        invite = the_invite()
        assert invite.invite_link and invite.invite_link in later
    assert DEFAULT_TOKEN not in caplog.text
    assert "AAHtestEmulatorTelegramToken" not in caplog.text


def test_the_bot_token_never_appears_in_logs(access_app, emu, smtp_server, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    client, tx = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 555)["update"])
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200
    assert calls(emu, "banChatMember")
    assert DEFAULT_TOKEN not in caplog.text
    assert DEFAULT_TOKEN.split(":", 1)[1] not in caplog.text
    emails = db.session.scalars(select(OutboxEmail.body_text)).all()
    assert all(DEFAULT_TOKEN not in e for e in emails)


def test_a_late_join_through_a_revoked_access_is_removed(access_app, emu, smtp_server):  # noqa: F811
    client, tx = buy_and_sign_up(access_app, smtp_server)
    link = the_invite().invite_link
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    assert WebhookSender(client)("hotmart", refunded(tx)).status_code == 200  # removal waits
    joined = join(emu, link, 777)  # the member got in before the link was revoked
    assert post_update(client, joined["update"]).status_code == 200
    db.session.expire_all()
    rows = db.session.scalars(
        select(AutomationDelivery).where(AutomationDelivery.step == "remove")
    ).all()
    [row] = rows  # the refund's removal, still waiting, takes the new user
    _travel(row, seconds=41)
    automation_sender.send_pending()
    assert [b["user_id"] for b in calls(emu, "banChatMember")] == [777]  # once, not twice
    # A join through the revoked access after its removal: removed once more.
    control(emu, "/join", {"invite_link": _other_link(), "user": {"id": 1}})
    the_invite()
    db.session.execute(
        update(TelegramInvite).values(invite_link="https://t.me/+late", status=INVITE_REVOKED)
    )
    db.session.commit()
    update_body = join(emu, _other_link(), 778)["update"]
    update_body["chat_member"]["invite_link"]["invite_link"] = "https://t.me/+late"
    assert post_update(client, update_body).status_code == 200
    assert [b["user_id"] for b in calls(emu, "banChatMember")] == [777, 778]
    late = db.session.scalar(
        select(AutomationDelivery).where(AutomationDelivery.dedupe_key.like("%late%"))
    )
    assert late.status == DELIVERY_SENT and late.payload["telegram_user_id"] == 778


def test_a_subscriptions_paid_period_ending_removes_the_member(access_app, emu, smtp_server):  # noqa: F811
    from app.models import Access
    from app.services import activation

    client, _ = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 556)["update"])
    db.session.execute(update(Access).values(access_until=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert activation.end_lapsed_access() == 1
    db.session.commit()  # the job's commit: the removal goes out right after it
    assert [b["user_id"] for b in calls(emu, "banChatMember")] == [556]
    assert the_invite().status == INVITE_REVOKED


def test_the_link_is_named_after_the_member_within_telegrams_32_characters():
    from app.services.telegram_access import link_name

    long = User(id=123456, email="x@example.com", name="Maria Aparecida dos Santos Oliveira")
    assert link_name(long) == "Maria Aparecida dos Sant #123456" and len(link_name(long)) <= 32
    assert link_name(User(id=7, email="joao.silva@example.com", name=None)) == "joao.silva #7"


def test_conta_reloads_while_telegram_times_out_ask_once_a_minute(access_app, monkeypatch):
    """A timeout or 5xx on the on-demand link: the next reloads within a minute don't call
    Telegram again (the outbox keeps trying), so they never spend the removals' budget."""
    from app.clients.errors import UpstreamError
    from app.models import TelegramInvite
    from app.services import telegram, telegram_access

    user = User(email="lento.tg@example.com", name="Lento", role="member", password_hash="x")
    db.session.add(user)
    db.session.flush()
    row = TelegramInvite(user_id=user.id, chat_id=CHAT)
    db.session.add(row)
    db.session.commit()
    tries = []

    class Down:
        def __enter__(self):
            tries.append(1)
            raise UpstreamError("Telegram fora do ar")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(telegram, "client", lambda **options: Down())
    assert telegram_access._create_now(row, user) == telegram_access.MSG_UNAVAILABLE
    row = db.session.get(TelegramInvite, row.id)
    assert telegram_access._create_now(row, user) == telegram_access.MSG_UNAVAILABLE
    assert len(tries) == 1
    monkeypatch.setattr(telegram_access, "ON_DEMAND_PAUSE", 0.0)
    telegram_access._create_now(row, user)
    assert len(tries) == 2


def test_each_product_has_its_own_chat_and_a_refund_leaves_only_its_own(
    access_app,
    emu,  # noqa: F811
    smtp_server,
):
    """Product A → chat X, product B → chat Y (telegram items on /acessos): the member gets a
    link to each and joins both; the refund of A removes them from X only."""
    from tests.access_kit import make_item, make_rule

    x, y = "-1011", "-1012"
    control(emu, "/chats", {"id": int(x), "title": "Curso A — VIP"})
    control(emu, "/chats", {"id": int(y), "title": "Curso B — VIP"})
    make_rule("hotmart", "ucode-a", make_item("Grupo do Curso A", kind="telegram", chat_id=x))
    make_rule("hotmart", "ucode-b", make_item("Grupo do Curso B", kind="telegram", chat_id=y))
    db.session.commit()

    def purchase(ucode: str, name: str) -> dict:
        body = approved()
        body["data"]["product"].update({"ucode": ucode, "name": name})
        return body

    first = purchase("ucode-a", "Curso A")
    client, tx_a = buy_and_sign_up(access_app, smtp_server, first, group="Grupo do Curso A")
    second = purchase("ucode-b", "Curso B")
    assert WebhookSender(client)("hotmart", second).status_code == 200  # "compra adicionada"
    db.session.expire_all()
    invites = {i.chat_id: i for i in db.session.scalars(select(TelegramInvite))}
    assert set(invites) == {x, y}  # never the default chat: both products are mapped
    made = sorted(str(c["chat_id"]) for c in calls(emu, "createChatInviteLink"))
    assert made == sorted([x, y])
    page = client.get("/conta").get_data(as_text=True)
    assert "Grupo do Curso A" in page and "Grupo do Curso B" in page
    assert invites[x].invite_link in page and invites[y].invite_link in page
    for chat_id in (x, y):
        assert post_update(client, join(emu, invites[chat_id].invite_link, 555)["update"])
    db.session.expire_all()
    assert {i.status for i in db.session.scalars(select(TelegramInvite))} == {INVITE_USED}

    assert WebhookSender(client)("hotmart", refunded(tx_a)).status_code == 200
    bans = calls(emu, "banChatMember")
    assert [(str(b["chat_id"]), b["user_id"]) for b in bans] == [(x, 555)]
    assert [str(u["chat_id"]) for u in calls(emu, "unbanChatMember")] == [x]
    db.session.expire_all()
    invites = {i.chat_id: i for i in db.session.scalars(select(TelegramInvite))}
    assert invites[x].status == INVITE_REVOKED and invites[x].removed_at is not None
    assert invites[y].status == INVITE_USED and invites[y].removed_at is None
    chats = {c["id"]: c for c in control(emu)["chats"]}
    assert chats[int(x)]["members"]["555"]["status"] == "left"
    assert chats[int(y)]["members"]["555"]["status"] == "member"
    page = client.get("/conta").get_data(as_text=True)
    assert "Grupo do Curso B" in page and "Grupo do Curso A" not in page


@contextmanager
def served(app):
    """``app`` on a real port with its webhook registered in the emulator, so the updates
    Telegram sends by itself (a ban's ``kicked``, an unban's ``left``) reach it over HTTP."""
    from werkzeug.serving import make_server

    from app.services import telegram

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app.config["APP_URL"] = f"http://127.0.0.1:{server.server_port}"
        ok, message = telegram.set_webhook()
        assert ok, message
        yield
    finally:
        server.shutdown()
        server.server_close()


def wait_for_deliveries(emu, count: int) -> list[dict]:  # noqa: F811
    """The emulator posts ban/unban updates after answering, from its own thread."""
    for _ in range(200):
        deliveries = control(emu)["deliveries"]
        if len(deliveries) >= count:
            return deliveries
        time.sleep(0.05)
    raise AssertionError(f"the emulator posted {control(emu)['deliveries']}")


def revoked(tx: str, fixture: str) -> dict:
    body = refunded(tx)
    other = copy.deepcopy(load_fixture("hotmart", fixture))
    other["id"], other["data"]["buyer"], other["data"]["purchase"]["transaction"] = (
        body["id"],
        body["data"]["buyer"],
        tx,
    )
    return other


@pytest.mark.parametrize("fixture", ["purchase_chargeback", "purchase_canceled"])
def test_a_chargeback_or_a_cancellation_removes_the_member_and_telegram_says_so(
    access_app,
    emu,  # noqa: F811
    smtp_server,
    fixture,
):
    other = _other_link()
    with served(access_app):
        client, tx = buy_and_sign_up(access_app, smtp_server)
        assert join(emu, the_invite().invite_link, 555)["webhook"] == {
            "delivered": True,
            "status": 200,
        }
        join(emu, other, 999)  # someone else in the group
        assert WebhookSender(client)("hotmart", revoked(tx, fixture)).status_code == 200
        bans = calls(emu, "banChatMember")
        assert [(str(b["chat_id"]), b["user_id"]) for b in bans] == [(CHAT, 555)]
        unbans = calls(emu, "unbanChatMember")
        assert [(u["user_id"], u["only_if_banned"]) for u in unbans] == [(555, True)]
        deliveries = wait_for_deliveries(emu, 2)
    assert [d["status"] for d in deliveries] == [200, 200]
    sent = [u["chat_member"] for u in control(emu)["updates"]][-2:]
    assert [(u["old_chat_member"]["status"], u["new_chat_member"]["status"]) for u in sent] == [
        ("member", "kicked"),
        ("kicked", "left"),
    ]
    assert {u["from"]["username"] for u in sent} == {"vendashub_bot"}
    db.session.expire_all()
    members = {m.user_id: m.status for m in db.session.scalars(select(TelegramMember))}
    assert members == {555: "left", 999: "member"}
    invite = the_invite()
    assert invite.status == INVITE_REVOKED and invite.removed_at is not None
    events = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.platform == "telegram").order_by(WebhookEvent.id)
    ).all()
    assert [e.status for e in events] == ["processed"] * 4  # two joins, the ban, the unban
    assert "Grupos no Telegram" not in client.get("/conta").get_data(as_text=True)


def test_a_member_who_leaves_in_the_emulator_is_offered_a_new_link(access_app, emu, smtp_server):  # noqa: F811
    client, _ = buy_and_sign_up(access_app, smtp_server)
    post_update(client, join(emu, the_invite().invite_link, 555)["update"])
    assert "Gerar novo link" not in client.get("/conta").get_data(as_text=True)
    left = control(emu, "/leave", {"chat_id": CHAT, "user_id": 555})
    member = left["update"]["chat_member"]
    assert (member["old_chat_member"]["status"], member["new_chat_member"]["status"]) == (
        "member",
        "left",
    )
    assert member["from"]["id"] == 555
    assert post_update(client, left["update"]).status_code == 200
    page = client.get("/conta").get_data(as_text=True)
    assert "Você saiu do grupo" in page and "Gerar novo link" in page
    again = requests.post(
        f"{emu.url}/_emulator/telegram/leave", json={"chat_id": CHAT, "user_id": 555}, timeout=5
    )
    assert again.status_code == 409  # not in the chat any more
