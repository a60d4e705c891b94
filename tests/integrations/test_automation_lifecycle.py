"""Sale → Kommo / Gestão Click, the lifecycle steps the other files leave out, against a live
emulator over HTTP: a chargeback and a cancellation move the lead to lost; a boleto printed
(Hotmart) and a PIX generated (Kirvano, Kiwify) open a recovery lead, moved to won when the
sale is approved; a Gestão Click ``POST /clientes`` that timed out after the cliente was made
is found on the retry (one cliente); a product is matched to a Gestão Click produto by code.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from app.models.automation import DELIVERY_PENDING, DELIVERY_SENT
from tests.conftest import WebhookSender, load_fixture
from tests.integrations import test_gestao_click_push as gc
from tests.integrations import test_kommo_push as kp

CART_STATUS = 67000002


@pytest.fixture
def emu(start_emulator):
    gc.usage_counter.reset()
    return start_emulator(
        contacts=10, leads=10, kommo_rate_limit=0, gc_products=40, gc_rate_limit=0
    )


@pytest.fixture
def kommo_app(app_factory, emu):
    app = app_factory(**kp.push_config(emu, KOMMO_CART_STATUS_ID=str(CART_STATUS)))
    with app.app_context():
        yield app


@pytest.fixture
def hook(kommo_app):
    return WebhookSender(kommo_app.test_client())


def fixture(platform: str, name: str) -> dict:
    body = copy.deepcopy(load_fixture(platform, name))
    if "id" in body:
        body["id"] = str(uuid.uuid4())  # a delivery of its own (Hotmart dedupes by it)
    return body


def notes(emu, lead_id: int) -> list[str]:
    data = kp.kommo_get(emu, f"/leads/{lead_id}/notes")
    return [n["params"]["text"] for n in data["_embedded"]["notes"]] if data else []


# ------------------------------------------------------------------------------ lead → lost


@pytest.mark.parametrize(
    ("name", "email", "said"),
    [
        ("purchase_chargeback", "maria@example.com", "estornada (chargeback)"),
        ("purchase_canceled", "joao@example.com", "cancelada"),
    ],
)
def test_chargeback_and_cancellation_move_the_lead_to_lost(hook, emu, name, email, said):
    revoked = fixture("hotmart", name)
    tx = revoked["data"]["purchase"]["transaction"]
    assert hook("hotmart", kp.approved(email=email, tx=tx)).status_code == 200
    assert hook("hotmart", revoked).status_code == 200
    sale_row, lost_row = kp.deliveries()
    assert (lost_row.step, lost_row.status) == ("lost", DELIVERY_SENT), lost_row.last_error
    assert lost_row.remote_lead_id == sale_row.remote_lead_id
    lead = kp.kommo_get(emu, f"/leads/{sale_row.remote_lead_id}")
    assert lead["status_id"] == 143
    assert any(f"Venda {said} na Hotmart" in text for text in notes(emu, lead["id"]))
    assert emu.stats()["endpoints"]["kommo.add_complex"] == 1  # no second lead


# ------------------------------------------------------------------------------ recovery leads


def test_a_printed_boleto_is_a_recovery_lead_won_on_approval(hook, emu):
    billet = fixture("hotmart", "purchase_billet_printed")
    tx = billet["data"]["purchase"]["transaction"]
    assert hook("hotmart", billet).status_code == 200
    [cart] = kp.deliveries()
    assert (cart.step, cart.status) == ("cart", DELIVERY_SENT), cart.last_error
    lead = kp.kommo_get(emu, f"/leads/{cart.remote_lead_id}")
    assert lead["status_id"] == CART_STATUS and tx in lead["name"]
    assert any("Boleto gerado e ainda não pago" in t for t in notes(emu, lead["id"]))
    paid = kp.approved(email="ana@example.com", tx=tx)
    assert hook("hotmart", paid).status_code == 200
    cart, sale = kp.deliveries()
    assert sale.status == DELIVERY_SENT and sale.remote_lead_id == cart.remote_lead_id
    assert kp.kommo_get(emu, f"/leads/{cart.remote_lead_id}")["status_id"] == 142
    assert emu.stats()["endpoints"]["kommo.add_complex"] == 1
    assert "kommo.add_leads" not in emu.stats()["endpoints"]


@pytest.mark.parametrize(
    ("platform", "name", "email"),
    [("kirvano", "pix_generated", None), ("kiwify", "pix_created", "ana@example.com")],
)
def test_a_generated_pix_is_a_recovery_lead(hook, emu, platform, name, email):
    body = fixture(platform, name)
    assert hook(platform, body).status_code == 200
    [cart] = kp.deliveries()
    assert (cart.step, cart.status) == ("cart", DELIVERY_SENT), cart.last_error
    assert cart.payload["payment_method"] == "pix"
    if email:
        assert cart.buyer_email == email
    lead = kp.kommo_get(emu, f"/leads/{cart.remote_lead_id}", **{"with": "contacts"})
    assert lead["status_id"] == CART_STATUS
    assert "Recuperação" in {t["name"] for t in lead["_embedded"]["tags"]}
    assert any("PIX gerado e ainda não pago" in t for t in notes(emu, lead["id"]))


# ------------------------------------------------------------------------------ Gestão Click


def test_a_timed_out_cliente_post_is_found_on_the_retry(app_factory, emu):
    app = app_factory(**gc.push_config(emu))
    with app.app_context():
        emu.fault(api="gestaoclick", path="/clientes", method="POST", latency_ms=2500, count=1)
        sale = gc.approved(email="lia.push@example.com", document="529.982.247-25")
        assert WebhookSender(app.test_client())("hotmart", sale).status_code == 200
        [row] = gc.deliveries()
        assert row.status == DELIVERY_PENDING and row.remote_contact_id is None
        gc.wait_for(lambda: len(gc.clientes_of(emu, "lia.push@example.com")) == 1)
        gc.due_now()
        gc.automation_sender.send_pending()
        [row] = gc.deliveries()
        assert row.status == DELIVERY_SENT and row.attempts == 2, row.last_error
        [cliente] = gc.clientes_of(emu, "lia.push@example.com")
        assert int(cliente["id"]) == row.remote_contact_id
        assert gc.writes(emu).get(gc.CREATE_CLIENTE) == 1
        assert gc.writes(emu).get(gc.CREATE_VENDA) == 1


def test_a_product_is_matched_by_its_code(app_factory, emu):
    app = app_factory(
        **gc.push_config(emu, GESTAOCLICK_SALE_SITUACAO_ID="3154", GESTAOCLICK_LOJA_ID="280")
    )
    with app.app_context():
        [produto] = gc.gc_get(emu, "/produtos", codigo="P00007")["data"]
        # the platform's product code (Hotmart's ucode) is the produto's; the names differ
        body = gc.approved(product=(4962378, "Nome na plataforma"))
        body["data"]["product"]["ucode"] = "P00007"
        assert WebhookSender(app.test_client())("hotmart", body).status_code == 200
        [row] = gc.deliveries()
        assert row.status == DELIVERY_SENT, row.last_error
        venda = gc.gc_get(emu, f"/vendas/{row.remote_lead_id}")["data"]
        assert venda["tipo"] == "produto"
        [line] = venda["produtos"]
        assert str(line["produto"]["produto_id"]) == str(produto["id"])
        assert line["produto"]["nome_produto"] == produto["nome"]
