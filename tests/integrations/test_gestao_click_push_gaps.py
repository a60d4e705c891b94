"""Sale → Gestão Click, the lookup before a retry and the link to the venda, against a live
emulator over HTTP: a timed-out ``POST /vendas`` of a buyer whose vendas fill more than one
page is still found (every page of the sale's day is read), and /automacoes links each venda
to its page in the panel (the API's address without ``api.``, or ``GESTAOCLICK_WEB_URL``).
"""

from __future__ import annotations

import requests

from app.models.automation import DELIVERY_PENDING, DELIVERY_SENT
from app.services.gestao_click_push import marker, venda_url, web_base
from tests.conftest import Auth, WebhookSender
from tests.integrations import test_gestao_click_push as base
from tests.integrations.test_gestao_click_push import (
    CREATE_VENDA,
    approved,
    deliveries,
    due_now,
    gc_get,
    push_config,
    wait_for,
    writes,
)


def every_venda(emu, cliente_id, tipo="servico") -> list[dict]:
    """Every page of the cliente's vendas (``pagina`` / ``meta.proxima_pagina``)."""
    out, page = [], 1
    while page:
        body = gc_get(emu, "/vendas", cliente_id=str(cliente_id), tipo=tipo, pagina=page)
        out += body["data"] if isinstance(body["data"], list) else []
        page = body["meta"]["proxima_pagina"]
    return out


def test_a_timed_out_venda_is_found_past_the_first_page(start_emulator, app_factory):
    base.usage_counter.reset()
    emu = start_emulator(gc_sales=5, gc_clients=5, gc_products=5, gc_rate_limit=0, gc_page_size=2)
    app = app_factory(**push_config(emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        for n in range(3):  # three vendas of one buyer, the same day: two pages of two
            assert hook("hotmart", approved(product=(101 + n, f"Curso {n}"))).status_code == 200
        assert len(deliveries(status=DELIVERY_SENT)) == 3, [r.last_error for r in deliveries()]
        cliente = deliveries()[0].remote_contact_id
        emu.fault(api="gestaoclick", path="/vendas", method="POST", latency_ms=2500, count=1)
        assert hook("hotmart", approved(product=(9, "Curso 9"))).status_code == 200
        last = deliveries()[-1]
        assert last.status == DELIVERY_PENDING and last.remote_lead_id is None
        assert len(gc_get(emu, "/vendas", cliente_id=str(cliente), tipo="servico")["data"]) == 2
        wait_for(lambda: len(every_venda(emu, cliente)) == 4)  # applied meanwhile
        due_now()
        from app.services import automation_sender

        automation_sender.send_pending()
        last = deliveries()[-1]
        assert last.status == DELIVERY_SENT and last.attempts == 2
        assert writes(emu).get(CREATE_VENDA) == 4  # the retry found it, posted nothing
        [found] = [v for v in every_venda(emu, cliente) if v["id"] == str(last.remote_lead_id)]
        assert marker(last.payload) in found["observacoes"]
        assert "Curso 9" in str(found["servicos"])


def test_the_page_links_each_venda_to_the_panel(app_factory, start_emulator):
    base.usage_counter.reset()
    emu = start_emulator(gc_sales=5, gc_clients=5, gc_products=40, gc_rate_limit=0)
    app = app_factory(**push_config(emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        assert hook("hotmart", approved(product=(777, "Curso Online de Excel"))).status_code == 200
        assert hook("hotmart", approved(email="srv.push@example.com")).status_code == 200
        produto, servico = deliveries()
        panel = emu.gestaoclick[: -len("/api")]
        assert web_base() == panel
        assert venda_url(produto) == f"{panel}/vendas_produtos/visualizar/{produto.remote_lead_id}"
        assert venda_url(servico) == f"{panel}/vendas_servicos/visualizar/{servico.remote_lead_id}"
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert f'href="{venda_url(produto)}"' in page and f'href="{venda_url(servico)}"' in page
        opened = requests.get(venda_url(produto), timeout=5)
        assert opened.status_code == 200 and "Curso Online de Excel" in opened.text
        wrong = venda_url(produto).replace("vendas_produtos", "vendas_servicos")
        assert requests.get(wrong, timeout=5).status_code == 404

        app.config["GESTAOCLICK_WEB_URL"] = "https://painel.example.com/"
        app.extensions.pop("vendas_settings_cache", None)
        assert venda_url(servico) == (
            f"https://painel.example.com/vendas_servicos/visualizar/{servico.remote_lead_id}"
        )


def test_the_panel_address_is_the_apis_without_api(app_factory):
    app = app_factory(GESTAOCLICK_API_URL="https://api.gestaoclick.com")
    with app.app_context():
        assert web_base() == "https://gestaoclick.com"
        app.config["GESTAOCLICK_API_URL"] = "https://api.beteltecnologia.com/api"
        app.extensions.pop("vendas_settings_cache", None)
        assert web_base() == "https://beteltecnologia.com"
