"""Hotmart integration end to end: the app's settings point at a live emulator.

Token cached in the database, refresh on 401, full pagination, idempotent syncs, webhook and
sales history ending as one sale, Test Connection messages, retries, secrets kept out of logs.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, ApiToken, OutboxEmail, Product, Sale, Subscription
from app.services import hotmart, sync
from emulator.webhooks import build_event
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, count_rows

PRODUCTS = 30
SALES = 1000
SUBSCRIPTIONS = 120
HOTTOK = "hottok-test-0123456789"


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        products=PRODUCTS,
        sales=SALES,
        subscriptions=SUBSCRIPTIONS,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


def hotmart_config(emu: LiveEmulator, **overrides) -> dict:
    client_id, secret = emu.sandbox_credentials
    config = {
        "HOTMART_CLIENT_ID": client_id,
        "HOTMART_CLIENT_SECRET": secret,
        "HOTMART_API_URL": emu.hotmart_sandbox,
        "HOTMART_AUTH_URL": emu.hotmart_auth,
        "HOTMART_ENV": "sandbox",
        "HOTMART_WEBHOOK_HOTTOK": HOTTOK,
        "RETRY_ATTEMPTS": 3,
        "RETRY_DELAY": 0.01,
        "HOTMART_THROTTLE_PER_SECOND": 0,
        "HOTMART_TIMEOUT": 3.0,
        "HOTMART_SYNC_LOOKBACK_DAYS": 400,
        "HOTMART_SYNC_WINDOW_DAYS": 60,
        "HOTMART_PAGE_SIZE": 100,
        "HOTMART_PRODUCTS_PAGE_SIZE": 7,
    }
    config.update(overrides)
    return config


@pytest.fixture
def hm_app(app_factory, emu):
    app = app_factory(**hotmart_config(emu))
    with app.app_context():
        yield app
        sync.wait_idle(10)


def expected_sales(emu: LiveEmulator) -> dict[str | None, int]:
    """What the emulator lists per pass (no dates: everything)."""
    with emu.hotmart() as client:
        return {
            status: next(client.sales_pages(transaction_status=status, page_size=1)).total_results
            for status in (None, *hotmart.REVOKED_PASSES)
        }


# ------------------------------------------------------------------------------ token


def test_token_is_cached_in_the_database_and_shared(hm_app, emu):
    run = sync.run_sync("hotmart", "products")
    assert run.status == "succeeded", run.error
    assert emu.hits("hotmart.products") == math.ceil(PRODUCTS / 7)
    assert hotmart.test_connection().success
    # a second app context and a fresh client: same token from the database
    with hm_app.app_context():
        with hotmart.build_client() as other:
            assert other.test_connection().success
    assert emu.hits("hotmart.token") == 1
    row = db.session.get(ApiToken, f"hotmart:sandbox:{emu.sandbox_credentials[0]}")
    assert row is not None and row.expires_at > datetime.now(UTC)
    raw = db.session.execute(
        select(ApiToken.__table__.c.token).where(ApiToken.name == row.name)
    ).scalar()
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token FROM api_tokens").scalar()
    assert raw == row.token and stored != row.token  # encrypted at rest


def test_a_401_fetches_a_new_token_once(hm_app, emu):
    assert hotmart.test_connection().success
    emu.fault(api="hotmart", path="/products", unauthorized=True, count=1)
    result = hotmart.test_connection()
    assert result.success, result.message
    assert emu.hits("hotmart.token") == 2


# ------------------------------------------------------------------------------ syncs


def test_products_sync_pages_everything_and_a_rerun_changes_nothing(hm_app, emu):
    first = sync.run_sync("hotmart", "products")
    assert (first.status, first.created_count, first.failed_count) == ("succeeded", PRODUCTS, 0)
    assert first.progress_total == PRODUCTS and first.progress_done == PRODUCTS
    assert count_rows(Product) == PRODUCTS
    product = db.session.scalars(select(Product).order_by(Product.remote_id)).first()
    assert product.ucode and product.name and product.status and product.raw["id"]
    second = sync.run_sync("hotmart", "products")
    assert (second.created_count, second.updated_count) == (0, 0)
    assert second.unchanged_count == PRODUCTS
    assert count_rows(Product) == PRODUCTS


def test_sales_sync_reads_every_pass_exactly_and_is_idempotent(hm_app, emu):
    expected = expected_sales(emu)
    total = sum(expected.values())
    assert total > 900  # ~1,000 sales minus pending/expired ones
    sync.run_sync("hotmart", "products")  # ucodes known: sales use them like webhooks do
    first = sync.run_sync("hotmart", "sales", full=True)
    assert first.status == "succeeded", first.error
    assert (first.created_count, first.failed_count) == (total, 0)
    assert count_rows(Sale, Sale.platform == "hotmart", Sale.source == "sync") == total
    by_status = dict(
        db.session.execute(select(Sale.status, func.count()).group_by(Sale.status)).all()
    )
    assert by_status.get("disputed") == expected["PROTESTED"]
    assert by_status.get("refunded") == expected["REFUNDED"]
    assert by_status.get("canceled") == expected["CANCELLED"]
    assert by_status.get("approved", 0) + by_status.get("complete", 0) == expected[None]
    sale = db.session.scalars(select(Sale).where(Sale.status == "complete")).first()
    assert sale.amount_cents > 0 and sale.currency == "BRL" and sale.approved_at
    assert sale.buyer_email == sale.buyer_email.lower() and sale.payment_method
    assert db.session.scalar(select(Product.id).where(Product.ucode == sale.product_id))
    assert sale.history[0].event_type == "sync"
    # a synced sale never issues activation links or e-mails by itself
    assert count_rows(ActivationLink) == 0 and count_rows(OutboxEmail) == 0

    incremental = sync.run_sync("hotmart", "sales")  # since the last success minus 2 days
    assert (incremental.created_count, incremental.updated_count) == (0, 0)
    assert incremental.unchanged_count < total
    again = sync.run_sync("hotmart", "sales", full=True)
    assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)
    assert again.unchanged_count == total
    assert count_rows(Sale) == total


def test_a_webhook_sale_and_the_same_sale_from_history_are_one_row(hm_app, emu):
    with emu.hotmart() as client:
        item = next(client.sales_pages(transaction_status="APPROVED", page_size=1)).items[0]
    transaction = item["purchase"]["transaction"]
    body, headers, _ = build_event(
        "hotmart",
        "approved",
        secret=HOTTOK,
        transaction=transaction,
        email=item["buyer"]["email"],
        name=item["buyer"]["name"],
    )
    response = hm_app.test_client().post("/webhook/hotmart", data=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    webhook_sale = db.session.scalar(select(Sale).where(Sale.transaction_id == transaction))
    assert webhook_sale.source == "webhook" and webhook_sale.status == "approved"
    links = count_rows(ActivationLink)
    assert links == 1

    run = sync.run_sync("hotmart", "sales", full=True)
    assert run.status == "succeeded", run.error
    assert count_rows(Sale, Sale.transaction_id == transaction) == 1
    assert run.created_count == sum(expected_sales(emu).values()) - 1
    db.session.expire_all()
    sale = db.session.scalar(select(Sale).where(Sale.transaction_id == transaction))
    assert sale.id == webhook_sale.id and sale.source == "webhook"
    assert sale.offer_code and sale.amount_cents  # filled or kept, never duplicated
    assert count_rows(ActivationLink) == links  # no second link


def test_subscriptions_sync_and_rerun(hm_app, emu):
    first = sync.run_sync("hotmart", "subscriptions")
    assert (first.status, first.created_count) == ("succeeded", SUBSCRIPTIONS), first.error
    assert count_rows(Subscription) == SUBSCRIPTIONS
    sub = db.session.scalars(select(Subscription)).first()
    assert sub.subscriber_code and sub.plan_name and sub.buyer_email and sub.accession_date
    second = sync.run_sync("hotmart", "subscriptions")
    assert (second.created_count, second.updated_count) == (0, 0)
    assert second.unchanged_count == SUBSCRIPTIONS


# ------------------------------------------------------------------------------ Test Connection


@pytest.fixture
def operator_client(hm_app):
    client = hm_app.test_client()
    Auth(hm_app, client).operator()
    return client


def _test_via_api(client) -> dict:
    from tests.conftest import csrf_token

    token = csrf_token(client, "/hotmart")
    response = client.put("/api/hotmart/products", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"success", "message", "code", "details"}
    return body


def test_connection_ok_via_api(operator_client, emu):
    body = _test_via_api(operator_client)
    assert body["success"] is True and body["code"] == "ok"
    assert f"{PRODUCTS} produtos encontrados" in body["message"]


def test_connection_missing_credentials(app_factory, emu):
    app = app_factory(**hotmart_config(emu, HOTMART_CLIENT_ID=None, HOTMART_CLIENT_SECRET=None))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        body = _test_via_api(client)
        assert (body["success"], body["code"]) == (False, "missing_credentials")
        assert "não configuradas" in body["message"]
        # the syncs refuse too, with a clear message
        from tests.conftest import csrf_token

        response = client.post(
            "/api/hotmart/products", headers={"X-CSRFToken": csrf_token(client, "/hotmart")}
        )
        assert response.status_code == 409
    assert emu.hits("hotmart.token") == 0


def test_connection_invalid_credentials(app_factory, emu):
    app = app_factory(**hotmart_config(emu, HOTMART_CLIENT_SECRET="wrong-secret-123"))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        body = _test_via_api(client)
    assert (body["success"], body["code"]) == (False, "invalid_credentials")
    assert "inválidas" in body["message"]
    assert emu.hits("hotmart.token") == 1  # 401 is not retried


def test_connection_permission_denied_is_not_retried(operator_client, emu):
    emu.fault(api="hotmart", path="/products", blocked=True)
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (False, "permission_denied")
    assert "403" in body["message"]
    assert emu.hits("hotmart.products") == 1


def test_connection_timeout(app_factory, emu):
    app = app_factory(**hotmart_config(emu, HOTMART_TIMEOUT=0.3, RETRY_ATTEMPTS=0))
    emu.fault(api="hotmart", path="/products", latency_ms=1500)
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        body = _test_via_api(client)
    assert (body["success"], body["code"]) == (False, "timeout")
    assert "não respondeu a tempo" in body["message"]


def test_connection_error(app_factory, emu, refused_url):
    app = app_factory(
        **hotmart_config(
            emu,
            HOTMART_API_URL=refused_url,
            HOTMART_AUTH_URL=f"{refused_url}/token",
            RETRY_ATTEMPTS=0,
        )
    )
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        body = _test_via_api(client)
    assert (body["success"], body["code"]) == (False, "connection_error")
    assert "Não foi possível conectar" in body["message"]


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_5xx_are_retried_and_succeed(hm_app, emu, status):
    emu.fault(api="hotmart", path="/products", status=status, count=2)
    result = hotmart.test_connection()
    assert result.success, result.message
    assert emu.hits("hotmart.products") == 3
    assert emu.statuses().get(str(status)) == 2


# ------------------------------------------------------------------------------ secrets, web


def test_secrets_never_reach_logs_or_the_page(operator_client, hm_app, emu, caplog):
    caplog.set_level(logging.DEBUG)
    emu.fault(api="hotmart", path="/products", unauthorized=True, count=1)
    assert sync.run_sync("hotmart", "products").status == "succeeded"
    assert _test_via_api(operator_client)["success"]
    token = db.session.scalar(select(ApiToken)).token
    secret = emu.sandbox_credentials[1]
    page = operator_client.get("/hotmart").get_data(as_text=True)
    assert caplog.records  # the gateway did log requests
    for value in (secret, token):
        assert value not in caplog.text
        assert value not in page


def test_page_renders_for_operator_and_is_forbidden_for_members(hm_app, emu):
    assert sync.run_sync("hotmart", "products").status == "succeeded"
    assert sync.run_sync("hotmart", "subscriptions").status == "succeeded"
    client = hm_app.test_client()
    auth = Auth(hm_app, client)
    auth.member()
    assert client.get("/hotmart").status_code == 403
    assert client.get("/api/hotmart/products").status_code == 403
    auth.logout()
    auth.login()
    html = client.get("/hotmart").get_data(as_text=True)
    assert "Testar conexão" in html and "Sandbox" in html
    assert "nunca envia e-mails de ativação" in html
    assert html.count("Sincronizar") >= 3
    name = db.session.scalars(select(Product.name).order_by(Product.name)).first()
    assert name in html
    html = client.get("/hotmart?aba=assinaturas&status=ACTIVE").get_data(as_text=True)
    assert "Plano" in html
    html = client.get("/hotmart?aba=vendas").get_data(as_text=True)
    assert "/vendas?platform=hotmart" in html
    html = client.get("/hotmart?aba=produtos&q=zzzz-nada&sort=price&dir=desc").get_data(
        as_text=True
    )
    assert "Nenhum produto encontrado" in html


def test_page_empty_state_without_credentials(app_factory):
    app = app_factory()
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        html = client.get("/hotmart").get_data(as_text=True)
    assert "credenciais não configuradas" in html and "HOTMART_CLIENT_ID" not in html


def test_api_list_and_sync_shapes(operator_client, hm_app, emu):
    from tests.conftest import csrf_token

    headers = {"X-CSRFToken": csrf_token(operator_client, "/hotmart")}
    for resource in ("products", "subscriptions", "sales"):
        response = operator_client.post(f"/api/hotmart/{resource}", headers=headers)
        assert response.status_code == 202, response.get_data(as_text=True)
        body = response.get_json()
        assert body["success"] is True and isinstance(body["run_id"], int)
    assert sync.wait_idle(120)  # a bound for a hung run, not a speed assertion
    runs = operator_client.get("/api/sync-runs?source=hotmart").get_json()["runs"]
    assert {r["resource"]: r["status"] for r in runs} == {
        "products": "succeeded",
        "subscriptions": "succeeded",
        "sales": "succeeded",
    }
    body = operator_client.get("/api/hotmart/products?page=2&limit=10").get_json()
    assert (body["success"], body["page"], body["limit"], body["total"]) == (True, 2, 10, PRODUCTS)
    assert len(body["items"]) == 10
    assert {"remote_id", "name", "status", "price_cents", "ucode"} <= set(body["items"][0])
    # the same envelope as the Kommo and Gestão Click lists (seed keys included)
    assert body["data"] == body["items"] and body["message"] == f"{PRODUCTS} produtos encontrados"
    assert body["pagination"] == {
        "page": 2,
        "limit": 10,
        "pageCount": -(-PRODUCTS // 10),
        "total": PRODUCTS,
    }
    first = body["items"][0]
    found = operator_client.get(f"/api/hotmart/products?query={first['remote_id']}").get_json()
    assert found["total"] == 1 and found["items"][0]["remote_id"] == first["remote_id"]
    bad = operator_client.get("/api/hotmart/products?limit=abc")
    assert bad.status_code == 400 and bad.get_json()["success"] is False
    assert operator_client.post("/api/hotmart/products").status_code == 400  # no CSRF token


# ------------------------------------------------------------------------------ REST dates


def test_from_epoch_reads_seconds_and_milliseconds_by_magnitude():
    from app.clients.hotmart import from_epoch

    moment = datetime(2025, 11, 15, 22, 41, 40, tzinfo=UTC)
    seconds = int(moment.timestamp())
    assert from_epoch(seconds) == moment
    assert from_epoch(seconds * 1000) == moment
    assert from_epoch(seconds * 1000 + 250) == moment.replace(microsecond=250_000)
    assert from_epoch(str(seconds)) == moment and from_epoch(f"{seconds * 1000}") == moment
    assert from_epoch(float(seconds)) == moment
    assert from_epoch("2025-11-15T22:41:40Z") == moment
    assert from_epoch("2025-11-15T19:41:40-03:00") == moment
    for bad in (None, "", "amanhã", True, 0, -5, float("nan"), float("inf"), 10**30, [1]):
        assert from_epoch(bad) is None


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_syncs_read_rest_dates_in_seconds_or_milliseconds(
    app_factory,
    start_emulator,
    unit,
):
    emu = start_emulator(
        products=6,
        sales=60,
        subscriptions=10,
        hotmart_rate_limit=0,
        hotmart_date_unit=unit,
        now=datetime.now(UTC).replace(microsecond=0),
    )
    app = app_factory(**hotmart_config(emu))
    with app.app_context():
        for resource in ("products", "sales", "subscriptions"):
            run = sync.run_sync("hotmart", resource, full=True)
            assert run.status == "succeeded" and run.failed_count == 0, run.error
        emu.config.hotmart_date_unit = "ms"  # the exact values, to compare with
        with emu.hotmart() as client:
            products = list(client.iter_products())
            sales = [i for p in client.sales_pages(page_size=100) for i in p.items]
            subs = [i for p in client.subscription_pages(page_size=100) for i in p.items]

        def same(stored, ms):  # to the second in "s" (the emulator drops the milliseconds)
            assert stored is not None and abs(stored.timestamp() - ms / 1000) < 1, (stored, ms)

        for item in products:
            row = db.session.scalar(select(Product).where(Product.remote_id == str(item["id"])))
            same(row.remote_created_at, item["created_at"])
        assert sales
        for item in sales:
            purchase = item["purchase"]
            row = db.session.scalar(
                select(Sale).where(Sale.transaction_id == purchase["transaction"])
            )
            same(row.approved_at, purchase["approved_date"])
        for item in subs:
            row = db.session.scalar(
                select(Subscription).where(Subscription.subscriber_code == item["subscriber_code"])
            )
            same(row.accession_date, item["accession_date"])
            same(row.date_next_charge, item["date_next_charge"])
        sync.wait_idle(10)
