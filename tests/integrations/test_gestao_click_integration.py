"""Gestão Click integration end to end: the app's settings point at a live emulator.

Paging by ``pagina``/``proxima_pagina``, the extra ``tipo`` passes for vendas, idempotent
re-runs, retries (429 yes, 401 no), validation errors sent as 404, Test Connection messages,
the JSON API, the page, and tokens kept out of logs and HTML.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.clients.errors import AuthenticationError, InvalidRequestError, NotFoundError
from app.clients.gestao_click import GestaoClickClient, normalize_api_url, usage_counter
from app.extensions import db
from app.models import GcClient, GcProduct, GcSale, Sale
from app.services import gestao_click, sync
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, count_rows, csrf_token

SALES = 260
CLIENTS = 130
PRODUCTS = 45
PAGE = 25  # emulator page size: several pages per list
LIST_ENDPOINT = "gestaoclick.list_resource"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    usage_counter.reset()
    return start_emulator(
        gc_sales=SALES,
        gc_clients=CLIENTS,
        gc_products=PRODUCTS,
        gc_page_size=PAGE,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


def gc_config(emu: LiveEmulator, **overrides) -> dict:
    config = {
        "GESTAOCLICK_ACCESS_TOKEN": emu.config.gc_access_token,
        "GESTAOCLICK_SECRET_TOKEN": emu.config.gc_secret_token,
        "GESTAOCLICK_API_URL": emu.gestaoclick,
        "RETRY_ATTEMPTS": 3,
        "RETRY_DELAY": 0.01,
        "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
        "GESTAOCLICK_TIMEOUT": 3.0,
        "GESTAOCLICK_FULL_SYNC_DAYS": 400,  # the emulator spreads vendas over 365 days
    }
    config.update(overrides)
    return config


@pytest.fixture
def gc_app(app_factory, emu):
    app = app_factory(**gc_config(emu))
    with app.app_context():
        yield app
        sync.wait_idle(10)


def gc_client(emu: LiveEmulator, **kw) -> GestaoClickClient:
    kw.setdefault("throttle_per_second", None)
    kw.setdefault("retry_delay", 0.01)
    kw.setdefault("timeout", (2.0, 5.0))
    cfg = emu.config
    return GestaoClickClient(cfg.gc_access_token, cfg.gc_secret_token, emu.gestaoclick, **kw)


def pages(n: int) -> int:
    return max(1, math.ceil(n / PAGE))


def expected_by_tipo(emu: LiveEmulator) -> dict[str, int]:
    with gc_client(emu) as client:
        return {
            tipo: next(client.venda_pages(tipo=tipo)).total
            for tipo in ("produto", "servico", "vendas_balcao")
        }


# ------------------------------------------------------------------------------ client


def test_base_url_gets_api_appended_when_missing():
    assert normalize_api_url(None) == "https://api.gestaoclick.com/api"
    assert normalize_api_url("https://api.gestaoclick.com") == "https://api.gestaoclick.com/api"
    assert normalize_api_url("https://api.gestaoclick.com/api/") == (
        "https://api.gestaoclick.com/api"
    )
    assert normalize_api_url("https://api.beteltecnologia.com") == (
        "https://api.beteltecnologia.com/api"
    )
    assert normalize_api_url("http://127.0.0.1:5055/gestaoclick/api") == (
        "http://127.0.0.1:5055/gestaoclick/api"
    )


def test_clients_of_one_account_share_the_throttle(emu):
    first, second = gc_client(emu, throttle_per_second=2.0), gc_client(emu, throttle_per_second=2.0)
    other = GestaoClickClient("another-token", "secret", emu.gestaoclick, throttle_per_second=2.0)
    # one budget per account: the same key in the same (process-wide) store
    assert first.gateway.throttle.key == second.gateway.throttle.key
    assert first.gateway.throttle.store is second.gateway.throttle.store
    assert other.gateway.throttle.key != first.gateway.throttle.key
    assert "another-token" not in other.gateway.throttle.key


def test_pagination_walks_every_page_exactly_once(emu):
    with gc_client(emu) as client:
        clientes = list(client.iter_clientes())
        produtos = list(client.iter_produtos())
        assert client.requests_today == pages(CLIENTS) + pages(PRODUCTS)
    assert len(clientes) == CLIENTS and len({c["id"] for c in clientes}) == CLIENTS
    assert len(produtos) == PRODUCTS and len({p["id"] for p in produtos}) == PRODUCTS
    assert emu.hits(LIST_ENDPOINT) == pages(CLIENTS) + pages(PRODUCTS)


def test_vendas_without_tipo_are_products_only(emu):
    expected = expected_by_tipo(emu)
    assert sum(expected.values()) == SALES and expected["servico"] and expected["vendas_balcao"]
    with gc_client(emu) as client:
        plain = list(client.iter_vendas())
        assert len(plain) == expected["produto"]
        assert client.venda(plain[0]["id"])["id"] == plain[0]["id"]


def test_validation_error_404_is_an_invalid_request_with_the_reason(emu):
    with gc_client(emu) as client:
        with pytest.raises(InvalidRequestError) as info:
            list(client.iter_vendas(data_inicio="2024-13-45"))
        assert info.value.status == 404
        assert "Data inválida" in info.value.message
        assert info.value.attempts == 1  # never retried
        with pytest.raises(NotFoundError):
            client.venda("1")


def test_401_is_not_retried(emu):
    client = GestaoClickClient("emu-gc-access-token", "wrong-secret", emu.gestaoclick)
    with client, pytest.raises(AuthenticationError) as info:
        client.lojas()
    assert info.value.status == 401 and info.value.attempts == 1
    assert emu.stats()["total"] == 1


# ------------------------------------------------------------------------------ syncs


def test_sales_sync_reads_every_tipo_and_a_rerun_changes_nothing(gc_app, emu):
    expected = expected_by_tipo(emu)
    before = emu.hits(LIST_ENDPOINT)
    first = sync.run_sync("gestao-click", "sales", full=True)
    assert first.status == "succeeded", first.error
    assert (first.created_count, first.failed_count) == (SALES, 0)
    assert first.progress_done == first.progress_total == SALES
    rows = db.session.execute(select(GcSale.tipo, func.count()).group_by(GcSale.tipo)).all()
    by_tipo = dict(rows)
    assert by_tipo == expected
    # servico, vendas_balcao, then the pass without tipo: three walks over their pages
    assert emu.hits(LIST_ENDPOINT) - before == sum(pages(n) for n in expected.values())
    sale = db.session.scalars(select(GcSale).where(GcSale.tipo == "produto")).first()
    assert sale.valor_total_cents > 0 and isinstance(sale.data, date)
    assert sale.cliente_nome and sale.situacao_nome and sale.forma_pagamento
    assert sale.items_count >= 1
    assert count_rows(Sale) == 0  # ERP sales never enter the webhook sales table

    again = sync.run_sync("gestao_click", "sales", full=True)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)
    assert again.unchanged_count == SALES
    trailing = sync.run_sync("gestao_click", "sales")  # last 30 days (+1 day of overlap)
    assert (trailing.created_count, trailing.updated_count) == (0, 0)
    assert 0 < trailing.unchanged_count < SALES
    assert count_rows(GcSale) == SALES


def test_trailing_window_reaches_back_to_the_last_success(gc_app):
    ctx = sync.SyncContext(1, last_success_at=datetime.now(UTC) - timedelta(days=90))
    start, end = gestao_click.sales_range(ctx, False, now=date(2026, 6, 30))
    assert end == date(2026, 6, 30) and start == date(2026, 6, 30) - timedelta(days=30)
    today = gestao_click.today()
    start, _ = gestao_click.sales_range(ctx, False, now=today)
    assert (today - start).days >= 90
    start, _ = gestao_click.sales_range(sync.SyncContext(1), True, now=today)
    assert (today - start).days == 400


def test_clients_and_products_rescan_with_unchanged_detection(gc_app, emu):
    first = sync.run_sync("gestao_click", "clients")
    assert (first.status, first.created_count) == ("succeeded", CLIENTS), first.error
    products = sync.run_sync("gestao_click", "products")
    assert (products.status, products.created_count) == ("succeeded", PRODUCTS), products.error
    client = db.session.scalars(select(GcClient).where(GcClient.tipo_pessoa == "PF")).first()
    assert client.cpf_cnpj.isdigit() and len(client.cpf_cnpj) == 11
    assert client.email and client.cidade and len(client.estado) == 2 and client.modificado_em
    with gc_client(emu) as api:
        remote = api.produto(db.session.scalars(select(GcProduct.remote_id)).first())
    product = db.session.scalar(select(GcProduct).where(GcProduct.remote_id == remote["id"]))
    cents = int(remote["valor_venda"].replace(".", ""))
    assert product.valor_venda_cents == cents and product.valor_custo_cents > 0
    assert product.codigo_interno == remote["codigo_interno"] and product.modificado_em

    # a local difference is repaired by the next rescan; the rest stays unchanged
    product.nome = "editado localmente"
    db.session.commit()
    again = sync.run_sync("gestao_click", "products")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (
        0,
        1,
        PRODUCTS - 1,
    )
    clients_again = sync.run_sync("gestao_click", "clients")
    assert (clients_again.created_count, clients_again.updated_count) == (0, 0)
    assert clients_again.unchanged_count == CLIENTS


def test_sync_without_tokens_is_refused(app_factory, emu):
    app = app_factory(**gc_config(emu, GESTAOCLICK_ACCESS_TOKEN=None))
    with app.app_context():
        assert not gestao_click.is_configured()
        assert not sync.get_syncer("gestao_click", "sales").is_enabled()
        client = app.test_client()
        Auth(app, client).operator()
        token = csrf_token(client, "/gestao-click")
        response = client.post("/api/gestao-click/sync", headers={"X-CSRFToken": token})
        assert response.status_code == 409
        assert response.get_json()["success"] is False


# ------------------------------------------------------------------------------ Test Connection


@pytest.fixture
def operator_client(gc_app):
    client = gc_app.test_client()
    Auth(gc_app, client).operator()
    return client


def _test_via_api(client) -> dict:
    response = client.get("/api/gestao-click/test-connection")
    assert response.status_code == 200
    body = response.get_json()
    assert {"success", "message", "code", "details", "usage"} <= set(body)
    return body


def _connection(app_factory, emu, **overrides) -> dict:
    app = app_factory(**gc_config(emu, **overrides))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        return _test_via_api(client)


def test_connection_ok_names_the_store_and_counts_usage(operator_client, emu):
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (True, "ok")
    assert "Loja Matriz" in body["message"] and "e mais 1 loja" in body["message"]
    assert body["usage"]["used"] == 1 and body["usage"]["limit"] == 30000


def test_connection_missing_tokens(app_factory, emu):
    body = _connection(app_factory, emu, GESTAOCLICK_SECRET_TOKEN=None)
    assert (body["success"], body["code"]) == (False, "missing_credentials")
    assert "não configurados" in body["message"]
    assert emu.stats()["total"] == 0


@pytest.mark.parametrize(
    ("fault", "status", "code", "words"),
    [
        ({"unauthorized": True}, "401", "invalid_credentials", "inválidos"),
        # 403: tokens recognised, API access refused (not "invalid credentials", issue 12)
        ({"blocked": True}, "403", "permission_denied", "módulo de API"),
    ],
)
def test_connection_refused_tokens_are_not_retried(
    operator_client, emu, fault, status, code, words
):
    emu.fault(api="gestaoclick", path="/lojas", **fault)
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (False, code)
    assert status in body["message"] and words in body["message"]
    assert emu.stats()["total"] == 1


def test_wrong_tokens_give_invalid_credentials(app_factory, emu):
    body = _connection(app_factory, emu, GESTAOCLICK_ACCESS_TOKEN="wrong-access-token")
    assert (body["code"], body["success"]) == ("invalid_credentials", False)
    assert "inválidos" in body["message"]


def test_connection_rate_limited(app_factory, emu):
    emu.fault(api="gestaoclick", path="/lojas", status=429)
    body = _connection(app_factory, emu, RETRY_ATTEMPTS=1)
    assert (body["success"], body["code"]) == (False, "rate_limited")
    assert "Limite de requisições" in body["message"] and "30.000" in body["message"]
    assert body["usage"]["used"] == 2  # refused requests count too


def test_connection_timeout(app_factory, emu):
    emu.fault(api="gestaoclick", path="/lojas", latency_ms=1200)
    body = _connection(app_factory, emu, GESTAOCLICK_TIMEOUT=0.3, RETRY_ATTEMPTS=0)
    assert (body["success"], body["code"]) == (False, "timeout")
    assert "não respondeu a tempo" in body["message"]


def test_connection_error(app_factory, emu, refused_url):
    body = _connection(app_factory, emu, GESTAOCLICK_API_URL=refused_url, RETRY_ATTEMPTS=0)
    assert (body["success"], body["code"]) == (False, "connection_error")
    assert "Não foi possível conectar" in body["message"]


def test_connection_upstream_error(app_factory, emu):
    emu.fault(api="gestaoclick", path="/lojas", status=500)
    body = _connection(app_factory, emu, RETRY_ATTEMPTS=0)
    assert (body["success"], body["code"]) == (False, "upstream_error")
    assert "HTTP 500" in body["message"]


def test_429_is_retried_then_succeeds(gc_app, emu):
    emu.fault(api="gestaoclick", path="/lojas", status=429, count=2)
    result = gestao_click.test_connection()
    assert result.success, result.message
    assert emu.statuses("gestaoclick") == {"429": 2, "200": 1}
    assert gestao_click.usage()["used"] == 3


# ------------------------------------------------------------------------------ API, page, secrets


def test_api_sync_and_list_shapes(operator_client, gc_app, emu):
    headers = {"X-CSRFToken": csrf_token(operator_client, "/gestao-click")}
    response = operator_client.post("/api/gestao-click/sync", headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is True and body["run_id"] == body["run_ids"]["sales"]
    assert set(body["run_ids"]) == {"sales", "clients", "products"}
    assert sync.wait_idle(120)
    for resource, run_id in body["run_ids"].items():
        run = operator_client.get(f"/api/sync-runs/{run_id}").get_json()
        assert (run["resource"], run["status"]) == (resource, "succeeded"), run

    listed = operator_client.get("/api/gestao-click/clients?page=2&limit=10").get_json()
    assert (listed["success"], listed["page"], listed["limit"], listed["total"]) == (
        True,
        2,
        10,
        CLIENTS,
    )
    assert len(listed["items"]) == 10
    assert {"remote_id", "nome", "cpf_cnpj", "email", "ativo"} <= set(listed["items"][0])
    first = listed["items"][0]
    found = operator_client.get(f"/api/gestao-click/clients?query={first['remote_id']}")
    assert found.get_json()["total"] == 1
    products = operator_client.get("/api/gestao-click/products?limit=100").get_json()
    assert products["total"] == PRODUCTS and "valor_venda_cents" in products["items"][0]
    sales = operator_client.get("/api/gestao-click/sales?limit=5").get_json()
    assert sales["total"] > 0 and len(sales["items"]) <= 5
    assert {"codigo", "data", "valor_total_cents", "tipo"} <= set(sales["items"][0])
    one = operator_client.post(
        "/api/gestao-click/sync", json={"resource": "products"}, headers=headers
    ).get_json()
    assert set(one["run_ids"]) == {"products"}
    assert sync.wait_idle(120)

    bad = operator_client.get("/api/gestao-click/sales?limit=101")
    assert bad.status_code == 400
    error_body = bad.get_json()
    assert error_body["success"] is False and set(error_body["error"]) == {"code", "message"}
    assert operator_client.post("/api/gestao-click/sync").status_code == 400  # no CSRF token


def test_page_renders_for_operator_and_is_forbidden_for_members(gc_app, emu):
    assert sync.run_sync("gestao_click", "sales", full=True).status == "succeeded"
    assert sync.run_sync("gestao_click", "clients").status == "succeeded"
    assert sync.run_sync("gestao_click", "products").status == "succeeded"
    client = gc_app.test_client()
    auth = Auth(gc_app, client)
    auth.member()
    assert client.get("/gestao-click").status_code == 403
    assert client.get("/api/gestao-click/sales").status_code == 403
    auth.logout()
    auth.login()
    html = client.get("/gestao-click").get_data(as_text=True)
    assert "Testar conexão" in html and "Requisições hoje" in html
    assert html.count("Sincronizar") >= 3
    sale = db.session.scalars(select(GcSale).order_by(GcSale.data.desc(), GcSale.id.desc())).first()
    assert sale.data.strftime("%d/%m/%Y") in html and "R$" in html
    html = client.get("/gestao-click?aba=clientes").get_data(as_text=True)
    name = db.session.scalars(select(GcClient.nome).order_by(GcClient.nome)).first()
    assert name in html
    html = client.get("/gestao-click?aba=produtos&q=zzzz-nada").get_data(as_text=True)
    assert "Nenhum produto encontrado" in html
    assert "<script>" not in html and "style=" not in html


def test_page_empty_state_without_tokens(app_factory):
    app = app_factory()
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        html = client.get("/gestao-click").get_data(as_text=True)
    assert "tokens não configurados" in html and "informe-os em" in html
    assert "GESTAOCLICK_ACCESS_TOKEN" not in html  # a server setting, not the seller's words
    assert "Nenhuma venda ainda" in html


def test_tokens_never_reach_logs_or_the_page(operator_client, gc_app, emu, caplog):
    caplog.set_level(logging.DEBUG)
    emu.fault(api="gestaoclick", path="/clientes", status=429, count=1)
    assert sync.run_sync("gestao_click", "clients").status == "succeeded"
    assert _test_via_api(operator_client)["success"]
    emu.fault(api="gestaoclick", path="/lojas", unauthorized=True, count=1)
    assert not _test_via_api(operator_client)["success"]
    page = operator_client.get("/gestao-click").get_data(as_text=True)
    assert caplog.records
    for value in (emu.config.gc_access_token, emu.config.gc_secret_token):
        assert value not in caplog.text
        assert value not in page
