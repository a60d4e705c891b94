"""The Gestão Click write client against the emulator over HTTP: find/create cliente, create
venda, lookups, validation errors surfaced with the platform's message, the rate limit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import requests

from app.clients import gestao_click_writes as gcw
from app.clients.errors import InvalidRequestError, RateLimitError
from app.clients.gestao_click import GestaoClickClient
from emulator.datasets import PRODUTO_ID_BASE
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401

CPF = "47718252620"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator(
        gc_sales=40,
        gc_clients=30,
        gc_products=12,
        gc_page_size=20,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


def gc(emu: LiveEmulator, **kw) -> GestaoClickClient:
    kw.setdefault("throttle_per_second", None)
    kw.setdefault("retry_delay", 0.01)
    kw.setdefault("timeout", (2.0, 5.0))
    cfg = emu.config
    return GestaoClickClient(cfg.gc_access_token, cfg.gc_secret_token, emu.gestaoclick, **kw)


def test_lookups_for_writes(emu):
    with gc(emu) as client:
        assert {s["id"] for s in gcw.situacoes_vendas(client)} >= {"3150", "3154"}
        assert [loja["nome"] for loja in gcw.lojas(client)] == ["Loja Matriz", "Loja Online"]
        formas = {f["nome"]: f["id"] for f in gcw.formas_pagamentos(client)}
        assert "PIX" in formas and "Cartão de Crédito" in formas
        produto = client.produto(str(PRODUTO_ID_BASE + 2))
        assert gcw.produtos_by(client, codigo=produto["codigo_interno"])[0]["id"] == produto["id"]


def test_find_or_create_cliente_by_document_then_email(emu):
    with gc(emu) as client:
        assert gcw.find_cliente(client, cpf_cnpj=CPF, email="ana.nova@example.com") is None
        created, was_new = gcw.find_or_create_cliente(
            client,
            nome="Ana Nova",
            cpf_cnpj=CPF,
            email="ana.nova@example.com",
            celular="(11) 99999-0000",
        )
        assert was_new and created["id"] and created["cpf"] == "477.182.526-20"
        assert created["tipo_pessoa"] == "PF"
        again, was_new = gcw.find_or_create_cliente(client, nome="Ana", cpf_cnpj="477.182.526-20")
        assert not was_new and again["id"] == created["id"]
        by_mail = gcw.find_cliente(client, email="ANA.NOVA@example.com")
        assert by_mail["id"] == created["id"]
        assert client.cliente(created["id"])["nome"] == "Ana Nova"
        pj = gcw.create_cliente(client, nome="ACME Ltda", cpf_cnpj="12345678000190")
        assert pj["tipo_pessoa"] == "PJ" and pj["cnpj"] == "12.345.678/0001-90"
        assert gcw.find_cliente(client, cpf_cnpj="12.345.678/0001-90")["id"] == pj["id"]


def test_an_existing_generated_cliente_is_found_by_email(emu):
    with gc(emu) as client:
        existing = next(client.iter_clientes())
        found = gcw.find_cliente(client, email=existing["email"])
        assert found["id"] == existing["id"]


def test_create_venda_with_a_product_and_a_payment(emu):
    with gc(emu) as client:
        cliente = gcw.create_cliente(client, nome="Bruno", cpf_cnpj="39053344705")
        pix = next(f["id"] for f in gcw.formas_pagamentos(client) if f["nome"] == "PIX")
        body = gcw.venda_body(
            cliente_id=cliente["id"],
            situacao_id="3154",
            loja_id="280",
            day=date(2026, 8, 26),
            lines=[gcw.Line(valor_venda="197.00", produto_id=str(PRODUTO_ID_BASE + 1))],
            payments=[gcw.Payment(valor="197.00", forma_pagamento_id=pix)],
            observacoes="Vendas Hub — venda hotmart HP123",
        )
        assert body["produtos"][0] == {
            "produto": {
                "produto_id": str(PRODUTO_ID_BASE + 1),
                "quantidade": "1.00",
                "valor_venda": "197.00",
                "tipo_desconto": "R$",
                "desconto_valor": "0.00",
            }
        }
        venda = gcw.create_venda(client, body)
        assert venda["id"] and venda["valor_total"] == "197.00"
        assert venda["nome_situacao"] == "Concretizada" and venda["nome_loja"] == "Loja Online"
        assert venda["pagamentos"][0]["pagamento"]["nome_forma_pagamento"] == "PIX"
        listed = gcw.vendas_of_cliente(client, cliente["id"])
        assert [v["id"] for v in listed] == [venda["id"]]
        assert client.venda(venda["id"])["observacoes"].endswith("HP123")
        # the sync's listing pages reach it too
        assert venda["id"] in {v["id"] for v in client.iter_vendas(tipo="produto")}


def test_a_service_line_when_there_is_no_product(emu):
    with gc(emu) as client:
        cliente = gcw.create_cliente(client, nome="Carla", email="carla@example.com")
        body = gcw.venda_body(
            cliente_id=cliente["id"],
            situacao_id="3150",
            day="2026-08-01",
            lines=[gcw.Line(valor_venda=49.9, nome="Curso online: Marketing")],
        )
        assert body["tipo"] == "servico" and body["pagamentos"][0]["pagamento"]["valor"] == "49.90"
        venda = gcw.create_venda(client, body)
        assert venda["servicos"][0]["servico"]["nome_servico"] == "Curso online: Marketing"
        assert gcw.vendas_of_cliente(client, cliente["id"], tipo="servico")[0]["id"] == venda["id"]


def test_update_venda_situacao_resends_the_complete_record(emu):
    with gc(emu) as client:
        cliente = gcw.create_cliente(client, nome="Duda", email="duda@example.com")
        body = gcw.venda_body(
            cliente_id=cliente["id"],
            situacao_id="3150",
            day="2026-08-01",
            lines=[gcw.Line(valor_venda=20, nome="Aula avulsa")],
        )
        venda = gcw.create_venda(client, body)
        read = gcw.get_venda(client, venda["id"])
        updated = gcw.update_venda_situacao(client, read, "3153")
        assert (updated["situacao_id"], updated["nome_situacao"]) == ("3153", "Cancelado")
        assert gcw.get_venda(client, venda["id"])["valor_total"] == "20.00"
        # A partial PUT is refused with the platform's validation error (§3.1).
        with pytest.raises(InvalidRequestError, match="produto ou serviço"):
            gcw.write(
                client,
                "PUT",
                f"/vendas/{venda['id']}",
                {"cliente_id": cliente["id"], "data": "2026-08-01", "situacao_id": "3150"},
            )
        with pytest.raises(InvalidRequestError, match="Situação 999"):
            gcw.update_venda_situacao(client, read, "999")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"pagamentos": [{"pagamento": {"valor": "10.00"}}]},
            "O valor do pedido não pode ser diferente do valor das parcelas",
        ),
        ({"situacao_id": "999"}, "Situação 999 não encontrada"),
        ({"cliente_id": "42"}, "Cliente 42 não encontrado"),
        ({"data": "26/08/2026"}, "O campo data é obrigatório"),
        (
            {"produtos": [{"produto": {"produto_id": "1", "valor_venda": "5"}}]},
            "Produto 1 não encontrado",
        ),
        ({"produtos": [{"produto_id": "1"}]}, "inválido"),
    ],
)
def test_validation_errors_are_surfaced_with_the_platform_message(emu, change, message):
    with gc(emu) as client:
        cliente = gcw.create_cliente(client, nome="Dora", email="dora@example.com")
        body = gcw.venda_body(
            cliente_id=cliente["id"],
            situacao_id="3150",
            day="2026-08-01",
            lines=[gcw.Line(valor_venda="100.00", produto_id=str(PRODUTO_ID_BASE))],
        )
        body.update(change)
        before = emu.hits("gestaoclick_writes.create_venda")
        with pytest.raises(InvalidRequestError) as exc:
            gcw.create_venda(client, body)
        assert exc.value.status == 404
        assert message in exc.value.detail
        assert message in exc.value.message
        assert emu.hits("gestaoclick_writes.create_venda") - before == 1  # never retried
        assert gcw.vendas_of_cliente(client, cliente["id"]) == []


def test_cliente_validation(emu):
    with gc(emu) as client:
        with pytest.raises(InvalidRequestError) as exc:
            gcw.create_cliente(client, nome="", email="x@example.com")
        assert "nome é obrigatório" in exc.value.detail
        with pytest.raises(InvalidRequestError) as exc:
            gcw.create_cliente(client, nome="Eva", email="não é e-mail")
        assert "E-mail inválido" in exc.value.detail
    raw = requests.post(f"{emu.gestaoclick}/clientes", json={"nome": "x"}, timeout=5)
    assert raw.status_code == 401  # same tokens as the reads


def test_writes_keep_the_rate_limit(start_emulator):  # noqa: F811
    emu = start_emulator(gc_clients=5, gc_rate_limit=1)
    with gc(emu, retry_attempts=0) as client:
        statuses = []
        for n in range(4):
            try:
                gcw.create_cliente(client, nome=f"Cliente {n}", email=f"c{n}@example.com")
                statuses.append(200)
            except RateLimitError as exc:
                assert exc.status == 429
                statuses.append(429)
        assert 429 in statuses
