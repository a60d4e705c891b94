"""Gestão Click clients in "one customer across sources": clients as the Gestão Click API sends
them (formatted CPF/CNPJ, phones with punctuation, e-mails in any case and with accents) go
through the sync's mapping and page upsert, and the customer page and the navbar search find
them by normalized e-mail, E.164 phone and CPF/CNPJ, with their Gestão Click vendas."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import GcClient, GcSale, KommoContact
from app.services import bulk
from app.services.gestao_click_mapping import client_fields, sale_fields
from tests.conftest import Auth

# Wire format of GET /api/clientes (PLATFORMS.md §7.5): nearly everything a string.
CLIENTS = [
    {
        "id": "1156997",
        "tipo_pessoa": "PF",
        "nome": "Mariana Souza",
        "razao_social": None,
        "cnpj": None,
        "cpf": "123.456.789-09",
        "telefone": "(11) 3522-8899",
        "celular": "(11) 9 8765-4321",
        "email": "  Mariana.Souza@Example.COM ",
        "ativo": "1",
        "contatos": [],
        "enderecos": [{"endereco": {"nome_cidade": "São Paulo", "estado": "SP"}}],
    },
    {
        "id": "1156998",
        "tipo_pessoa": "PJ",
        "nome": "Padaria São João",
        "razao_social": "Padaria São João Ltda",
        "cnpj": "11.222.333/0001-81",
        "cpf": None,
        "telefone": "",
        "celular": "+55 (21) 99876-5432",
        "email": "JOÃO@Padaria.com.br",
        "ativo": "1",
        "contatos": [],
        "enderecos": [],
    },
]
VENDAS = [
    {
        "id": "8812345",
        "codigo": "4471",
        "cliente_id": "1156997",
        "nome_cliente": "Mariana Souza",
        "data": "2024-11-12",
        "situacao_id": "3150",
        "nome_situacao": "Confirmado",
        "valor_total": "1500.00",
        "pagamentos": [],
        "produtos": [],
        "servicos": [],
    },
    {
        "id": "8812346",
        "codigo": "4472",
        "cliente_id": "1156998",
        "nome_cliente": "Padaria São João",
        "data": "2024-11-20",
        "situacao_id": "3150",
        "nome_situacao": "Confirmado",
        "valor_total": "89.90",
        "pagamentos": [],
        "produtos": [],
        "servicos": [],
    },
]


@pytest.fixture
def operator(app, client):
    bulk.upsert_page(None, GcClient, [client_fields(item) for item in CLIENTS])
    bulk.upsert_page(None, GcSale, [sale_fields(item) for item in VENDAS])
    bulk.upsert_page(
        None,
        KommoContact,
        [
            {
                "remote_id": 601,
                "name": "Mari (WhatsApp)",
                "email": None,
                "phone": "+5511987654321",
                "remote_updated_at": datetime.now(UTC),
            }
        ],
    )
    db.session.commit()
    Auth(app, client).operator()
    return client


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "key",
    [
        "email:mariana.souza@example.com",
        "email:MARIANA.SOUZA@EXAMPLE.COM",
        "phone:(11) 98765-4321",
        "phone:+55 11 3522 8899",
        "doc:12345678909",
        "doc:123.456.789-09",
    ],
)
def test_customer_page_finds_the_client_by_any_key(operator, key):
    html = _html(operator, f"/clientes/{key}")
    assert "Mariana Souza" in html and "data-customer-client" in html
    assert "4471" in html and "1.500,00" in html  # her Gestão Click venda
    assert "Mari (WhatsApp)" in html  # the Kommo contact sharing her mobile
    assert "4472" not in html  # not the bakery's


@pytest.mark.parametrize(
    "key",
    ["doc:11.222.333/0001-81", "email:joão@padaria.com.br", "phone:21 99876 5432"],
)
def test_company_client_by_cnpj_accented_email_and_phone(operator, key):
    html = _html(operator, f"/clientes/{key}")
    assert "Padaria São João" in html and "4472" in html
    assert "Mariana" not in html


@pytest.mark.parametrize(
    "q, expected",
    [
        ("mariana.souza@EXA", "Mariana Souza"),
        ("123.456.789-09", "Mariana Souza"),
        ("(11) 3522-8899", "Mariana Souza"),
        ("11.222.333/0001-81", "Padaria São João"),
        ("JOÃO@padaria", "Padaria São João"),
        ("sao joao", "Padaria São João"),  # name words without accents or case
        ("(21) 99876", "Padaria São João"),
    ],
)
def test_navbar_search_finds_gestao_click_clients(operator, q, expected):
    html = _html(operator, f"/clientes?q={q}")
    assert expected in html and "data-customer-hit" in html
    # The hit opens the page of that person, with the Gestão Click venda.
    venda = db.session.scalar(
        select(GcSale.codigo)
        .join(GcClient, GcClient.remote_id == GcSale.cliente_id)
        .where(GcClient.nome == expected)
    )
    hits = re.findall(r'href="(/clientes/[^"]+)" data-customer-hit', html)
    assert hits and any(venda in _html(operator, unescape(href)) for href in hits)
