"""Sale → Gestão Click through the automation outbox, against a live emulator over HTTP.

Approval → one cliente + one venda (product or service line, payment with its forma and date);
a replay, a second sale of the same buyer, a retry after a timeout and two senders at once never
make a second cliente or venda; refund → the venda's situação; 429 honoured; validation errors
failed at once with the platform's message on /automacoes; switch off → nothing; the dry-run
preview writes nothing.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import func, select, update

from app.clients.gestao_click import usage_counter
from app.extensions import db
from app.models import AutomationDelivery, RateBudgetSlot
from app.models.automation import (
    DELIVERY_CANCELLED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SENT,
)
from app.models.types import utcnow
from app.services import automation_sender
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender, csrf_token, load_fixture

CREATE_CLIENTE = "gestaoclick_writes.create_cliente"
CREATE_VENDA = "gestaoclick_writes.create_venda"
UPDATE_VENDA = "gestaoclick_writes.update_venda"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    usage_counter.reset()
    return start_emulator(gc_sales=20, gc_clients=20, gc_products=40, gc_rate_limit=0)


def push_config(emu: LiveEmulator, **overrides) -> dict:
    config = {
        **WEBHOOK_SECRETS,
        "GESTAOCLICK_ACCESS_TOKEN": emu.config.gc_access_token,
        "GESTAOCLICK_SECRET_TOKEN": emu.config.gc_secret_token,
        "GESTAOCLICK_API_URL": emu.gestaoclick,
        "GESTAOCLICK_TIMEOUT": "2",
        "RETRY_ATTEMPTS": 1,
        "RETRY_DELAY": 0.01,
        "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
        "GESTAOCLICK_PUSH_SALES": "true",
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


def gc_get(emu: LiveEmulator, path: str, **params):
    resp = requests.get(
        f"{emu.gestaoclick}{path}",
        params=params,
        headers={
            "access-token": emu.config.gc_access_token,
            "secret-access-token": emu.config.gc_secret_token,
        },
        timeout=5,
    )
    return resp.json()


def clientes_of(emu, email: str) -> list[dict]:
    data = gc_get(emu, "/clientes", email=email)["data"]
    items = data if isinstance(data, list) else []
    return [c for c in items if (c.get("email") or "").lower() == email.lower()]


def vendas_of(emu, cliente_id, tipo=None) -> list[dict]:
    out = []
    for t in (tipo,) if tipo else ("produto", "servico"):
        data = gc_get(emu, "/vendas", cliente_id=str(cliente_id), tipo=t)["data"]
        out += data if isinstance(data, list) else []
    return out


def approved(email="gil.push@example.com", tx=None, product=(4962378, "Curso Exemplo"), **buyer):
    body = copy.deepcopy(load_fixture("hotmart", "purchase_approved"))
    body["id"] = str(uuid.uuid4())
    body["data"]["buyer"]["email"] = email
    body["data"]["buyer"].update(buyer)
    body["data"]["purchase"]["transaction"] = tx or f"HP{uuid.uuid4().int % 10**14}"
    body["data"]["product"]["id"], body["data"]["product"]["name"] = product
    return body


def refunded(tx: str, email="gil.push@example.com"):
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


def due_now() -> None:
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.commit()


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the emulator never applied the write"
        time.sleep(0.05)


def writes(emu) -> dict:
    endpoints = emu.stats()["endpoints"]
    return {k: v for k, v in endpoints.items() if k.startswith("gestaoclick_writes.")}


# ------------------------------------------------------------------------------ approval


def test_approval_makes_one_cliente_and_one_venda_with_service_line_and_payment(hook, emu):
    assert hook("hotmart", approved()).status_code == 200
    [row] = deliveries()
    assert (row.target, row.step, row.status, row.attempts) == (
        "gestao_click",
        "gc_venda",
        DELIVERY_SENT,
        1,
    )
    [cliente] = clientes_of(emu, "gil.push@example.com")
    assert int(cliente["id"]) == row.remote_contact_id
    assert (cliente["nome"], cliente["tipo_pessoa"], cliente["cpf"]) == (
        "Maria Souza",
        "PF",
        "000.000.001-91",
    )
    venda = gc_get(emu, f"/vendas/{row.remote_lead_id}")["data"]
    assert venda["cliente_id"] == cliente["id"] and venda["valor_total"] == "197.00"
    assert venda["situacao_id"] == "3150" and venda["loja_id"] == "279"  # account defaults
    assert venda["tipo"] == "servico" and venda["produtos"] == []
    [line] = venda["servicos"]
    assert line["servico"]["nome_servico"] == "Curso Exemplo"
    [pay] = venda["pagamentos"]
    assert pay["pagamento"]["valor"] == "197.00"
    assert pay["pagamento"]["nome_forma_pagamento"] == "PIX"
    assert pay["pagamento"]["data_vencimento"] == venda["data"]
    assert "Vendas Hub hotmart" in venda["observacoes"]


def test_product_matched_by_name_is_a_product_line(app_factory, emu):
    app = app_factory(
        **push_config(emu, GESTAOCLICK_SALE_SITUACAO_ID="3154", GESTAOCLICK_LOJA_ID="280")
    )
    with app.app_context():
        body = approved(product=(777, "Curso Online de Excel"))
        assert WebhookSender(app.test_client())("hotmart", body).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_SENT, row.last_error
        venda = gc_get(emu, f"/vendas/{row.remote_lead_id}")["data"]
        assert (venda["tipo"], venda["situacao_id"], venda["loja_id"]) == ("produto", "3154", "280")
        [line] = venda["produtos"]
        assert line["produto"]["nome_produto"] == "Curso Online de Excel"
        assert line["produto"]["valor_venda"] == "197.00"


def test_replay_and_second_sale_of_the_same_buyer_reuse_the_cliente(hook, emu):
    first = approved()
    assert hook("hotmart", first).status_code == 200
    assert hook("hotmart", first).status_code == 200  # the same webhook again
    assert len(deliveries()) == 1
    assert hook("hotmart", approved(product=(5, "Mentoria"))).status_code == 200
    one, two = deliveries()
    assert two.status == DELIVERY_SENT and one.remote_contact_id == two.remote_contact_id
    assert len(clientes_of(emu, "gil.push@example.com")) == 1
    assert writes(emu).get(CREATE_CLIENTE) == 1 and writes(emu).get(CREATE_VENDA) == 2
    assert len(vendas_of(emu, one.remote_contact_id)) == 2


def test_existing_cliente_is_found_by_document(hook, emu):
    existing = requests.post(
        f"{emu.gestaoclick}/clientes",
        json={"tipo_pessoa": "PF", "nome": "Maria S.", "cpf": "000.000.001-91", "ativo": "1"},
        headers={
            "access-token": emu.config.gc_access_token,
            "secret-access-token": emu.config.gc_secret_token,
        },
        timeout=5,
    ).json()["data"]
    assert hook("hotmart", approved(email="other.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_SENT and row.remote_contact_id == int(existing["id"])
    assert writes(emu).get(CREATE_CLIENTE) == 1  # only the one made above


def test_switch_off_queues_nothing(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_PUSH_SALES="false"))
    with app.app_context():
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        assert deliveries() == []
        assert writes(emu) == {}


# ------------------------------------------------------------------------------ failures


def test_retry_after_a_timeout_on_the_venda_never_creates_a_second_venda(hook, emu):
    emu.fault(api="gestaoclick", path="/vendas", method="POST", latency_ms=2500, count=1)
    assert hook("hotmart", approved(email="tim.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and row.remote_contact_id is not None
    assert row.remote_lead_id is None and row.last_error
    cid = row.remote_contact_id
    wait_for(lambda: len(vendas_of(emu, cid)) == 1)  # applied while the answer was lost
    due_now()
    automation_sender.send_pending()
    [row] = deliveries()
    assert row.status == DELIVERY_SENT and row.attempts == 2
    [venda] = vendas_of(emu, cid)
    assert int(venda["id"]) == row.remote_lead_id
    assert writes(emu).get(CREATE_VENDA) == 1 and writes(emu).get(CREATE_CLIENTE) == 1


def test_two_senders_at_once_send_each_step_once(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_PUSH_SALES="false"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        app.config["GESTAOCLICK_PUSH_SALES"] = "true"
        app.extensions.pop("vendas_settings_cache", None)
        app.config["AUTOMATIONS_IN_BACKGROUND"] = True
        automation_sender.kick.queued_runs.add(id(app))  # the kick finds a run "already queued"
        for n in range(3):
            body = approved(email=f"duo{n}.push@example.com", document=f"1112223330{n}")
            assert sender("hotmart", body).status_code == 200
        for product in ((1, "Curso A"), (2, "Curso B")):
            body = approved(email="same.push@example.com", product=product, document="99988877766")
            assert sender("hotmart", body).status_code == 200
        automation_sender.kick.queued_runs.discard(id(app))
        assert len(deliveries(status=DELIVERY_PENDING)) == 5
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
        due_now()  # a row that waited for its buyer's cliente goes on the next run
        automation_sender.send_pending()
        assert len(deliveries(status=DELIVERY_SENT)) == 5
        assert writes(emu).get(CREATE_CLIENTE) == 4 and writes(emu).get(CREATE_VENDA) == 5
        assert len(clientes_of(emu, "same.push@example.com")) == 1


def test_two_buyers_with_one_cpf_sent_at_once_make_one_cliente(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_PUSH_SALES="false"))
    with app.app_context():
        sender = WebhookSender(app.test_client())
        app.config["GESTAOCLICK_PUSH_SALES"] = "true"
        app.extensions.pop("vendas_settings_cache", None)
        app.config["AUTOMATIONS_IN_BACKGROUND"] = True
        automation_sender.kick.queued_runs.add(id(app))
        for n in range(2):  # one CPF (the fixture's), two e-mails
            assert sender("hotmart", approved(email=f"cpf{n}.push@example.com")).status_code == 200
        automation_sender.kick.queued_runs.discard(id(app))

    def run():
        with app.app_context():
            try:
                automation_sender.send_pending()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # generous: a loaded machine is slow, a finished thread returns at once
    with app.app_context():
        due_now()  # one may have waited for the other's cliente
        automation_sender.send_pending()
        one, two = deliveries()
        assert one.status == two.status == DELIVERY_SENT
        assert one.remote_contact_id == two.remote_contact_id
        assert writes(emu).get(CREATE_CLIENTE) == 1 and writes(emu).get(CREATE_VENDA) == 2


def test_429_is_honoured_and_retried_later_not_failed(push_app, hook, emu):
    emu.fault(api="gestaoclick", path="/clientes", method="POST", status=429, count=1)
    assert hook("hotmart", approved()).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and row.attempts == 0
    assert row.next_attempt_at > utcnow()
    paused = db.session.scalar(select(func.max(RateBudgetSlot.paused_until)))
    assert paused is not None and paused > 0  # the account's shared budget waits
    db.session.execute(update(RateBudgetSlot).values(paused_until=0, next_slot=0))
    due_now()
    automation_sender.send_pending()
    [row] = deliveries()
    assert row.status == DELIVERY_SENT, row.last_error
    assert len(clientes_of(emu, "gil.push@example.com")) == 1  # the 429 created nothing


def test_validation_error_fails_at_once_and_shows_on_the_page(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_SALE_SITUACAO_ID="999"))
    with app.app_context():
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_FAILED and row.attempts == 1
        assert "Situação 999 não encontrada" in row.last_error
        before = writes(emu).get(CREATE_VENDA)
        automation_sender.send_pending()  # not retried by the sender
        assert writes(emu).get(CREATE_VENDA) == before
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Situação 999 não encontrada" in page and "Tentar de novo" in page
        assert "Venda aprovada → cliente e venda no Gestão Click" in page


def test_a_renewal_payment_is_one_more_venda_of_the_same_cliente(hook, emu):
    first = copy.deepcopy(load_fixture("hotmart", "purchase_approved_renewal"))
    first["id"] = str(uuid.uuid4())
    first["data"]["purchase"]["recurrence_number"] = 1
    first["data"]["purchase"]["transaction"] = "HP-SUB-1"
    assert hook("hotmart", first).status_code == 200
    renewal = load_fixture("hotmart", "purchase_approved_renewal")
    assert hook("hotmart", renewal).status_code == 200
    assert hook("hotmart", renewal).status_code == 200  # replayed
    opened, again = deliveries()
    assert opened.status == again.status == DELIVERY_SENT
    assert opened.remote_contact_id == again.remote_contact_id
    assert opened.remote_lead_id != again.remote_lead_id
    assert writes(emu).get(CREATE_CLIENTE) == 1 and writes(emu).get(CREATE_VENDA) == 2


# ------------------------------------------------------------------------------ refunds


def test_refund_moves_the_venda_to_the_refund_situacao(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_REFUND_SITUACAO_ID="3153"))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        body = approved(email="rui.push@example.com")
        tx = body["data"]["purchase"]["transaction"]
        hook("hotmart", body)
        assert hook("hotmart", refunded(tx, "rui.push@example.com")).status_code == 200
        sale_row, refund_row = deliveries()
        assert refund_row.step == "gc_refund" and refund_row.status == DELIVERY_SENT
        venda = gc_get(emu, f"/vendas/{sale_row.remote_lead_id}")["data"]
        assert (venda["situacao_id"], venda["nome_situacao"]) == ("3153", "Cancelado")
        assert writes(emu).get(UPDATE_VENDA) == 1 and writes(emu).get(CREATE_VENDA) == 1


def test_refund_without_a_refund_situacao_changes_nothing(hook, emu):
    body = approved(email="ana.push@example.com")
    hook("hotmart", body)
    tx = body["data"]["purchase"]["transaction"]
    assert hook("hotmart", refunded(tx, "ana.push@example.com")).status_code == 200
    sale_row, refund_row = deliveries()
    assert refund_row.status == DELIVERY_CANCELLED
    assert "GESTAOCLICK_REFUND_SITUACAO_ID" in refund_row.last_error
    assert UPDATE_VENDA not in writes(emu)
    assert gc_get(emu, f"/vendas/{sale_row.remote_lead_id}")["data"]["situacao_id"] == "3150"


# ------------------------------------------------------------------------------ page


def test_preview_shows_what_would_be_created_and_writes_nothing(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_PUSH_SALES="false"))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        hook(
            "hotmart", approved(email="pre.push@example.com", product=(9, "Curso Online de Excel"))
        )
        hook("hotmart", approved(email="new.push@example.com", document="12345678000195"))
        assert deliveries() == []
        store = emu.app.extensions.get("emulator_gestaoclick_writes")
        before = (len(store.clientes), len(store.vendas)) if store else (0, 0)
        client = app.test_client()
        assert client.get("/automacoes/gestao-click/previa").status_code in (302, 401)
        Auth(app, client).operator()
        page = client.get("/automacoes/gestao-click/previa").get_data(as_text=True)
        assert "pre.push@example.com" in page and "new.push@example.com" in page
        assert "Curso Online de Excel" in page and "produto" in page.lower()
        assert "Novo cliente" in page and "197,00" in page and "PIX" in page
        store = emu.app.extensions.get("emulator_gestaoclick_writes")
        assert ((len(store.clientes), len(store.vendas)) if store else (0, 0)) == before
        assert writes(emu) == {}
        assert deliveries() == []


def test_page_saves_the_switch_and_mapping_with_pickers(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_PUSH_SALES="false"))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Vendas no Gestão Click" in page and "Concretizada (3154)" in page
        assert "Loja Online (280)" in page
        token = csrf_token(client, "/automacoes")
        resp = client.post(
            "/automacoes/gestao-click",
            data={
                "csrf_token": token,
                "enabled": "1",
                "GESTAOCLICK_SALE_SITUACAO_ID": "3154",
                "GESTAOCLICK_LOJA_ID": "280",
                "GESTAOCLICK_REFUND_SITUACAO_ID": "3153",
            },
        )
        assert resp.status_code == 302
        assert WebhookSender(app.test_client())("hotmart", approved()).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_SENT, row.last_error
        venda = gc_get(emu, f"/vendas/{row.remote_lead_id}")["data"]
        assert (venda["situacao_id"], venda["loja_id"]) == ("3154", "280")
        page = client.get("/automacoes").get_data(as_text=True)
        assert f"Venda #{row.remote_lead_id}" in page
        assert f"Cliente #{row.remote_contact_id}" in page


def test_page_falls_back_to_id_inputs_when_gestao_click_cannot_be_read(app_factory, emu):
    app = app_factory(**push_config(emu, GESTAOCLICK_SECRET_TOKEN="wrong"))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Não foi possível ler o Gestão Click" in page
        assert 'name="GESTAOCLICK_SALE_SITUACAO_ID"' in page and "inputmode" in page
