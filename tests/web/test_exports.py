"""CSV exports of the filtered lists (/vendas, /webhooks): the list's own filters, date and
sort, formula-safe cells, Portuguese headers, reais with a comma, streamed in batches."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import WebhookEvent
from tests import seeds


def _lines(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return [line.split(";") for line in text.lstrip("\ufeff").strip().splitlines()]


def _sale(tx, **kw):
    db.session.add(seeds.sale(tx, **kw))


@pytest.fixture
def sales(app, auth):
    _sale("HP1", buyer_name='=HYPERLINK("http://x")')
    _sale(
        "KW2",
        platform="kiwify",
        status="refunded",
        amount_cents=990,
        ordered_at=datetime(2026, 11, 12, 2, 30, tzinfo=UTC),
    )  # 11/11 23:30 in São Paulo
    _sale("TESTE-3", is_test=True)
    db.session.commit()
    auth.operator()


def test_sales_export_honours_the_list_filters_and_dates(client, sales):
    rows = _lines(client.get("/vendas/exportar.csv"))
    assert rows[0][:3] == ["Data do pedido", "Origem", "Transação"] and "Valor (R$)" in rows[0]
    txs = [r[2] for r in rows[1:]]
    assert txs == ["KW2", "HP1"]  # newest order first, the test sale left out
    by_tx = {r[2]: r for r in rows[1:]}
    assert by_tx["HP1"][0] == "10/11/2026 12:00" and by_tx["HP1"][6] == "1234,56"
    assert by_tx["KW2"][0] == "11/11/2026 23:30" and by_tx["KW2"][6] == "9,90"
    assert by_tx["KW2"][1] == "Kiwify" and by_tx["KW2"][9] == "Reembolsada"
    assert by_tx["HP1"][8] == "PIX"

    def txs_of(query):
        return [r[2] for r in _lines(client.get(f"/vendas/exportar.csv?{query}"))[1:]]

    assert txs_of("platform=kiwify") == ["KW2"]
    assert txs_of("status=approved") == ["HP1"]
    assert txs_of("q=kw2") == ["KW2"]
    # The São Paulo day, as the list: 02:30 UTC on the 12th is still the 11th.
    assert txs_of("de=2026-11-11&ate=2026-11-11") == ["KW2"]
    assert txs_of("ordem=valor&dir=asc") == ["KW2", "HP1"]
    assert txs_of("ordem=valor&dir=desc") == ["HP1", "KW2"]
    assert sorted(txs_of("testes=incluir")) == ["HP1", "KW2", "TESTE-3"]
    assert txs_of("testes=apenas") == ["TESTE-3"]
    # The page lists exactly what its button exports.
    page = client.get("/vendas?platform=kiwify&ordem=valor&dir=asc").get_data(as_text=True)
    assert "/vendas/exportar.csv?" in page and "Baixar CSV" in page
    assert "platform=kiwify" in page.split("/vendas/exportar.csv?", 1)[1].split('"', 1)[0]


def test_sales_export_neutralizes_formulas(client, sales):
    text = client.get("/vendas/exportar.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text


def _spy_on_batches(monkeypatch) -> list:
    """The ``yield_per`` of every ``Session.scalars`` from now on (an export streams in batches)."""
    seen = []
    original = Session.scalars

    def spy(self, statement, *args, **kwargs):
        seen.append(statement.get_execution_options().get("yield_per"))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(Session, "scalars", spy)
    return seen


def test_exports_stream_in_batches(client, sales, monkeypatch):
    seen = _spy_on_batches(monkeypatch)
    for path in ("/vendas/exportar.csv", "/webhooks/exportar.csv", "/auditoria/exportar.csv"):
        seen.clear()
        client.get(path).get_data()
        assert seen and all(n == 500 for n in seen), path


def test_exports_require_login(client, app):
    for path in ("/vendas/exportar.csv", "/webhooks/exportar.csv", "/auditoria/exportar.csv"):
        response = client.get(path)
        assert response.status_code in (302, 401, 403) and "text/csv" not in response.mimetype


def test_webhooks_export_honours_filters(app, auth, client):
    when = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    for i, (platform, status, email) in enumerate(
        [("hotmart", "processed", "@evil.com"), ("kiwify", "failed", "b@example.com")]
    ):
        db.session.add(
            WebhookEvent(
                platform=platform,
                dedupe_key=f"k{i}",
                event_type="PURCHASE_APPROVED",
                transaction_id=f"T{i}",
                buyer_email=email,
                raw_body="{}",
                status=status,
                received_at=when,
                last_error="=cmd" if i else None,
            )
        )
    db.session.commit()
    auth.operator()
    rows = _lines(client.get("/webhooks/exportar.csv"))
    assert rows[0][:3] == ["Recebido em", "Plataforma", "Evento"]
    assert {r[3] for r in rows[1:]} == {"T0", "T1"}
    failed = _lines(client.get("/webhooks/exportar.csv?status=failed"))[1:]
    assert [r[3] for r in failed] == ["T1"] and failed[0][5] == "Falhou"
    assert failed[0][8] == "'=cmd" and failed[0][2] == "Compra aprovada"
    hotmart = _lines(client.get("/webhooks/exportar.csv?platform=hotmart"))[1:]
    assert [r[4] for r in hotmart] == ["'@evil.com"]
    page = client.get("/webhooks?status=failed").get_data(as_text=True)
    href = page.split("/webhooks/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "status=failed" in href


def test_audit_export_honours_filters(app, auth, client, monkeypatch):
    from app.models import AuditEntry
    from app.services import audit

    when = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    for actor, action in (
        ("ana@example.com", audit.WEBHOOK_REPLAYED),
        ("=bia@example.com", audit.WEBHOOK_TEST_SENT),
    ):
        db.session.add(AuditEntry(actor_email=actor, action=action, created_at=when, details={}))
    db.session.commit()
    auth.operator()
    rows = _lines(client.get("/auditoria/exportar.csv"))
    assert rows[0] == ["Quando", "Quem", "O quê", "Detalhes", "Endereço IP"]
    assert {r[1] for r in rows[1:]} >= {"ana@example.com", "'=bia@example.com"}
    replayed = _lines(client.get(f"/auditoria/exportar.csv?action={audit.WEBHOOK_REPLAYED}"))
    assert [r[1] for r in replayed[1:]] == ["ana@example.com"]
    assert (
        replayed[1][0] == "10/11/2026 12:00"
        and replayed[1][2] == audit.ACTIONS[audit.WEBHOOK_REPLAYED]
    )
    by_actor = _lines(client.get("/auditoria/exportar.csv?actor=ana@example.com"))[1:]
    assert [r[1] for r in by_actor] == ["ana@example.com"]
    page = client.get(f"/auditoria?action={audit.WEBHOOK_REPLAYED}").get_data(as_text=True)
    assert f"/auditoria/exportar.csv?action={audit.WEBHOOK_REPLAYED}" in page


def test_kommo_export_of_contacts_and_deals(app, auth, client):

    when = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    db.session.add_all(
        [
            seeds.kommo_contact(
                remote_id=501, name="=Maria", email="m@example.com", remote_updated_at=when
            ),
            seeds.kommo_contact(remote_id=502, name="João", remote_updated_at=when),
            seeds.kommo_lead(
                remote_id=9001,
                price=1500,
                currency="BRL",
                is_won=True,
                status_name="Ganho",
                contact_id=501,
                remote_updated_at=when,
            ),
            seeds.kommo_lead(remote_id=9002, name="Curso", price=97, is_lost=True, contact_id=None),
        ]
    )
    db.session.commit()
    auth.operator()
    contacts = _lines(client.get("/kommo/exportar.csv?aba=contatos"))
    assert contacts[0][0] == "Contato"
    assert {r[0] for r in contacts[1:]} == {"'=Maria", "João"}
    only = _lines(client.get("/kommo/exportar.csv?aba=contatos&q=joão"))[1:]
    assert [r[0] for r in only] == ["João"]
    won = _lines(client.get("/kommo/exportar.csv?aba=negocios&status=won"))
    assert won[0][0] == "Negócio" and len(won) == 2
    assert won[1][:3] == ["Mentoria", "9001", "1500,00"] and won[1][6] == "Ganho"
    every = _lines(client.get("/kommo/exportar.csv?aba=negocios"))[1:]
    assert [r[0] for r in every] == ["Mentoria", "Curso"]  # never-updated deals last
    page = client.get("/kommo?aba=negocios&status=won").get_data(as_text=True)
    href = page.split("/kommo/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "status=won" in href and "aba=negocios" in href


def test_gestao_click_export_of_sales_and_clients(app, auth, client):
    from datetime import date

    db.session.add_all(
        [
            seeds.gc_sale(remote_id="1", codigo="PED-1", cliente_nome="=Loja"),
            seeds.gc_sale(
                remote_id="2",
                codigo="PED-2",
                data=date(2026, 11, 5),
                tipo="servico",
                cliente_nome="Outra",
                valor_total_cents=1000,
            ),
            seeds.gc_client(remote_id="7", nome="Maria Souza ME", cpf_cnpj="00000000191"),
        ]
    )
    db.session.commit()
    auth.operator()
    sales = _lines(client.get("/gestao-click/exportar.csv?aba=vendas"))
    assert sales[0][0] == "Código" and [r[0] for r in sales[1:]] == ["PED-2", "PED-1"]
    assert sales[2][1:3] == ["02/11/2026", "'=Loja"] and sales[2][8] == "459,90"
    services = _lines(client.get("/gestao-click/exportar.csv?aba=vendas&tipo=servico"))[1:]
    assert [r[0] for r in services] == ["PED-2"]
    clients = _lines(client.get("/gestao-click/exportar.csv?aba=clientes&q=maria"))
    assert clients[0][0] == "Nome" and [r[0] for r in clients[1:]] == ["Maria Souza ME"]
    page = client.get("/gestao-click?aba=vendas&tipo=servico").get_data(as_text=True)
    assert "tipo=servico" in page.split("/gestao-click/exportar.csv?", 1)[1].split('"', 1)[0]


def test_hotmart_export_of_products_and_subscriptions(app, auth, client):
    from app.models import Product

    db.session.add_all(
        [
            seeds.hotmart_product(
                remote_id="101", ucode="uc-101", name="=Curso Avançado", warranty_period=7
            ),
            Product(platform="hotmart", remote_id="102", name="Ebook", status="PAUSED"),
            Product(platform="kiwify", remote_id="103", name="De outra plataforma"),
            seeds.hotmart_subscription(
                subscriber_code="SUB1",
                product_id="101",
                product_name="Clube",
                buyer_email="+cmd@example.com",
                price_cents=4_990,
                accession_date=datetime(2026, 11, 2, 2, 0, tzinfo=UTC),  # 01/11 in São Paulo
            ),
            seeds.hotmart_subscription(
                subscriber_code="SUB2",
                product_id="101",
                product_name=None,
                status="CANCELLED_BY_CUSTOMER",
            ),
        ]
    )
    db.session.commit()
    auth.operator()
    products = _lines(client.get("/hotmart/exportar.csv?aba=produtos"))
    assert products[0][:3] == ["Produto", "ID na Hotmart", "Código (ucode)"]
    assert [r[1] for r in products[1:]] == ["101", "102"]  # by name, Hotmart's only
    first = products[1]
    assert first[0] == "'=Curso Avançado" and first[3:6] == ["Ativo", "Curso online", "197,00"]
    assert first[8] == "7"
    only = _lines(client.get("/hotmart/exportar.csv?aba=produtos&q=ebook"))[1:]
    assert [r[1] for r in only] == ["102"]
    by_price = _lines(client.get("/hotmart/exportar.csv?aba=produtos&sort=price&dir=desc"))[1:]
    assert [r[1] for r in by_price] == ["101", "102"]  # no price last
    subs = _lines(client.get("/hotmart/exportar.csv?aba=assinaturas"))
    assert subs[0][0] == "Assinante" and {r[2] for r in subs[1:]} == {"SUB1", "SUB2"}
    active = _lines(client.get("/hotmart/exportar.csv?aba=assinaturas&status=ACTIVE"))[1:]
    assert [r[2] for r in active] == ["SUB1"]
    assert active[0][1] == "'+cmd@example.com" and active[0][5] == "Ativo"
    assert active[0][6] == "49,90" and active[0][8] == "01/11/2026"
    # Each tab's button exports what the tab lists.
    page = client.get("/hotmart?aba=produtos&q=ebook&sort=price").get_data(as_text=True)
    href = page.split("/hotmart/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "q=ebook" in href and "sort=price" in href and "aba=produtos" in href
    page = client.get("/hotmart?aba=assinaturas&status=ACTIVE").get_data(as_text=True)
    href = page.split("/hotmart/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "status=ACTIVE" in href and "aba=assinaturas" in href


def test_gestao_click_export_of_products(app, auth, client):

    db.session.add_all(
        [
            seeds.gc_product(
                remote_id="1",
                codigo_interno="-CAM",
                estoque=12.5,
                valor_custo_cents=1_990,
                valor_venda_cents=5_990,
                ativo=True,
            ),
            seeds.gc_product(remote_id="2", nome="Caneca", ativo=False),
        ]
    )
    db.session.commit()
    auth.operator()
    rows = _lines(client.get("/gestao-click/exportar.csv?aba=produtos"))
    assert rows[0][0] == "Produto" and {r[0] for r in rows[1:]} == {"Camiseta", "Caneca"}
    shirt = next(r for r in rows[1:] if r[0] == "Camiseta")
    assert shirt[1] == "'-CAM" and shirt[4:7] == ["12,5", "19,90", "59,90"]
    assert shirt[7] == "ativo" and shirt[9] == "1"
    only = _lines(client.get("/gestao-click/exportar.csv?aba=produtos&q=caneca"))[1:]
    assert [r[0] for r in only] == ["Caneca"]
    page = client.get("/gestao-click?aba=produtos&q=caneca").get_data(as_text=True)
    href = page.split("/gestao-click/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "aba=produtos" in href and "q=caneca" in href


def test_sync_history_export_honours_filters(app, auth, client):
    from app.models import SyncRun

    start = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
    db.session.add_all(
        [
            SyncRun(
                source="hotmart",
                resource="sales",
                status="failed",
                trigger="manual",
                requested_by="ana@example.com",
                failed_count=2,
                error="=HYPERLINK(falha)",
                created_at=start,
                started_at=start,
                finished_at=start + timedelta(seconds=90),
            ),
            SyncRun(
                source="kommo",
                resource="contacts",
                status="succeeded",
                trigger="scheduled",
                created_count=4,
                created_at=start + timedelta(hours=1),
            ),
        ]
    )
    db.session.commit()
    auth.operator()
    rows = _lines(client.get("/sincronizacoes/exportar.csv"))
    assert rows[0][:3] == ["Nº", "Origem", "O quê"]
    assert [r[1] for r in rows[1:]] == ["Kommo", "Hotmart"]  # newest first
    failed = _lines(client.get("/sincronizacoes/exportar.csv?status=failed"))[1:]
    assert len(failed) == 1 and failed[0][1] == "Hotmart" and failed[0][6] == "falhou"
    assert failed[0][4:6] == ["manual", "ana@example.com"] and failed[0][7] == "10/11/2026 12:00"
    assert failed[0][9] == "90,0" and failed[0][13] == "2" and failed[0][15] == "'=HYPERLINK(falha)"
    kommo = _lines(client.get("/sincronizacoes/exportar.csv?source=kommo"))[1:]
    assert [r[4] for r in kommo] == ["agendada"]
    page = client.get("/sincronizacoes?status=failed").get_data(as_text=True)
    href = page.split("/sincronizacoes/exportar.csv?", 1)[1].split('"', 1)[0]
    assert "status=failed" in href


NEW_EXPORTS = (
    "/hotmart/exportar.csv?aba=produtos",
    "/hotmart/exportar.csv?aba=assinaturas",
    "/gestao-click/exportar.csv?aba=produtos",
    "/sincronizacoes/exportar.csv",
)


def test_new_exports_require_an_operator_and_stream_in_batches(app, auth, client, monkeypatch):
    for path in NEW_EXPORTS:
        response = client.get(path)
        assert response.status_code in (302, 401) and "text/csv" not in response.mimetype
    auth.member()
    for path in NEW_EXPORTS:
        assert client.get(path).status_code == 403, path
    auth.logout()
    auth.login()
    seen = _spy_on_batches(monkeypatch)
    for path in NEW_EXPORTS:
        seen.clear()
        _lines(client.get(path))
        assert 500 in seen, path
