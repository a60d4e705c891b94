"""Telegram over HTTP against the live emulator: the webhook's secret (401), chat_member joins
recorded, set-webhook's masked output, the connection test on /configuracoes, and the
operator's notifications (once per sale and refund, none when not configured, 429 deferred)."""

from __future__ import annotations

import copy
import json
import logging
import uuid

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import AutomationDelivery, TelegramMember, WebhookEvent
from app.models.automation import DELIVERY_PENDING, DELIVERY_SENT
from app.services import automation_sender
from emulator.telegram import DEFAULT_CHAT_ID, DEFAULT_TOKEN
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender, csrf_token, load_fixture

SECRET = "tg_secret-0123456789"
NOTIFY = "-1009990001"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    emu = start_emulator()
    control(emu, "/config", {"rate_limit": False})
    control(emu, "/chats", {"id": int(NOTIFY), "title": "Avisos"})
    return emu


def control(emu, path: str = "", body: dict | None = None):
    url = f"{emu.url}/_emulator/telegram{path}"
    resp = requests.post(url, json=body, timeout=5) if body is not None else requests.get(url)
    assert resp.status_code < 300, resp.text
    return resp.json()


def tg_config(emu, **overrides) -> dict:
    config = {
        **WEBHOOK_SECRETS,
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": f"{emu.url}/telegram",
        "TELEGRAM_CHAT_ID": str(DEFAULT_CHAT_ID),
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_NOTIFY_CHAT_ID": NOTIFY,
        "RETRY_ATTEMPTS": 0,
        "RETRY_DELAY": 0.01,
        "APP_URL": "http://localhost",
        "TELEGRAM_CHAT_PER_MINUTE": 1200,
    }
    config.update(overrides)
    return config


@pytest.fixture
def tg_app(app_factory, emu):
    app = app_factory(**tg_config(emu))
    with app.app_context():
        yield app


def approved(tx=None):
    body = copy.deepcopy(load_fixture("hotmart", "purchase_approved"))
    body["id"] = str(uuid.uuid4())
    body["data"]["buyer"]["email"] = "bia.tg@example.com"
    body["data"]["purchase"]["transaction"] = tx or f"HP{uuid.uuid4().int % 10**14}"
    return body


def refunded(tx: str):
    body = copy.deepcopy(load_fixture("hotmart", "purchase_refunded"))
    body["id"] = str(uuid.uuid4())
    body["data"]["buyer"]["email"] = "bia.tg@example.com"
    body["data"]["purchase"]["transaction"] = tx
    return body


def messages(emu) -> list[str]:
    return [m["text"] for m in control(emu)["messages"] if str(m["chat"]["id"]) == NOTIFY]


# ------------------------------------------------------------------------------ webhook


def post_update(client, update: dict, secret: str | None = SECRET):
    headers = {HEADER: secret} if secret is not None else {}
    return client.post(
        "/webhook/telegram",
        data=json.dumps(update),
        headers=headers,
        content_type="application/json",
    )


def test_webhook_refuses_a_wrong_or_missing_secret(tg_app):
    client = tg_app.test_client()
    update = {"update_id": 1, "message": {"text": "oi"}}
    assert post_update(client, update, secret=None).status_code == 401
    assert post_update(client, update, secret="wrong").status_code == 401
    assert db.session.scalar(select(WebhookEvent.id)) is None


def test_webhook_refuses_everything_without_a_configured_secret(app_factory, emu):
    app = app_factory(**tg_config(emu, TELEGRAM_WEBHOOK_SECRET=""))
    with app.app_context():
        resp = post_update(app.test_client(), {"update_id": 1}, secret="")
        assert resp.status_code == 401


def test_join_through_an_invite_link_is_recorded(tg_app, emu):
    from app.services import telegram

    with telegram.client() as bot:
        link = bot.create_chat_invite_link(str(DEFAULT_CHAT_ID), name="membro-7", member_limit=1)
    joined = control(
        emu,
        "/join",
        {
            "invite_link": link["invite_link"],
            "user": {"id": 555, "first_name": "Ana", "username": "ana"},
        },
    )
    client = tg_app.test_client()
    assert post_update(client, joined["update"]).status_code == 200
    assert post_update(client, joined["update"]).status_code == 200  # Telegram's repeat: dedup
    [member] = db.session.scalars(select(TelegramMember)).all()
    assert (member.chat_id, member.user_id, member.username) == (DEFAULT_CHAT_ID, 555, "ana")
    assert (member.invite_link, member.invite_link_name) == (link["invite_link"], "membro-7")
    assert member.status == "member" and member.chat_title == "Curso X — VIP"
    [row] = db.session.scalars(select(WebhookEvent)).all()
    assert (row.platform, row.event_type, row.status) == ("telegram", "chat_member", "processed")
    other = post_update(client, {"update_id": 99, "message": {"text": "oi"}})
    assert other.status_code == 200 and other.get_json()["status"] == "ignored"
    Auth(tg_app, client).operator()
    inbox = client.get("/webhooks?platform=telegram")
    text = inbox.get_data(as_text=True)
    assert inbox.status_code == 200 and "Entrada ou saída no Telegram" in text
    # the bot's updates read as what they are: a group member, the group's id
    assert '<div class="small text-secondary">Membro do grupo</div>' in text
    assert (
        f'<td data-label="Grupo" class="small"><span class="text-secondary">Grupo</span> '
        f"{DEFAULT_CHAT_ID}</td>" in text
    )
    assert '<option value="">Todas</option>' in text and ">bot<" not in text
    detail = client.get(f"/webhooks/{row.id}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "<code>chat_member</code>" in text
    assert f'<dt class="col-5">Grupo</dt><dd class="col-7">{DEFAULT_CHAT_ID}</dd>' in text
    assert '<dd class="col-7">Membro do grupo</dd>' in text
    assert post_update(client, {"update_id": "x"}).status_code == 400  # stored as failed


def test_a_kommo_push_that_fails_for_good_tells_the_operator(tg_app, emu):
    from app.services.automation_sender import MAX_ATTEMPTS

    row = AutomationDelivery(
        target="kommo",
        step="contact_lead",
        dedupe_key="kommo:contact_lead:x",
        buyer_email="bia.tg@example.com",
        payload={},
        attempts=MAX_ATTEMPTS,
    )
    db.session.add(row)
    db.session.flush()
    counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
    automation_sender._retry(row, "Kommo: HTTP 503", automation_sender.backoff(1), counts)
    db.session.commit()
    automation_sender.send_pending()
    [text] = messages(emu)
    assert text.startswith("Falha que precisa de atenção — automação kommo/contact_lead")
    assert "bia.tg@example.com" in text and "HTTP 503" in text


def test_emulator_posts_the_update_to_the_registered_webhook(tg_app, emu):
    """The real path: set-webhook, then a join in the emulator POSTs to a live app."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, tg_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tg_app.config["APP_URL"] = f"http://127.0.0.1:{server.server_port}"
        from app.services import telegram

        ok, _ = telegram.set_webhook()
        assert ok
        with telegram.client() as bot:
            link = bot.create_chat_invite_link(str(DEFAULT_CHAT_ID), member_limit=1)
        joined = control(emu, "/join", {"invite_link": link["invite_link"], "user": {"id": 777}})
        assert joined["webhook"] == {"delivered": True, "status": 200}
    finally:
        server.shutdown()
        server.server_close()
    db.session.expire_all()
    member = db.session.scalar(select(TelegramMember).where(TelegramMember.user_id == 777))
    assert member is not None and member.invite_link == link["invite_link"]


# ------------------------------------------------------------------------------ CLI


def test_set_webhook_cli_registers_chat_member_and_never_prints_secrets(app_factory, emu, caplog):
    caplog.set_level(logging.DEBUG)
    app = app_factory(
        **tg_config(emu, TELEGRAM_WEBHOOK_SECRET="", APP_URL="https://hub.example.com")
    )
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    hook = control(emu)["webhook"]
    assert hook["url"] == "https://hub.example.com/webhook/telegram"
    assert "chat_member" in hook["allowed_updates"]
    assert hook["secret_token"]  # generated and saved
    assert "Webhook registrado" in result.output and "segredo novo" in result.output
    assert DEFAULT_TOKEN not in result.output and hook["secret_token"] not in result.output
    assert DEFAULT_TOKEN not in caplog.text and hook["secret_token"] not in caplog.text
    with app.app_context():
        from app.services import settings

        assert settings.get("TELEGRAM_WEBHOOK_SECRET") == hook["secret_token"]


def test_set_webhook_cli_bad_token(app_factory, emu):
    app = app_factory(**tg_config(emu, TELEGRAM_BOT_TOKEN="1:not-the-token"))
    result = app.test_cli_runner().invoke(args=["telegram", "set-webhook"])
    assert result.exit_code != 0
    assert "recusou" in result.output and "1:not-the-token" not in result.output


# ------------------------------------------------------------------------------ settings page


def test_connection_test_on_the_settings_page(app_factory, emu):
    control(
        emu, "/chats", {"id": -1005, "title": "Sem convite", "bot": {"can_invite_users": False}}
    )
    app = app_factory(**tg_config(emu, TELEGRAM_CHAT_ID=f"{DEFAULT_CHAT_ID},-1005"))
    client = app.test_client()
    auth = Auth(app, client)
    auth.create()
    auth.login()
    page = client.get("/configuracoes")
    assert "Testar conexão" in page.get_data(as_text=True)
    resp = client.post(
        "/configuracoes/telegram/teste",
        data={"csrf_token": csrf_token(client, "/configuracoes")},
        follow_redirects=True,
    )
    text = resp.get_data(as_text=True)
    assert "@vendashub_bot" in text and "pode convidar e remover membros" in text
    assert "falta ao bot: a permissão de convidar usuários" in text
    # one line per group, each ending with what to do in Telegram
    assert (
        "<li>No grupo “Sem convite” (-1005) falta ao bot: a permissão de convidar usuários "
        "(links de convite). No Telegram, abra o grupo › Administradores › @vendashub_bot e "
        "ative “Convidar usuários via link”.</li>" in text
    )
    assert "<li>Bot @vendashub_bot conectado.</li>" in text
    assert DEFAULT_TOKEN not in text
    without_csrf = client.post("/configuracoes/telegram/teste")
    assert without_csrf.status_code in (400, 403)


def test_connection_test_checks_the_chats_of_the_access_items_too(app_factory, emu):
    """Default chats and the chats of the telegram items on /acessos, each once, each named."""
    from tests.access_kit import make_item

    control(emu, "/chats", {"id": -1008, "title": "Turma B", "bot": {"can_restrict_members": 0}})
    app = app_factory(**tg_config(emu))
    with app.app_context():
        make_item("Grupo VIP do Curso B", kind="telegram", chat_id="-1008")
        make_item("Grupo VIP do Curso X", kind="telegram", chat_id=str(DEFAULT_CHAT_ID))
        make_item("Segundo item do mesmo grupo", kind="telegram", chat_id="-1008")
        db.session.commit()
        client = app.test_client()
        Auth(app, client).operator()
        resp = client.post(
            "/configuracoes/telegram/teste",
            data={"csrf_token": csrf_token(client, "/configuracoes")},
            follow_redirects=True,
        )
    text = resp.get_data(as_text=True).replace("&#34;", '"')
    assert (
        f"Item “Grupo VIP do Curso X” de Acessos — Grupo “Curso X — VIP” ({DEFAULT_CHAT_ID}): "
        "o bot é administrador" in text
    )
    assert (
        "Item “Grupo VIP do Curso B” de Acessos — No grupo “Turma B” (-1008) falta ao bot: "
        "a permissão de banir usuários" in text
    )
    checked = [c["params"]["chat_id"] for c in control(emu)["calls"] if c["method"] == "get_chat"]
    assert sorted(map(str, checked)) == sorted([str(DEFAULT_CHAT_ID), "-1008"])  # each once


def test_connection_test_explains_a_bot_that_is_not_admin(app_factory, emu):
    control(emu, "/chats", {"id": -1006, "title": "Grupo VIP", "bot": {"status": "member"}})
    app = app_factory(**tg_config(emu, TELEGRAM_CHAT_ID="-1006"))
    with app.app_context():
        from app.services import telegram

        result = telegram.test_connection()
    assert not result.success
    assert "O bot não é administrador do grupo “Grupo VIP”" in result.message
    assert result.lines[-1].endswith(
        "escolha @vendashub_bot e ative “Convidar usuários via link” e “Banir usuários”."
    )


# ------------------------------------------------------------------------------ notifications


def test_one_notification_for_a_sale_and_one_for_its_refund(tg_app, emu):
    hook = WebhookSender(tg_app.test_client())
    body = approved()
    tx = body["data"]["purchase"]["transaction"]
    assert hook("hotmart", body).status_code == 200
    assert hook("hotmart", body).status_code == 200  # a replay
    assert hook("hotmart", refunded(tx)).status_code == 200
    automation_sender.send_pending()
    sent = messages(emu)
    assert len(sent) == 2, sent
    assert sent[0].startswith("Nova venda aprovada: Curso Exemplo para Maria Souza")
    assert "bia.tg@example.com" in sent[0] and "R$\xa0197,00" in sent[0] and tx in sent[0]
    assert sent[1].startswith("Reembolso: Curso Exemplo de Maria Souza")
    assert "acesso do comprador foi revogado" in sent[1]
    rows = db.session.scalars(
        select(AutomationDelivery).where(AutomationDelivery.target == "telegram")
    ).all()
    assert [r.status for r in rows] == [DELIVERY_SENT, DELIVERY_SENT]
    client = tg_app.test_client()
    Auth(tg_app, client).operator()
    page = client.get("/automacoes")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Aviso no Telegram: venda aprovada" in text and "sem transação" not in text
    # a notice goes to the seller's own chat, not to the buyer it is about
    log = client.get("/telegram").get_data(as_text=True).split('id="log"', 1)[1]
    assert log.count('<td data-label="Para">seu chat de avisos</td>') == 2
    assert "bia.tg@example.com" not in log


def test_a_delivery_never_tried_is_sent_now_one_that_failed_is_tried_again(tg_app):
    rows = [
        AutomationDelivery(target="telegram", step="notify_summary", dedupe_key="t:waiting"),
        AutomationDelivery(
            target="telegram",
            step="notify_summary",
            dedupe_key="t:failed",
            status="failed",
            attempts=3,
            last_error="falhou",
        ),
    ]
    db.session.add_all(rows)
    db.session.commit()
    client = tg_app.test_client()
    Auth(tg_app, client).operator()
    text = client.get("/automacoes").get_data(as_text=True)
    waiting, failed = (text.split(f'data-delivery="{r.id}"', 1)[1].split("</tr>")[0] for r in rows)
    assert ">Enviar agora</button>" in waiting and "Tentar de novo" not in waiting
    assert ">Tentar de novo</button>" in failed
    assert "sem transação" not in text


def test_no_notification_when_not_configured(app_factory, emu):
    app = app_factory(**tg_config(emu, TELEGRAM_NOTIFY_CHAT_ID=""))
    with app.app_context():
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        assert db.session.scalar(select(AutomationDelivery.id)) is None
    assert messages(emu) == []


def test_429_defers_the_notification_by_retry_after(tg_app, emu):
    control(emu, "/config", {"flood": {"count": 1, "retry_after": 40}})
    assert WebhookSender(tg_app.test_client())("hotmart", approved()).status_code == 200
    db.session.expire_all()
    [row] = db.session.scalars(select(AutomationDelivery)).all()
    assert row.status == DELIVERY_PENDING
    assert row.last_error == (
        "O Telegram pediu para esperar 40 s antes do próximo envio. O painel tenta de novo sozinho."
    )
    from app.models.types import utcnow

    wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert wait > 30  # never before retry_after
    assert messages(emu) == []
    automation_sender.send_pending()  # not due yet: nothing sent
    assert messages(emu) == []


def test_settings_page_saves_the_token_encrypted_and_checks_chat_ids(app_factory, emu):
    app = app_factory(**tg_config(emu, TELEGRAM_BOT_TOKEN="", TELEGRAM_CHAT_ID=""))
    client = app.test_client()
    auth = Auth(app, client)
    auth.create()
    auth.login()
    token = csrf_token(client, "/configuracoes")
    bad = client.post(
        "/configuracoes/telegram",
        data={"csrf_token": token, "TELEGRAM_CHAT_ID": "grupo vip"},
    )
    assert bad.status_code == 422 and "id do grupo" in bad.get_data(as_text=True)
    ok = client.post(
        "/configuracoes/telegram",
        data={
            "csrf_token": token,
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_CHAT_ID": f"{DEFAULT_CHAT_ID}, -1002",
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        from sqlalchemy import text

        stored = db.session.execute(
            text("SELECT value FROM integration_settings WHERE key = 'TELEGRAM_BOT_TOKEN'")
        ).scalar_one()
        assert stored and DEFAULT_TOKEN not in stored  # encrypted at rest
        from app.services import telegram

        assert telegram.token() == DEFAULT_TOKEN
        assert telegram.chat_ids() == (str(DEFAULT_CHAT_ID), "-1002")
    page = client.get("/configuracoes").get_data(as_text=True)
    assert DEFAULT_TOKEN not in page


def test_a_webhook_out_of_retries_and_a_lost_email_tell_the_operator(tg_app, emu):
    from email.message import EmailMessage

    from app.services import outbox, webhooks

    assert post_update(tg_app.test_client(), {"update_id": 5, "message": {}}).status_code == 200
    event_id = db.session.scalar(select(WebhookEvent.id))
    webhooks._mark_failed(event_id, webhooks.MAX_ATTEMPTS - 1, "KeyError: a")  # still retried
    webhooks._mark_failed(event_id, webhooks.MAX_ATTEMPTS, "KeyError: a")
    webhooks._mark_failed(event_id, webhooks.MAX_ATTEMPTS, "KeyError: a")  # told once
    message = EmailMessage()
    message["To"] = "bia.tg@example.com"
    outbox._notify_failed(outbox._Outgoing(41, 20, None, None, message), "550 mailbox unknown")
    automation_sender.send_pending()
    texts = messages(emu)
    assert len(texts) == 2, texts
    assert "webhook falhou" in texts[0] and f"/webhooks/{event_id}" in texts[0]
    assert "e-mail não entregue" in texts[1] and "bia.tg@example.com: 550" in texts[1]


def test_the_chat_pace_is_shared_and_defers_instead_of_waiting_long(tg_app, emu):
    from app.services.telegram_notify import TelegramNotifier

    other_sender = TelegramNotifier()
    other_sender.chat_budget.pause_for(60)  # another process just filled the chat's minute
    other_sender.close()
    assert WebhookSender(tg_app.test_client())("hotmart", approved()).status_code == 200
    db.session.expire_all()
    [row] = db.session.scalars(select(AutomationDelivery)).all()
    assert row.status == DELIVERY_PENDING and "limite de mensagens" in row.last_error
    assert messages(emu) == []


def test_telegram_test_cli(app_factory, emu):
    control(emu, "/chats", {"id": -1007, "title": "Sem banir", "bot": {"can_restrict_members": 0}})
    app = app_factory(**tg_config(emu, TELEGRAM_CHAT_ID="-1007"))
    result = app.test_cli_runner().invoke(args=["telegram", "test"])
    assert result.exit_code == 1
    assert "@vendashub_bot" in result.output and "permissão de banir" in result.output
    assert DEFAULT_TOKEN not in result.output


def test_operator_page_lists_the_chats_of_the_access_items(app_factory, emu):
    from tests.access_kit import make_item

    app = app_factory(**tg_config(emu, TELEGRAM_CHAT_ID=""))
    with app.app_context():
        make_item("Grupo VIP do Curso B", kind="telegram", chat_id="-1008")
        make_item("Mentoria", kind="telegram", chat_id="-1009")
        make_item("Outro nome do grupo B", kind="telegram", chat_id="-1008")
        db.session.commit()
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/telegram").get_data(as_text=True)
    assert "Nenhum grupo configurado" not in page
    assert page.count('<td data-label="Grupo">') == 2
    assert "Grupo VIP do Curso B" in page and "-1008" in page
    assert "Mentoria" in page and "-1009" in page
    assert "Outro nome do grupo B" not in page  # one row per chat, named by its oldest item


def test_operator_page_empty_states(app, client):
    """Nothing configured, nothing sent: each card says so (its links kept), no empty table."""
    Auth(app, client).operator()
    page = client.get("/telegram").get_data(as_text=True)
    for card in ("chats", "removals", "members", "log"):
        assert f'id="{card}"' in page
    assert "table-stack" not in page
    assert "Nenhum grupo configurado" in page and 'href="/configuracoes">Configurações' in page
    assert "Nenhuma remoção pendente." in page and "Ninguém entrou pelo link" in page
    assert "Nada enviado ainda." in page and 'href="/automacoes">Automações</a>' in page


def test_hostile_updates_are_refused_or_stored_never_accepted_then_failing(tg_app):
    """NaN/Infinity are not JSON; ids past 64 bits and a date past year 9999 are stored
    harmlessly instead of failing in processing with a traceback."""
    from app.models import WebhookEvent
    from app.models.webhooks import EVENT_FAILED

    client = tg_app.test_client()
    raw = b'{"update_id": 7, "chat_member": {"chat": {"id": Infinity}}}'
    resp = client.post(
        "/webhook/telegram", data=raw, headers={HEADER: SECRET}, content_type="application/json"
    )
    assert resp.status_code == 400

    def member_update(update_id, chat_id, user_id, date):
        return {
            "update_id": update_id,
            "chat_member": {
                "chat": {"id": chat_id, "title": "VIP", "type": "supergroup"},
                "from": {"id": 1, "is_bot": False, "first_name": "A"},
                "date": date,
                "old_chat_member": {"status": "left", "user": {"id": user_id}},
                "new_chat_member": {"status": "member", "user": {"id": user_id}},
            },
        }

    for n, update in enumerate(
        [
            member_update(8, 2**64, 5, 1_700_000_000),  # a chat id past the 64-bit column
            member_update(9, -1001234567890, 2**63, 1_700_000_000),
            member_update(10, -1001234567890, 6, 10**18),  # a date past year 9999
        ]
    ):
        resp = post_update(client, update)
        assert resp.status_code == 200, (n, resp.get_data(as_text=True))
    db.session.expire_all()
    failed = db.session.scalars(
        select(WebhookEvent).where(
            WebhookEvent.platform == "telegram", WebhookEvent.status == EVENT_FAILED
        )
    ).all()
    # only the non-JSON body, stored with its plain reason; the three updates did not fail
    assert [e.last_error for e in failed] == ["corpo não é JSON válido"]


def test_a_renewal_paid_after_a_refund_tells_the_operator(tg_app, emu):
    """Kiwify renews under the same order: after one charge was refunded the sale is final, so
    a later paid renewal grants nothing by itself — the seller is told to look."""
    from tests.web.test_webhook_lifecycle import _later_approval_with_a_new_key

    hook = WebhookSender(tg_app.test_client())
    assert hook("kiwify", load_fixture("kiwify", "order_approved")).status_code == 200
    assert hook("kiwify", load_fixture("kiwify", "order_refunded")).status_code == 200
    renewal = _later_approval_with_a_new_key("kiwify")
    assert hook("kiwify", renewal).get_json() == {"status": "ignored"}
    assert hook("kiwify", renewal).get_json()["status"] == "duplicate"  # told once
    automation_sender.send_pending()
    alerts = [m for m in messages(emu) if m.startswith("Falha que precisa de atenção")]
    assert len(alerts) == 1, messages(emu)
    assert "renovação de venda reembolsada" in alerts[0] and "confira na plataforma" in alerts[0]
