"""One customer across sources (/clientes): a buyer from a real-format webhook, Kommo
contacts and a Gestão Click client matched by e-mail, phone and CPF, the search, the keys kept
on write and by ``flask customers rebuild``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import CustomerKey, GcClient, GcSale, KommoContact, KommoLead, Sale
from app.services import bulk
from tests.conftest import Auth


def _keys(source: str, source_id: int) -> set[tuple[str, str]]:
    rows = db.session.execute(
        select(CustomerKey.kind, CustomerKey.value).where(
            CustomerKey.source == source, CustomerKey.source_id == source_id
        )
    )
    return {(r.kind, r.value) for r in rows}


@pytest.fixture
def person(send_webhook, webhook_app):
    """Maria bought on Hotmart (webhook: maria@example.com, +55 11 99999-8888, CPF
    000.000.001-91); Kommo has her by e-mail (sync page) and a second contact by phone only
    (a manual ORM write); Gestão Click has her by CPF only, with another e-mail."""
    response = send_webhook("hotmart", "purchase_approved")
    assert response.status_code == 200, response.get_data(as_text=True)
    now = datetime.now(UTC)
    bulk.upsert_page(
        None,
        KommoContact,
        [
            {
                "remote_id": 501,
                "name": "Maria S.",
                "email": "  MARIA@Example.com ",
                "phone": None,
                "remote_updated_at": now,
            },
            {
                "remote_id": 502,
                "name": "João Alguém",
                "email": "joao@example.com",
                "phone": None,
                "remote_updated_at": now,
            },
        ],
    )
    db.session.add(KommoContact(remote_id=503, name="Maria (WhatsApp)", phone="(11) 99999-8888"))
    db.session.add(
        KommoLead(
            remote_id=9001,
            name="Mentoria anual",
            price=1500,
            currency="BRL",
            contact_id=501,
            is_won=True,
            status_name="Ganho",
            pipeline_name="Vendas",
        )
    )
    db.session.add(
        GcClient(
            remote_id="7001",
            nome="Maria Souza ME",
            cpf_cnpj="00000000191",
            email="financeiro@empresa.com.br",
            cidade="Campinas",
            estado="SP",
        )
    )
    db.session.add(
        GcSale(
            remote_id="8001",
            codigo="PED-8001",
            cliente_id="7001",
            data=date(2026, 11, 2),
            situacao_nome="Concretizada",
            valor_total_cents=45990,
        )
    )
    db.session.commit()
    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    return client


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_page_joins_the_three_sources_by_email_phone_and_cpf(person):
    sale = db.session.scalar(select(Sale))
    html = _page(person, "/clientes/email:Maria@Example.com")
    assert "Maria Souza" in html
    assert f'href="/vendas/{sale.id}"' in html  # the purchase, linked to its sale page
    assert html.count("data-customer-sale") == 1
    assert "Maria S." in html and "Maria (WhatsApp)" in html  # by e-mail and by phone
    assert "João Alguém" not in html
    assert "Mentoria anual" in html and "ganho" in html
    assert "Maria Souza ME" in html and "000.000.001-91" in html  # by CPF
    assert "PED-8001" in html and "459,90" in html
    assert "financeiro@empresa.com.br" in html  # every e-mail of the person

    # The same person from any of her records or keys.
    gc = db.session.scalar(select(GcClient))
    whatsapp = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 503))
    for key in (
        f"gc:{gc.id}",
        f"kommo:{whatsapp.id}",
        f"sale:{sale.id}",
        "phone:11 99999-8888",
        "doc:000.000.001-91",
        "email:financeiro@empresa.com.br",
    ):
        other = _page(person, f"/clientes/{key}")
        assert other.count("data-customer-sale") == 1, key
        assert "PED-8001" in other and "Mentoria anual" in other, key


def test_activation_and_access_are_shown(person):
    html = _page(person, "/clientes/email:maria@example.com")
    assert "Link de ativação:" in html and "Acesso:" in html


def test_links_from_the_sale_kommo_and_gestao_click_pages(person):
    sale = db.session.scalar(select(Sale))
    assert f'href="/clientes/sale:{sale.id}"' in _page(person, f"/vendas/{sale.id}")
    contact = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 501))
    assert f'href="/clientes/kommo:{contact.id}"' in _page(person, "/kommo?aba=contatos")
    gc = db.session.scalar(select(GcClient))
    assert f'href="/clientes/gc:{gc.id}"' in _page(person, "/gestao-click?aba=clientes")


@pytest.mark.parametrize(
    "q, expected",
    [
        ("maria@exa", "Maria Souza"),
        ("MARIA", "Maria Souza ME"),
        ("souza", "Maria Souza"),
        ("000.000.001-91", "Maria Souza ME"),
        ("(11) 99999", "Maria (WhatsApp)"),
        ("joão", "João Alguém"),
    ],
)
def test_search_by_email_name_document_and_phone(person, q, expected):
    html = _page(person, f"/clientes?q={q}")
    assert expected in html
    assert "data-customer-hit" in html


def test_search_without_matches_and_too_short(person):
    assert "Ninguém encontrado" in _page(person, "/clientes?q=zzzz@nada")
    assert "ao menos duas" in _page(person, "/clientes?q=x")


def test_search_is_keyset_paged(app):
    for i in range(30):
        db.session.add(
            Sale(
                platform="kiwify",
                transaction_id=f"T{i}",
                status="approved",
                buyer_email=f"cliente{i:02d}@lote.com",
                buyer_name=f"Cliente {i:02d}",
            )
        )
    db.session.commit()
    client = app.test_client()
    Auth(app, client).operator()
    seen, url, pages = [], "/clientes?q=cliente", 0
    while url:
        html = _page(client, url)
        seen += [
            f"cliente{i:02d}@lote.com" for i in range(30) if f"cliente{i:02d}@lote.com" in html
        ]
        nxt = re.search(r'href="(/clientes\?[^"]+)">Próxima</a>', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        pages += 1
    assert sorted(seen) == [f"cliente{i:02d}@lote.com" for i in range(30)]
    assert pages == 2


def test_export_lists_every_hit_of_the_search_in_batches(app):
    """All 30 people, past the 25 of the first page, loaded 7 keys at a time; a hostile
    name is neutralized; the page's button carries the search."""
    from app.services.customers import lookup

    for i in range(30):
        name = f"=cmd Cliente {i:02d}" if i == 0 else f"Cliente {i:02d}"
        email = f"cliente{i:02d}@lote.com"
        db.session.add(
            Sale(
                platform="kiwify",
                transaction_id=f"T{i}",
                status="approved",
                buyer_email=email,
                buyer_name=name,
                product_name="Curso",
            )
        )
    db.session.commit()
    client = app.test_client()
    Auth(app, client).operator()
    response = client.get("/clientes/exportar.csv?q=cliente")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").strip().splitlines()
    assert lines[0] == "Nome;E-mail;Telefone;CPF/CNPJ;Origem;Encontrado por;Produto"
    assert sorted(line.split(";")[1] for line in lines[1:]) == [
        f"cliente{i:02d}@lote.com" for i in range(30)
    ]
    assert "'=cmd Cliente 00;cliente00@lote.com;;;Venda · Kiwify;Nome;Curso" in lines
    batched = [hit.record.id for hit in lookup.search_all("cliente", batch=7)]
    assert batched == [hit.record.id for hit in lookup.search_all("cliente")]
    assert 'href="/clientes/exportar.csv?q=cliente"' in _page(client, "/clientes?q=cliente")
    assert len(client.get("/clientes/exportar.csv?q=x").get_data().splitlines()) == 1


def test_unknown_and_malformed_keys_are_404(person):
    for key in ("email:ninguem@example.com", "email:nao-e-email", "sale:999999", "cpf:1", "x"):
        assert person.get(f"/clientes/{key}").status_code == 404, key


def test_login_and_operator_role_required(app):
    member = app.test_client()
    Auth(app, member).member()  # an operator exists too: setup is done
    anonymous = app.test_client()
    for url in ("/clientes?q=maria", "/clientes/email:maria@example.com"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert member.get(url).status_code == 403


def test_keys_follow_edits_and_deletes(person):
    contact = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 502))
    assert ("email", "joao@example.com") in _keys("kommo", contact.id)
    contact.email = "Joao.Novo@Example.com"
    db.session.commit()
    keys = _keys("kommo", contact.id)
    assert ("email", "joao.novo@example.com") in keys and ("email", "joao@example.com") not in keys
    # A synced page that changes an address rewrites that record's keys.
    bulk.upsert_page(
        None,
        KommoContact,
        [{"remote_id": 501, "name": "Maria S.", "email": "maria.nova@example.com", "phone": None}],
    )
    first = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 501))
    assert ("email", "maria.nova@example.com") in _keys("kommo", first.id)
    assert ("email", "maria@example.com") not in _keys("kommo", first.id)
    db.session.delete(contact)
    db.session.commit()
    assert _keys("kommo", contact.id) == set()


def test_rebuild_cli_recomputes_every_key(person, webhook_app):
    before = set(
        db.session.execute(
            select(CustomerKey.kind, CustomerKey.value, CustomerKey.source, CustomerKey.source_id)
        )
    )
    assert len(before) > 10
    db.session.execute(delete(CustomerKey))
    db.session.commit()
    result = webhook_app.test_cli_runner().invoke(args=["customers", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "chaves de clientes recalculadas" in result.output
    after = set(
        db.session.execute(
            select(CustomerKey.kind, CustomerKey.value, CustomerKey.source, CustomerKey.source_id)
        )
    )
    assert after == before
    assert db.session.scalar(select(func.count()).select_from(CustomerKey)) == len(before)
    assert "PED-8001" in _page(person, "/clientes/email:maria@example.com")


def test_navbar_has_the_customer_search(person):
    html = _page(person, "/")
    assert 'aria-label="Buscar cliente"' in html and 'action="/clientes"' in html


def test_a_rolled_back_savepoint_leaves_no_keys_behind(app):
    db.session.add(KommoContact(remote_id=601, name="Fica", email="fica@example.com"))
    db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(KommoContact(remote_id=602, name="Some", email="some@example.com"))
            db.session.flush()
            raise RuntimeError("the savepoint fails")
    except RuntimeError:
        pass
    db.session.commit()
    values = set(db.session.scalars(select(CustomerKey.value).where(CustomerKey.kind == "email")))
    assert values == {"fica@example.com"}
