"""HotmartClient against the live emulator: token caching/refresh, paging, retries, messages."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
import responses

from app.clients import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitError,
    UpstreamError,
)
from app.clients.hotmart import (
    PRODUCTION_API_URL,
    SANDBOX_API_URL,
    TOKEN_URL,
    HotmartClient,
    MemoryTokenStore,
    sales_windows,
    to_epoch_ms,
)

ALL_SALE_STATUSES = [
    "APPROVED",
    "BLOCKED",
    "CANCELLED",
    "CHARGEBACK",
    "COMPLETE",
    "EXPIRED",
    "NO_FUNDS",
    "OVERDUE",
    "PARTIALLY_REFUNDED",
    "PRE_ORDER",
    "PRINTED_BILLET",
    "PROCESSING_TRANSACTION",
    "PROTESTED",
    "REFUNDED",
    "STARTED",
    "UNDER_ANALISYS",
    "WAITING_PAYMENT",
]


# ---------------------------------------------------------------------------- construction


def test_hosts_follow_env_and_overrides():
    sandbox = HotmartClient("id", "secret")
    production = HotmartClient("id", "secret", env="PRODUCTION")
    custom = HotmartClient("id", "secret", api_url="http://x/h/", auth_url="http://x/t")
    assert (sandbox.api_url, sandbox.auth_url) == (SANDBOX_API_URL, TOKEN_URL)
    assert production.api_url == PRODUCTION_API_URL == "https://developers.hotmart.com"
    assert TOKEN_URL == "https://api-sec-vlc.hotmart.com/security/oauth/token"
    assert (custom.api_url, custom.auth_url) == ("http://x/h", "http://x/t")
    assert sandbox.token_key != production.token_key
    with pytest.raises(ValueError):
        HotmartClient("id", "secret", env="staging")


def test_basic_is_derived_or_decoded():
    derived = HotmartClient("id", "secret")
    assert base64.b64decode(derived.basic) == b"id:secret"
    value = base64.b64encode(b"abc:def").decode()
    only_basic = HotmartClient(None, None, basic=f"Basic {value}")
    assert (only_basic.client_id, only_basic.client_secret, only_basic.basic) == (
        "abc",
        "def",
        value,
    )


def test_to_epoch_ms_and_windows():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert to_epoch_ms(start) == 1767225600000
    assert to_epoch_ms(datetime(2026, 1, 1)) == 1767225600000  # naive → UTC
    assert to_epoch_ms(start.date()) == 1767225600000
    end = start + timedelta(days=75)
    windows = sales_windows(start, end, days=30)
    assert len(windows) == 3
    assert windows[0] == (start, start + timedelta(days=30) - timedelta(milliseconds=1))
    assert windows[-1][1] == end
    for (_, prev_end), (next_start, _) in zip(windows, windows[1:], strict=False):
        assert next_start - prev_end == timedelta(milliseconds=1)  # contiguous, no overlap
    assert sales_windows(start, start) == [(start, start)]
    with pytest.raises(ValueError):
        sales_windows(end, start)


# ---------------------------------------------------------------------------- token


def test_token_is_fetched_once_for_many_calls(emu):
    client = emu.hotmart()
    products = list(client.iter_products(page_size=1))  # 24 pages → 24 API calls
    assert client.test_connection().success
    assert len(products) == 24
    assert emu.hits("hotmart.token") == 1
    assert emu.hits("hotmart.products") == 25


def test_token_request_shape(emu):
    store = MemoryTokenStore()
    client = emu.hotmart(token_store=store, wall_clock=lambda: 1000.0)
    token = client.get_token()
    cached_token, expires_at = store.get("hotmart:sandbox:emu-client-id")
    assert cached_token == token
    ttl = emu.config.hotmart_token_ttl
    assert expires_at == pytest.approx(1000.0 + ttl - 300)  # 5 min margin on a 48 h token


def test_concurrent_callers_share_one_token_request(emu):
    client = emu.hotmart()
    barrier = threading.Barrier(8)
    tokens: list[str] = []

    def call():
        barrier.wait()
        tokens.append(client.get_token())

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert emu.hits("hotmart.token") == 1


def test_token_store_is_shared_between_clients(emu):
    store = MemoryTokenStore()
    first = emu.hotmart(token_store=store)
    second = emu.hotmart(token_store=store)
    next(first.product_pages())
    next(second.product_pages())
    assert emu.hits("hotmart.token") == 1


def test_token_refreshed_once_on_401(emu):
    client = emu.hotmart()
    old = client.get_token()
    emu.fault(api="hotmart", path="/products", unauthorized=True, count=1)
    page = next(client.product_pages(page_size=5))
    assert len(page.items) == 5
    assert client.get_token() != old
    assert emu.hits("hotmart.token") == 2
    assert emu.hits("hotmart.products") == 2
    assert emu.statuses() == {"200": 3, "401": 1}


def test_repeated_401_is_raised_after_one_refresh(emu):
    client = emu.hotmart()
    emu.fault(api="hotmart", path="/products", unauthorized=True)
    with pytest.raises(AuthenticationError) as info:
        next(client.product_pages())
    assert info.value.status == 401 and info.value.code == "invalid_token"
    assert not info.value.retryable
    assert emu.hits("hotmart.token") == 2
    assert emu.hits("hotmart.products") == 2


def test_token_renewed_before_expiry(start_emulator):
    emu = start_emulator(fake_time=True, hotmart_token_ttl=1000, hotmart_rate_limit=0)
    client = emu.hotmart()
    next(client.product_pages())
    emu.clock.advance(950)  # still valid for the server, but inside our 10 % margin
    next(client.product_pages())
    assert emu.hits("hotmart.token") == 2
    assert "401" not in emu.statuses()


def test_token_expired_by_the_server_is_refreshed(start_emulator):
    emu = start_emulator(fake_time=True, hotmart_token_ttl=1000, hotmart_rate_limit=0)
    client = emu.hotmart(wall_clock=lambda: 0.0)  # our cache never sees the expiry
    next(client.product_pages())
    emu.clock.advance(2000)
    assert next(client.product_pages()).items
    assert emu.hits("hotmart.token") == 2
    assert emu.statuses()["401"] == 1


# ---------------------------------------------------------------------------- credentials


def test_production_credentials_on_sandbox_are_rejected(emu):
    client = emu.hotmart(*emu.production_credentials, env="sandbox")
    with pytest.raises(AuthenticationError) as info:
        list(client.iter_products())
    assert "sandbox" in info.value.detail
    assert emu.hits("hotmart.token") == 2  # one refresh, then give up
    result = client.test_connection()
    assert not result.success and result.code == "invalid_credentials"
    assert "sandbox" in result.message


def test_production_credentials_on_production(emu):
    client = emu.hotmart(*emu.production_credentials, env="production")
    result = client.test_connection()
    assert result.success, result.message
    assert result.details["env"] == "production"
    assert "produção" in result.message


def test_sandbox_credentials_on_production_are_rejected(emu):
    client = emu.hotmart(*emu.sandbox_credentials, env="production")
    with pytest.raises(AuthenticationError):
        client.get("/payments/api/v1/subscriptions")


def test_wrong_secret_fails_at_the_token_without_retry(emu):
    client = emu.hotmart(emu.config.hotmart_client_id, "wrong-secret")
    with pytest.raises(AuthenticationError) as info:
        client.get_token()
    assert info.value.status == 401 and info.value.code == "unauthorized"
    assert emu.hits("hotmart.token") == 1
    assert emu.clock.slept == []


# ---------------------------------------------------------------------------- paging


def test_sales_pagination_walks_every_item_once(emu):
    client = emu.hotmart()
    pages = list(client.sales_pages(transaction_status=ALL_SALE_STATUSES, page_size=100))
    items = [item for page in pages for item in page.items]
    transactions = [item["purchase"]["transaction"] for item in items]
    assert len(pages) == 13
    assert [p.number for p in pages] == list(range(1, 14))
    assert {p.total_results for p in pages} == {1234}
    assert [p.has_next for p in pages] == [True] * 12 + [False]
    assert len(transactions) == len(set(transactions)) == 1234
    assert emu.hits("hotmart.sales_history") == 13


def test_iter_sales_defaults_to_approved_and_complete(emu):
    client = emu.hotmart()
    statuses = {sale["purchase"]["status"] for sale in client.iter_sales(page_size=250)}
    assert statuses <= {"APPROVED", "COMPLETE"}
    refunded = list(client.iter_sales(transaction_status="REFUNDED"))
    assert refunded and {s["purchase"]["status"] for s in refunded} == {"REFUNDED"}


def test_iter_sales_is_lazy(emu):
    client = emu.hotmart()
    sales = client.iter_sales(transaction_status=ALL_SALE_STATUSES, page_size=100)
    first = next(sales)
    assert first["purchase"]["transaction"]
    assert emu.hits("hotmart.sales_history") == 1


def test_sales_date_windows_cover_each_sale_once(emu):
    client = emu.hotmart()
    end = emu.config.now
    start = end - timedelta(days=emu.config.span_days + 1)
    whole = [
        s["purchase"]["transaction"]
        for s in client.iter_sales(start, end, transaction_status=ALL_SALE_STATUSES)
    ]
    windowed = [
        s["purchase"]["transaction"]
        for s in client.iter_sales(start, end, transaction_status=ALL_SALE_STATUSES, window_days=30)
    ]
    assert len(whole) == 1234
    assert windowed == whole


def test_sales_date_filter_in_milliseconds(emu):
    client = emu.hotmart()
    end = emu.config.now - timedelta(days=100)
    start = end - timedelta(days=20)
    sales = list(client.iter_sales(start, end, transaction_status=ALL_SALE_STATUSES))
    assert sales
    lo, hi = to_epoch_ms(start), to_epoch_ms(end)
    assert all(lo <= s["purchase"]["order_date"] <= hi for s in sales)


def test_products_and_subscriptions(emu):
    client = emu.hotmart()
    products = list(client.iter_products(page_size=5))
    assert len({p["id"] for p in products}) == 24
    subs = list(client.iter_subscriptions(page_size=40))
    assert len({s["subscriber_code"] for s in subs}) == len(subs) == 300
    wanted = ["ACTIVE", "CANCELLED_BY_CUSTOMER"]  # repeated key: status=A&status=B
    filtered = list(client.iter_subscriptions(status=wanted))
    assert filtered and {s["status"] for s in filtered} <= set(wanted)
    assert {s["status"] for s in filtered} == set(wanted)


def test_bad_page_token_is_an_invalid_request(emu):
    client = emu.hotmart()
    with pytest.raises(InvalidRequestError) as info:
        client.get("/products/api/v1/products", {"page_token": "garbage"})
    assert info.value.code == "invalid_token" and info.value.status == 400
    assert emu.hits("hotmart.products") == 1


# ---------------------------------------------------------------------------- retries


def test_503_is_retried_with_backoff_then_succeeds(emu):
    client = emu.hotmart(retry_delay=0.5)
    client.get_token()
    emu.fault(api="hotmart", path="/products", status=503, count=2)
    page = next(client.product_pages())
    assert page.items
    assert emu.hits("hotmart.products") == 3
    first, second = emu.clock.slept
    assert 0 <= first <= 0.5 and 0 <= second <= 1.0  # full jitter under 0.5·2^n


def test_token_endpoint_5xx_is_retried(emu):
    client = emu.hotmart()
    emu.fault(api="hotmart", path="/oauth/token", status=502, count=1)
    assert client.get_token()
    assert emu.hits("hotmart.token") == 2


def test_persistent_5xx_gives_up_with_upstream_error(emu):
    client = emu.hotmart(retry_attempts=2)
    client.get_token()
    emu.fault(api="hotmart", path="/sales/history", status=502)
    with pytest.raises(UpstreamError) as info:
        list(client.iter_sales())
    assert info.value.status == 502 and info.value.retryable
    assert info.value.attempts == 3
    assert emu.hits("hotmart.sales_history") == 3


def test_429_waits_for_the_rate_limit_reset(start_emulator):
    emu = start_emulator(fake_time=True, hotmart_rate_limit=3, hotmart_rate_window=60)
    client = emu.hotmart()
    for _ in range(5):
        assert next(client.product_pages(page_size=1)).items
    # the 4th call hit 429 with RateLimit-Reset: 60, waited exactly that, then went through
    assert emu.clock.slept == [60]
    assert emu.statuses() == {"200": 6, "429": 1}


def test_429_beyond_the_cap_is_raised_not_slept(start_emulator):
    emu = start_emulator(fake_time=True, hotmart_rate_limit=1, hotmart_rate_window=600)
    client = emu.hotmart(max_retry_after=30)
    next(client.product_pages())
    with pytest.raises(RateLimitError) as info:
        next(client.product_pages())
    assert info.value.retry_after == 600 and info.value.retryable
    assert "600 s" in info.value.message
    assert emu.clock.slept == []
    assert emu.hits("hotmart.products") == 2
    result = client.test_connection()
    assert not result.success and result.code == "rate_limited"
    assert "10 min" in result.message


def test_403_is_not_retried(emu):
    client = emu.hotmart()
    client.get_token()
    emu.fault(api="hotmart", path="/products", blocked=True)
    with pytest.raises(PermissionDeniedError) as info:
        next(client.product_pages())
    assert info.value.status == 403 and info.value.code == "unauthorized_client"
    assert emu.hits("hotmart.products") == 1
    assert emu.clock.slept == []


def test_timeouts_are_retried_then_raised(emu):
    store = MemoryTokenStore()
    emu.hotmart(token_store=store).get_token()  # the token call itself is not slowed down
    client = emu.hotmart(token_store=store, timeout=(1.0, 0.1), retry_attempts=2)
    emu.fault(api="hotmart", path="/products", latency_ms=400)
    with pytest.raises(APITimeoutError) as info:
        next(client.product_pages())
    assert info.value.status is None and info.value.retryable
    assert info.value.attempts == 3
    assert len(emu.clock.slept) == 2
    assert emu.hits("hotmart.products") == 3


def test_timeout_then_success(emu):
    client = emu.hotmart(timeout=(1.0, 0.25))
    client.get_token()
    emu.fault(api="hotmart", path="/products", latency_ms=700, count=1)
    assert next(client.product_pages()).items
    assert emu.hits("hotmart.products") == 2


def test_connection_refused(emu, refused_url):
    client = emu.hotmart(auth_url=f"{refused_url}/token", retry_attempts=1)
    with pytest.raises(APIConnectionError) as info:
        client.get_token()
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.attempts == 2 and info.value.retryable
    assert "recusada" in info.value.message


# ---------------------------------------------------------------------------- test_connection


def test_connection_ok(emu):
    result = emu.hotmart().test_connection()
    assert result.success and result.code == "ok"
    assert result.message == "Conexão com a Hotmart (sandbox) funcionando: 24 produtos encontrados."
    assert result.details["product_count"] == 24
    assert result.details["sample"]["name"]
    assert result.as_dict()["success"] is True
    assert emu.hits("hotmart.products") == 1


def test_connection_missing_credentials(emu):
    result = emu.hotmart("", None).test_connection()
    assert not result.success and result.code == "missing_credentials"
    assert result.message.startswith("Credenciais da Hotmart não configuradas")
    assert emu.stats()["total"] == 0


def test_connection_invalid_credentials(emu):
    result = emu.hotmart(emu.config.hotmart_client_id, "nope").test_connection()
    assert (result.success, result.code) == (False, "invalid_credentials")
    assert result.message.startswith("Credenciais da Hotmart inválidas para o ambiente sandbox")


def test_connection_permission_denied(emu):
    emu.fault(api="hotmart", path="/products", blocked=True)
    result = emu.hotmart().test_connection()
    assert (result.success, result.code) == (False, "permission_denied")
    assert "403" in result.message


def test_connection_timeout(emu):
    emu.fault(api="hotmart", path="/products", latency_ms=400)
    result = emu.hotmart(timeout=(1.0, 0.1), retry_attempts=0).test_connection()
    assert (result.success, result.code) == (False, "timeout")
    assert result.message.startswith("A Hotmart não respondeu a tempo")


def test_connection_error(emu, refused_url):
    client = emu.hotmart(auth_url=f"{refused_url}/token", retry_attempts=0)
    result = client.test_connection()
    assert (result.success, result.code) == (False, "connection_error")
    assert result.message.startswith("Não foi possível conectar à Hotmart (127.0.0.1:")


def test_connection_upstream_error(emu):
    emu.fault(api="hotmart", path="/products", status=500)
    result = emu.hotmart(retry_attempts=1).test_connection()
    assert (result.success, result.code) == (False, "upstream_error")
    assert "HTTP 500" in result.message


@responses.activate
def test_connection_without_products():
    # the emulator always has at least one product: this edge case needs a canned answer
    responses.post(TOKEN_URL, json={"access_token": "tok-" + "x" * 40, "expires_in": 3600})
    responses.get(
        f"{SANDBOX_API_URL}/products/api/v1/products",
        json={"items": [], "page_info": {"total_results": 0, "results_per_page": 1}},
    )
    result = HotmartClient("id", "secret", throttle_per_second=None).test_connection()
    assert (result.success, result.code) == (True, "no_products")
    assert "nenhum produto" in result.message
    assert responses.calls[1].request.params == {"max_results": "1"}
    token_call = responses.calls[0].request
    assert token_call.params == {
        "grant_type": "client_credentials",
        "client_id": "id",
        "client_secret": "secret",
    }
    assert token_call.headers["Authorization"] == "Basic " + base64.b64encode(b"id:secret").decode()
