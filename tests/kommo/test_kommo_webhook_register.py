"""Kommo webhooks against the emulator over HTTP: the subscription client, the /kommo
"Registrar webhook no Kommo" button, and the emulator's sender → the app's endpoint → the
local lead/contact (re-read from the emulator)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app.clients import kommo_webhooks as api
from app.clients.errors import InvalidRequestError
from app.clients.kommo import KommoClient
from app.extensions import db
from app.models import KommoContact, KommoLead, WebhookEvent
from app.services import settings as settings_service
from emulator.datasets import CONTACT_ID_BASE, LEAD_ID_BASE
from emulator.kommo_webhooks_cli import cmd
from tests.clients.conftest import LiveEmulator, _QuietHandler, start_emulator  # noqa: F401
from tests.conftest import Auth, csrf_token


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator(
        contacts=40, leads=50, kommo_rate_limit=0, now=datetime.now(UTC).replace(microsecond=0)
    )


def direct_client(emu: LiveEmulator) -> KommoClient:
    return KommoClient(
        emu.config.kommo_token(), emu.kommo, throttle_per_second=None, retry_delay=0.01
    )


@pytest.fixture
def live_app(app_factory, emu):
    """The app served over HTTP (the emulator posts to it), its Kommo settings on the emulator."""
    holder = {}
    server = make_server("127.0.0.1", 0, None, threaded=True, request_handler=_QuietHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    app = app_factory(
        APP_URL=url,
        KOMMO_JWT_TOKEN=emu.config.kommo_token(),
        KOMMO_API_URL=emu.kommo,
        KOMMO_TIMEOUT="3",
        RETRY_ATTEMPTS=1,
        RETRY_DELAY=0.01,
        KOMMO_THROTTLE_PER_SECOND=0,
    )
    server.app = app
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    holder.update(app=app, url=url)
    with app.app_context():
        yield holder
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def operator(app):
    client = app.test_client()
    Auth(app, client).operator()
    return client


def register(client):
    token = csrf_token(client, "/kommo")
    return client.post("/kommo/webhook/registrar", data={"csrf_token": token})


def send(emu: LiveEmulator, **body) -> dict:
    resp = requests.post(f"{emu.url}/_emulator/kommo/webhook-events", json=body, timeout=20)
    assert resp.status_code == 200, resp.text
    return resp.json()


# ------------------------------------------------------------------------------ client


def test_subscribe_list_unsubscribe(emu):
    with direct_client(emu) as client:
        assert api.list_webhooks(client) == []
        hook = api.subscribe(client, "https://painel.example.com/webhook/kommo/abc")
        assert hook["destination"] == "https://painel.example.com/webhook/kommo/abc"
        assert set(hook["settings"]) == set(api.EVENTS) and hook["disabled"] is False
        again = api.subscribe(client, hook["destination"], ("status_lead",))
        assert again["id"] == hook["id"] and again["settings"] == ["status_lead"]
        api.subscribe(client, "https://outro.example.com/k")
        found = api.list_webhooks(client, "https://painel.example.com/webhook/kommo/abc")
        assert [h["id"] for h in found] == [hook["id"]]
        assert len(api.list_webhooks(client)) == 2
        api.unsubscribe(client, hook["destination"])
        assert [h["destination"] for h in api.list_webhooks(client)] == [
            "https://outro.example.com/k"
        ]


def test_invalid_subscription_is_a_validation_error(emu):
    with direct_client(emu) as client:
        with pytest.raises(InvalidRequestError) as exc:
            api.subscribe(client, "not a url")
        assert exc.value.status == 400
        with pytest.raises(InvalidRequestError):
            api.subscribe(client, "https://ok.example.com/x", ("not_an_event",))


def test_subscriptions_need_the_token(emu):
    resp = requests.get(f"{emu.kommo}/api/v4/webhooks", timeout=5)
    assert resp.status_code == 401


# ------------------------------------------------------------------------------ the button


def test_register_button_generates_the_token_and_subscribes(live_app, emu):
    app = live_app["app"]
    client = operator(app)
    page = client.get("/kommo").get_data(as_text=True)
    assert "Registrar webhook no Kommo" in page
    resp = register(client)
    assert resp.status_code == 302
    page = client.get("/kommo").get_data(as_text=True)
    assert "Webhook registrado no Kommo" in page
    assert "registrado no Kommo" in page and "não registrado" not in page
    token = settings_service.get("KOMMO_WEBHOOK_SECRET")
    assert token and len(token) >= 40
    assert token not in page  # the secret is never echoed
    with direct_client(emu) as kc:
        hooks = api.list_webhooks(kc)
    assert [h["destination"] for h in hooks] == [f"{live_app['url']}/webhook/kommo/{token}"]
    assert "status_lead" in hooks[0]["settings"]
    register(client)  # again: the same token, still one subscription
    assert settings_service.get("KOMMO_WEBHOOK_SECRET") == token
    with direct_client(emu) as kc:
        assert len(api.list_webhooks(kc)) == 1


def test_register_failure_is_explained_and_saves_nothing(live_app, emu):
    client = operator(live_app["app"])
    emu.fault(api="kommo", path="/webhooks", status=403)
    register(client)
    page = client.get("/kommo").get_data(as_text=True)
    assert "Não foi possível registrar o webhook" in page
    assert "administrador" in page
    assert settings_service.get("KOMMO_WEBHOOK_SECRET") is None


def test_register_needs_login_and_csrf(live_app):
    app = live_app["app"]
    anonymous = app.test_client()
    Auth(app, anonymous).create()
    token = csrf_token(anonymous, "/login")
    resp = anonymous.post("/kommo/webhook/registrar", data={"csrf_token": token})
    assert resp.status_code in (302, 401) and "/login" in resp.headers.get("Location", "/login")
    client = app.test_client()
    Auth(app, client).login()
    assert client.post("/kommo/webhook/registrar").status_code == 400  # no CSRF token


def test_register_without_kommo_configured(app_factory):
    app = app_factory()
    with app.app_context():
        client = operator(app)
        register(client)
        page = client.get("/kommo").get_data(as_text=True)
        assert "Configure o token do Kommo primeiro" in page


def test_subscription_error_shows_on_the_page(live_app, emu):
    client = operator(live_app["app"])
    register(client)
    emu.fault(api="kommo", path="/webhooks", status=402)
    page = client.get("/kommo").get_data(as_text=True)
    assert "situação desconhecida" in page and "plano" in page


# ------------------------------------------------------------------------------ end to end


def local_lead(remote_id):
    db.session.expire_all()
    return db.session.scalar(select(KommoLead).where(KommoLead.remote_id == remote_id))


def local_contact(remote_id):
    db.session.expire_all()
    return db.session.scalar(select(KommoContact).where(KommoContact.remote_id == remote_id))


def test_emulator_sender_updates_the_local_lead_and_contact(live_app, emu):
    register(operator(live_app["app"]))
    lead_id = LEAD_ID_BASE + 7
    out = send(emu, entity="leads", action="status", id=lead_id, status_id=142, price=4321)
    assert [d["status"] for d in out["delivered"]] == [200]
    assert out["item"]["old_status_id"] is not None
    row = local_lead(lead_id)
    assert row is not None and row.status_id == 142 and row.is_won and row.price == 4321
    # re-read through the API: the lead's main contact came with it
    with direct_client(emu) as kc:
        assert row.contact_id == (kc.get_lead(lead_id)["_embedded"]["contacts"] or [{}])[0].get(
            "id"
        )
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    assert event.status == "processed" and "amoCRM-Webhooks/3.0" in event.headers["user-agent"]

    contact_id = CONTACT_ID_BASE + 3
    send(
        emu,
        entity="contacts",
        action="update",
        id=contact_id,
        name="Nome Novo",
        email="novo@example.com",
    )
    row = local_contact(contact_id)
    assert row.name == "Nome Novo" and row.email == "novo@example.com"

    send(emu, entity="leads", action="delete", id=lead_id)
    assert local_lead(lead_id) is None

    new_id = LEAD_ID_BASE + 10_000
    send(
        emu,
        entity="leads",
        action="add",
        id=new_id,
        name="Novo negócio",
        price=99,
        status_id=142,
        pipeline_id=7001,
    )
    assert local_lead(new_id).name == "Novo negócio"


def test_events_not_subscribed_are_not_sent(live_app, emu):
    with direct_client(emu) as kc:
        api.subscribe(kc, f"{live_app['url']}/webhook/kommo/whatever", ("add_contact",))
    out = send(emu, entity="leads", action="status", id=LEAD_ID_BASE + 1, status_id=143)
    assert out["delivered"] == []


def test_wrong_token_destination_gets_401_from_the_app(live_app, emu):
    with direct_client(emu) as kc:
        api.subscribe(kc, f"{live_app['url']}/webhook/kommo/not-the-token", ("status_lead",))
    out = send(emu, entity="leads", action="status", id=LEAD_ID_BASE + 2, status_id=143)
    assert [d["status"] for d in out["delivered"]] == [401]
    assert local_lead(LEAD_ID_BASE + 2) is None


def test_cli_posts_a_real_delivery(live_app, emu, capsys):
    register(operator(live_app["app"]))
    token = settings_service.get("KOMMO_WEBHOOK_SECRET")
    lead_id = LEAD_ID_BASE + 4
    code = cmd(["lead-status", "--emulator", emu.url, "--id", str(lead_id), "--status-id", "143"])
    assert code == 0, capsys.readouterr().out
    assert local_lead(lead_id).is_lost
    url = f"{live_app['url']}/webhook/kommo/{token}"
    contact_id = CONTACT_ID_BASE + 5
    code = cmd(["contact-update", "--to", url, "--id", str(contact_id), "--name", "Via CLI"])
    assert code == 0
    with direct_client(emu) as kc:
        name = kc.get_contact(contact_id)["name"]
    assert local_contact(contact_id).name == name  # notified, then re-read from the API
    # an id the API does not know (deleted meanwhile): no local copy is made up
    code = cmd(["contact-add", "--to", url, "--id", "999001", "--name", "Fantasma"])
    assert code == 0
    assert local_contact(999001) is None


def test_the_background_worker_rereads_under_its_claim(app_factory, emu):
    """WEBHOOK_PROCESS_INLINE off: the delivery is answered once stored; a worker's claimed
    batch applies it, re-reading the lead from the API (SQLite: no lock wait on the budget)."""
    from app import worker

    app = app_factory(
        KOMMO_WEBHOOK_SECRET="tok-" + "x" * 40,
        KOMMO_JWT_TOKEN=emu.config.kommo_token(),
        KOMMO_API_URL=emu.kommo,
        KOMMO_THROTTLE_PER_SECOND=0,
        RETRY_ATTEMPTS=0,
        WEBHOOK_PROCESS_INLINE=False,
        WORKER_THREADS=0,
    )
    lead_id = LEAD_ID_BASE + 9
    with app.app_context():
        requests.post(
            f"{emu.url}/_emulator/kommo/webhook-events",
            timeout=10,
            json={"entity": "leads", "action": "status", "id": lead_id, "status_id": 143},
        )  # no subscriber: only the emulator's state
        body = (
            f"leads[status][0][id]={lead_id}&leads[status][0][status_id]=143"
            "&account[subdomain]=vendashub"
        ).encode()
        resp = app.test_client().post(
            "/webhook/kommo/tok-" + "x" * 40,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status_code == 200 and resp.get_json()["status"] == "accepted"
        assert local_lead(lead_id) is None
        assert worker.drain() >= 1
        row = local_lead(lead_id)
        assert row.is_lost and row.name  # the name came from the re-read, not the delivery


def test_a_delivery_from_another_account_is_ignored(live_app, emu):
    register(operator(live_app["app"]))
    token = settings_service.get("KOMMO_WEBHOOK_SECRET")
    lead_id = LEAD_ID_BASE + 11
    body = (
        f"account[subdomain]=outra&account[id]=999&leads[status][0][id]={lead_id}"
        "&leads[status][0][status_id]=142"
    ).encode()
    resp = requests.post(
        f"{live_app['url']}/webhook/kommo/{token}",
        data=body,
        timeout=10,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 200 and resp.json()["status"] == "ignored"
    assert local_lead(lead_id) is None
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    assert "outra conta Kommo" in event.last_error
