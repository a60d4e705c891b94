"""Sale → Kommo through the automation outbox, against a live emulator over HTTP.

Approval → one contact + one won lead (price, tags, note); a replay, a second sale of the same
buyer, a retry after a timeout and two senders at once never make a second contact or lead;
refund → lost; cart → recovery lead → won on approval; a renewal → a note; 429 honoured;
validation errors failed at once with Kommo's message; switch off → nothing queued.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AutomationDelivery, RateBudgetSlot
from app.models.automation import DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENT
from app.models.types import utcnow
from app.services import automation_sender
from tests.clients.conftest import LiveEmulator
from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender, csrf_token, load_fixture

API = "/api/v4"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(contacts=30, leads=30, kommo_rate_limit=0)


def push_config(emu: LiveEmulator, **overrides) -> dict:
    config = {
        **WEBHOOK_SECRETS,
        "KOMMO_JWT_TOKEN": emu.config.kommo_token(),
        "KOMMO_API_URL": emu.kommo,
        # Generous: a loaded machine answers slowly; the timeout test sets its own.
        "KOMMO_TIMEOUT": "10",
        "RETRY_ATTEMPTS": 1,
        "RETRY_DELAY": 0.01,
        "KOMMO_THROTTLE_PER_SECOND": 0,
        "KOMMO_PUSH_SALES": "true",
    }
    config.update(overrides)
    return config


@pytest.fixture
def push_app(app_factory, emu):
    app = app_factory(**push_config(emu))
    with app.app_context():
        yield app


@pytest.fixture
def hook(push_app):
    return WebhookSender(push_app.test_client())


def kommo_get(emu: LiveEmulator, path: str, **params):
    resp = requests.get(
        f"{emu.kommo}{API}{path}",
        params=params,
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )
    return None if resp.status_code == 204 else resp.json()


def contacts_of(emu, email: str) -> list[dict]:
    data = kommo_get(emu, "/contacts", query=email)
    items = data["_embedded"]["contacts"] if data else []
    return [
        c
        for c in items
        if any(
            v["value"].lower() == email.lower()
            for f in c.get("custom_fields_values") or []
            for v in f["values"]
        )
    ]


def approved(email="bia.push@example.com", tx=None, product=(4962378, "Curso Exemplo"), **buyer):
    body = copy.deepcopy(load_fixture("hotmart", "purchase_approved"))
    body["id"] = str(uuid.uuid4())
    body["data"]["buyer"]["email"] = email
    body["data"]["buyer"].update(buyer)
    body["data"]["purchase"]["transaction"] = tx or f"HP{uuid.uuid4().int % 10**14}"
    body["data"]["product"]["id"], body["data"]["product"]["name"] = product
    return body


def refunded(tx: str, email="bia.push@example.com"):
    body = copy.deepcopy(load_fixture("hotmart", "purchase_refunded"))
    body["id"] = str(uuid.uuid4())
    body["data"]["buyer"]["email"] = email
    body["data"]["purchase"]["transaction"] = tx
    return body


def deliveries(**where) -> list[AutomationDelivery]:
    db.session.expire_all()
    stmt = select(AutomationDelivery).order_by(AutomationDelivery.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AutomationDelivery, key) == value)
    return list(db.session.scalars(stmt))


def wait_for(condition, seconds: float = 5.0) -> None:
    """Until the emulator finished a request whose answer the client gave up on."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the emulator never applied the write"
        time.sleep(0.05)


def writes(emu) -> dict:
    endpoints = emu.stats()["endpoints"]
    return {k: v for k, v in endpoints.items() if k.startswith("kommo.add_") or "patch" in k}


# ------------------------------------------------------------------------------ approval


def test_approval_makes_one_contact_and_one_won_lead_with_price_tags_and_note(hook, emu):
    body = approved()
    body["data"]["purchase"]["origin"] = {"utm_source": "instagram", "utm_campaign": "black"}
    assert hook("hotmart", body).status_code == 200
    [row] = deliveries()
    assert (row.step, row.status, row.attempts) == ("contact_lead", DELIVERY_SENT, 1)
    [contact] = contacts_of(emu, "bia.push@example.com")
    assert contact["id"] == row.remote_contact_id and contact["name"] == "Maria Souza"
    lead = kommo_get(emu, f"/leads/{row.remote_lead_id}", **{"with": "contacts"})
    assert (lead["price"], lead["status_id"], lead["pipeline_id"]) == (197, 142, 8572511)
    assert {t["name"] for t in lead["_embedded"]["tags"]} == {"Hotmart", "Curso Exemplo"}
    assert lead["_embedded"]["contacts"][0]["id"] == contact["id"]
    notes = kommo_get(emu, f"/leads/{row.remote_lead_id}/notes")["_embedded"]["notes"]
    text = notes[0]["params"]["text"]
    assert "HP" in text and "PIX" in text and "utm_source=instagram" in text
    with_leads = kommo_get(emu, f"/contacts/{contact['id']}", **{"with": "leads"})
    assert [x["id"] for x in with_leads["_embedded"]["leads"]] == [row.remote_lead_id]

    # The same webhook again: answered as a duplicate, nothing more written.
    before = writes(emu)
    assert hook("hotmart", body).status_code == 200
    assert len(deliveries()) == 1 and writes(emu) == before

    # A second sale of the same buyer: the same contact, a second lead.
    assert hook("hotmart", approved(product=(777, "Mentoria"))).status_code == 200
    rows = deliveries(status=DELIVERY_SENT)
    assert len(rows) == 2 and rows[1].remote_contact_id == contact["id"]
    assert rows[1].remote_lead_id != rows[0].remote_lead_id
    assert len(contacts_of(emu, "bia.push@example.com")) == 1


def test_existing_kommo_contact_is_found_by_phone(hook, emu):
    # A contact made in Kommo by hand, with the phone only.
    body = [
        {
            "name": "Cris Manual",
            "custom_fields_values": [
                {"field_code": "PHONE", "values": [{"value": "+55 (21) 98888-1234"}]}
            ],
        }
    ]
    resp = requests.post(
        f"{emu.kommo}{API}/contacts",
        json=body,
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )
    manual = resp.json()["_embedded"]["contacts"][0]["id"]
    sale = approved(email="cris.push@example.com", checkout_phone_code="21")
    sale["data"]["buyer"]["checkout_phone"] = "988881234"
    assert hook("hotmart", sale).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_SENT and row.remote_contact_id == manual


def test_switch_off_queues_nothing(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_PUSH_SALES="false"))
    with app.app_context():
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        assert deliveries() == []
        assert writes(emu) == {}


# ------------------------------------------------------------------------------ failures


def test_retry_after_a_timeout_never_creates_a_second_contact_or_lead(hook, emu):
    # Kommo applies the POST but the answer never arrives (the read times out).
    current_app.config["KOMMO_TIMEOUT"] = "2"
    current_app.extensions.pop("vendas_settings_cache", None)
    # A new buyer: lead + contact in one leads/complex request, which times out.
    emu.fault(api="kommo", path="/api/v4/leads/complex", method="POST", latency_ms=2500, count=1)
    assert hook("hotmart", approved(email="tim.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and row.remote_contact_id is None
    assert "Kommo" in row.last_error
    wait_for(lambda: len(contacts_of(emu, "tim.push@example.com")) == 1)  # applied meanwhile
    [made] = contacts_of(emu, "tim.push@example.com")
    wait_for(
        lambda: kommo_get(emu, f"/contacts/{made['id']}", **{"with": "leads"})["_embedded"]["leads"]
    )
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.commit()
    automation_sender.send_pending()  # finds the contact, then the lead by its transaction
    [row] = deliveries()
    assert row.status == DELIVERY_SENT and row.attempts == 2
    assert len(contacts_of(emu, "tim.push@example.com")) == 1
    contact = kommo_get(emu, f"/contacts/{row.remote_contact_id}", **{"with": "leads"})
    assert [x["id"] for x in contact["_embedded"]["leads"]] == [row.remote_lead_id]
    assert emu.stats()["endpoints"]["kommo.add_complex"] == 1
    assert "kommo.add_leads" not in emu.stats()["endpoints"]

    # A known buyer's second sale: POST /leads (linked to the contact) times out too.
    emu.fault(api="kommo", path="/api/v4/leads", method="POST", latency_ms=2500, count=1)
    assert hook("hotmart", approved(email="tim.push@example.com", product=(5, "Mentoria")))
    second = deliveries()[1]
    assert second.status == DELIVERY_PENDING and second.remote_lead_id is None
    wait_for(
        lambda: (
            len(
                kommo_get(emu, f"/contacts/{made['id']}", **{"with": "leads"})["_embedded"]["leads"]
            )
            == 2
        )
    )
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.commit()
    automation_sender.send_pending()
    second = deliveries()[1]
    assert second.status == DELIVERY_SENT and second.remote_contact_id == made["id"]
    contact = kommo_get(emu, f"/contacts/{made['id']}", **{"with": "leads"})
    assert sorted(x["id"] for x in contact["_embedded"]["leads"]) == sorted(
        r.remote_lead_id for r in deliveries()
    )
    assert emu.stats()["endpoints"]["kommo.add_leads"] == 1


@contextmanager
def queued_not_kicked(app):
    """Sales pushed with the switch on but no sender kicked (the kick finds a run "already
    queued"): the test sends them itself."""
    app.config["KOMMO_PUSH_SALES"] = "true"
    app.extensions.pop("vendas_settings_cache", None)
    app.config["AUTOMATIONS_IN_BACKGROUND"] = True
    automation_sender.kick.queued_runs.add(id(app))
    try:
        yield
    finally:
        automation_sender.kick.queued_runs.discard(id(app))


def test_two_senders_at_once_send_each_step_once(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_PUSH_SALES="false"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        with queued_not_kicked(app):  # the senders race for them
            for n in range(4):  # each buyer a CPF of its own (one CPF is one buyer)
                body = approved(
                    email=f"duo{n}.push@example.com",
                    checkout_phone=f"9{n}0001111",
                    document=f"1112223330{n}",
                )
                assert sender("hotmart", body).status_code == 200
            # and two sales of one more buyer, whose contact must be made once
            for product in ((1, "Curso A"), (2, "Curso B")):
                body = approved(
                    email="same.push@example.com",
                    checkout_phone="977770000",
                    product=product,
                    document="99988877766",
                )
                assert sender("hotmart", body).status_code == 200
        assert len(deliveries(status=DELIVERY_PENDING)) == 6
    errors = []

    def run():
        with app.app_context():
            try:
                automation_sender.send_pending()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # generous: a loaded machine is slow, a finished thread returns at once
    assert errors == []
    with app.app_context():
        assert len(deliveries(status=DELIVERY_SENT)) == 6
        stats = emu.stats()["endpoints"]
        # five new buyers: lead + contact in one leads/complex each; the repeat buyer's
        # second sale is linked to the contact made by the first
        assert stats.get("kommo.add_complex") == 5 and stats.get("kommo.add_leads") == 1
        assert "kommo.add_contacts" not in stats
        for n in range(4):
            assert len(contacts_of(emu, f"duo{n}.push@example.com")) == 1
        assert len(contacts_of(emu, "same.push@example.com")) == 1


def test_the_sender_gives_way_to_deliveries_after_each_push(app_factory, emu, monkeypatch):
    """Like the e-mail senders and the webhook worker: after each push, a pause while
    deliveries crowd the process (``app.worker.yield_to_ingest``, tested on its own)."""
    from app import worker

    app = app_factory(**push_config(emu, KOMMO_PUSH_SALES="false"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        with queued_not_kicked(app):  # sent by the call below
            for n in range(2):
                body = approved(email=f"yield{n}.push@example.com")
                assert sender("hotmart", body).status_code == 200
        spent = []
        monkeypatch.setattr(worker, "yield_to_ingest", spent.append)

        class Clock:  # the sender's clock: each reading 0.25 s after the last
            now = 0.0

            def monotonic(self):
                self.now += 0.25
                return self.now

        monkeypatch.setattr(automation_sender, "time", Clock())
        automation_sender.send_pending()
        assert len(deliveries(status=DELIVERY_SENT)) == 2
    assert spent == [0.25, 0.25]  # each push's own time, read before and after it


def test_429_is_honoured_and_retried_later_not_failed(start_emulator, app_factory):
    emu = start_emulator(contacts=5, leads=5, kommo_rate_limit=0)
    app = app_factory(**push_config(emu))
    with app.app_context():
        emu.fault(api="kommo", path="/api/v4/leads/complex", method="POST", status=429, count=1)
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_PENDING and row.attempts == 0
        assert row.next_attempt_at > utcnow()
        db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
        db.session.commit()
        # The 429 paused the account's shared budget for every process: it is there…
        paused = db.session.scalar(select(func.max(RateBudgetSlot.paused_until)))
        assert paused is not None and paused > 0
        # …and once it is over (moved to now), the retry goes through.
        db.session.execute(update(RateBudgetSlot).values(paused_until=0, next_slot=0))
        db.session.commit()
        automation_sender.send_pending()
        [row] = deliveries()
        assert row.status == DELIVERY_SENT, row.last_error


def test_validation_error_fails_at_once_and_shows_on_the_page(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_SALE_STATUS_ID="999"))
    with app.app_context():
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_FAILED and row.attempts == 1
        assert "status_id" in row.last_error
        leads_before = emu.stats()["endpoints"]["kommo.add_complex"]
        automation_sender.send_pending()  # not retried by the sender
        assert emu.stats()["endpoints"]["kommo.add_complex"] == leads_before
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "status_id" in page and "Tentar de novo" in page
        token = csrf_token(client, "/automacoes")
        resp = client.post(f"/automacoes/{row.id}/retry", data={"csrf_token": token})
        assert resp.status_code == 302
        assert deliveries()[0].attempts == 2  # tried again at once (and refused again)
        assert deliveries()[0].status == DELIVERY_FAILED


# ------------------------------------------------------------------------------ lifecycle


def test_refund_moves_the_lead_to_lost_with_a_note(hook, emu):
    body = approved(email="rui.push@example.com")
    tx = body["data"]["purchase"]["transaction"]
    hook("hotmart", body)
    assert hook("hotmart", refunded(tx, "rui.push@example.com")).status_code == 200
    sale_row, lost_row = deliveries()
    assert lost_row.step == "lost" and lost_row.status == DELIVERY_SENT
    lead = kommo_get(emu, f"/leads/{sale_row.remote_lead_id}")
    assert lead["status_id"] == 143
    notes = kommo_get(emu, f"/leads/{sale_row.remote_lead_id}/notes")["_embedded"]["notes"]
    assert any("reembolsada" in n["params"]["text"] for n in notes)


def test_cart_makes_a_recovery_lead_moved_to_won_on_approval(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_CART_STATUS_ID="67000002"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        cart = load_fixture("hotmart", "purchase_out_of_shopping_cart")
        assert sender("hotmart", cart).status_code == 200
        [row] = deliveries()
        assert (row.step, row.status) == ("cart", DELIVERY_SENT)
        lead = kommo_get(emu, f"/leads/{row.remote_lead_id}")
        assert lead["status_id"] == 67000002
        assert sender("hotmart", approved(email="pedro@example.com")).status_code == 200
        cart_row, sale_row = deliveries()
        assert sale_row.status == DELIVERY_SENT
        assert sale_row.remote_lead_id == cart_row.remote_lead_id
        lead = kommo_get(emu, f"/leads/{row.remote_lead_id}", **{"with": "contacts"})
        assert (lead["status_id"], lead["price"]) == (142, 197)
        assert emu.stats()["endpoints"]["kommo.add_complex"] == 1  # the recovery lead only
        assert "kommo.add_leads" not in emu.stats()["endpoints"]
        assert len(contacts_of(emu, "pedro@example.com")) == 1


def test_cart_is_not_pushed_without_a_recovery_status(hook):
    assert hook("hotmart", load_fixture("hotmart", "purchase_out_of_shopping_cart")).status_code
    assert deliveries() == []


def test_renewal_adds_a_note_to_the_subscription_lead(hook, emu):
    first = copy.deepcopy(load_fixture("hotmart", "purchase_approved_renewal"))
    first["id"] = str(uuid.uuid4())
    first["data"]["purchase"]["recurrence_number"] = 1
    first["data"]["purchase"]["transaction"] = "HP-SUB-1"
    assert hook("hotmart", first).status_code == 200
    assert hook("hotmart", load_fixture("hotmart", "purchase_approved_renewal")).status_code == 200
    opened, renewal = deliveries()
    assert (opened.step, renewal.step) == ("contact_lead", "renewal_note")
    assert renewal.status == DELIVERY_SENT and renewal.remote_lead_id == opened.remote_lead_id
    assert emu.stats()["endpoints"]["kommo.add_complex"] == 1
    assert "kommo.add_leads" not in emu.stats()["endpoints"]
    notes = kommo_get(emu, f"/leads/{opened.remote_lead_id}/notes")["_embedded"]["notes"]
    assert any("Renovação nº 2" in n["params"]["text"] for n in notes)
    assert db.session.scalar(select(func.count()).select_from(AutomationDelivery)) == 2


# ------------------------------------------------------------------------------ /automacoes


def test_page_needs_login(push_app):
    client = push_app.test_client()
    auth = Auth(push_app, client)
    auth.create(email="membro@example.com", role="member", name="Bia")
    auth.create()
    resp = client.get("/automacoes")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    auth.login(email="membro@example.com")  # a buyer's account is not the operator's panel
    assert client.get("/automacoes").status_code in (302, 403)


def test_page_turns_the_push_on_with_the_mapping_and_shows_the_lead_link(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_PUSH_SALES="false"))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Funil de vendas" in page and ">Venda ganha</option>" in page  # read from Kommo
        assert 'value="142"' in page and "(142)" not in page  # the id stays in the value only
        assert '<optgroup label="Funil de vendas">' in page  # each pipeline's stages together
        assert '<option value="">Padrão da conta (Funil de vendas)</option>' in page
        assert "Nenhum envio" in page
        # no CSRF token → refused
        assert client.post("/automacoes/kommo", data={"enabled": "1"}).status_code == 400
        token = csrf_token(client, "/automacoes")
        resp = client.post(
            "/automacoes/kommo",
            data={
                "csrf_token": token,
                "enabled": "1",
                "KOMMO_SALE_PIPELINE_ID": "8572512",
                "KOMMO_SALE_STATUS_ID": "67000013",
                "KOMMO_LOST_STATUS_ID": "",
                "KOMMO_CART_STATUS_ID": "",
            },
        )
        assert resp.status_code == 302
        bad = client.post(
            "/automacoes/kommo",
            data={"csrf_token": token, "enabled": "1", "KOMMO_SALE_STATUS_ID": "abc"},
            follow_redirects=True,
        )
        assert "só com dígitos" in bad.get_data(as_text=True)
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_SENT
        lead = kommo_get(emu, f"/leads/{row.remote_lead_id}")
        assert (lead["pipeline_id"], lead["status_id"]) == (8572512, 67000013)
        page = client.get("/automacoes").get_data(as_text=True)
        assert f"{emu.kommo}/leads/detail/{row.remote_lead_id}" in page
        assert "Enviado" in page and 'data-label="Status"' in page
        # switched off again: nothing more is queued
        client.post("/automacoes/kommo", data={"csrf_token": token})
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        assert len(deliveries()) == 1


def test_retry_all_failed(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_SALE_STATUS_ID="999"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        sender("hotmart", approved(email="f1.push@example.com"))
        sender("hotmart", approved(email="f2.push@example.com"))
        assert len(deliveries(status=DELIVERY_FAILED)) == 2
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Tentar de novo todas as falhas (2)" in page
        # fixed in the settings, then every failure tried again at once
        from app.services import settings as settings_service

        settings_service.set_value("KOMMO_SALE_STATUS_ID", "142")
        db.session.commit()
        token = csrf_token(client, "/automacoes")
        resp = client.post("/automacoes/retry-failed", data={"csrf_token": token})
        assert resp.status_code == 302
        assert len(deliveries(status=DELIVERY_SENT)) == 2


def test_cli_sends_what_is_pending(push_app, hook, emu):
    emu.fault(api="kommo", path="/api/v4/leads/complex", method="POST", status=503, count=1)
    assert hook("hotmart", approved(email="cli.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and "503" in row.last_error
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.commit()
    result = push_app.test_cli_runner().invoke(args=["automations", "send"])
    assert result.exit_code == 0, result.output
    assert "enviados: 1" in result.output
    assert deliveries()[0].status == DELIVERY_SENT


def test_cli_refuses_when_switched_off(app_factory, emu):
    app = app_factory(**push_config(emu, KOMMO_PUSH_SALES="false"))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["automations", "send"])
        assert result.exit_code != 0 and "KOMMO_PUSH_SALES" in result.output


def test_a_fuzzy_search_hit_is_not_taken_for_the_buyer(hook, emu):
    # Kommo's query is full-text: another e-mail containing the buyer's comes back too.
    body = [
        {
            "name": "Outra Pessoa",
            "custom_fields_values": [
                {"field_code": "EMAIL", "values": [{"value": "x.lia.push@example.com"}]}
            ],
        }
    ]
    requests.post(
        f"{emu.kommo}{API}/contacts",
        json=body,
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )
    assert kommo_get(emu, "/contacts", query="lia.push@example.com") is not None
    sale = approved(email="lia.push@example.com", checkout_phone="911112222")
    assert hook("hotmart", sale).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_SENT
    [contact] = contacts_of(emu, "lia.push@example.com")
    assert contact["id"] == row.remote_contact_id and contact["name"] == "Maria Souza"
