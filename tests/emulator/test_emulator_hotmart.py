"""Hotmart REST emulation: OAuth token, page_token paging, filters, auth, rate limit."""

from __future__ import annotations

import base64
import json

from emu_testkit import basic, count_calls, hotmart_token

TOKEN_URL = "/hotmart/auth/security/oauth/token"
SALES = "/hotmart/sandbox/payments/api/v1/sales/history"
SUBS = "/hotmart/sandbox/payments/api/v1/subscriptions"
PRODUCTS = "/hotmart/sandbox/products/api/v1/products"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def walk(client, url, token, **params):
    """Follow next_page_token to the end → (items, pages, first page_info)."""
    items, pages, first, page_token = [], 0, None, None
    while True:
        query = dict(params)
        if page_token:
            query["page_token"] = page_token
        resp = client.get(url, query_string=query, headers=bearer(token))
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        first = first or body["page_info"]
        items.extend(body["items"])
        pages += 1
        page_token = body["page_info"].get("next_page_token")
        if not page_token:
            return items, pages, first


def test_token_has_the_documented_shape(make_client):
    client = make_client()
    resp = client.post(
        TOKEN_URL + "?grant_type=client_credentials&client_id=emu-client-id"
        "&client_secret=emu-client-secret",
        headers={"Authorization": basic("emu-client-id", "emu-client-secret")},
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "jti"}
    assert body["token_type"] == "bearer"
    assert body["scope"] == "read write"
    assert body["expires_in"] == 172799


def test_bad_credentials_are_401(make_client):
    client = make_client()
    resp = client.post(
        TOKEN_URL + "?grant_type=client_credentials",
        headers={"Authorization": basic("emu-client-id", "wrong")},
    )
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"
    assert "error_description" in resp.get_json()
    missing = client.post(TOKEN_URL + "?grant_type=client_credentials")
    assert missing.status_code == 401
    mismatch = client.post(
        TOKEN_URL + "?grant_type=client_credentials&client_id=other&client_secret=x",
        headers={"Authorization": basic("emu-client-id", "emu-client-secret")},
    )
    assert mismatch.status_code == 401
    grant = client.post(
        TOKEN_URL + "?grant_type=password",
        headers={"Authorization": basic("emu-client-id", "emu-client-secret")},
    )
    assert grant.status_code == 400


def test_sandbox_and_production_credentials_do_not_mix(make_client):
    client = make_client()
    sandbox = hotmart_token(client)
    production = hotmart_token(client, "emu-prod-client-id", "emu-prod-client-secret")
    prod_url = SALES.replace("sandbox", "production")
    assert client.get(SALES, headers=bearer(sandbox)).status_code == 200
    assert client.get(prod_url, headers=bearer(production)).status_code == 200
    wrong = client.get(prod_url, headers=bearer(sandbox))
    assert wrong.status_code == 401
    assert wrong.get_json()["error"] == "invalid_token"
    assert client.get(SALES, headers=bearer(production)).status_code == 401


def test_unknown_and_expired_tokens_are_401(make_client, clock):
    client = make_client(hotmart_token_ttl=60)
    token = hotmart_token(client)
    unknown = client.get(PRODUCTS, headers=bearer("nope"))
    assert unknown.status_code == 401
    assert unknown.get_json()["error"] == "invalid_token"
    assert client.get(PRODUCTS, headers=bearer(token)).status_code == 200
    clock.advance(61)
    expired = client.get(PRODUCTS, headers=bearer(token))
    assert expired.status_code == 401
    assert expired.get_json()["error"] == "invalid_token"


def test_sales_walk_every_page_exactly_once(make_client):
    client = make_client(sales=1234)
    token = hotmart_token(client)
    items, pages, info = walk(
        client,
        SALES,
        token,
        max_results=100,
        transaction_status=[
            "APPROVED",
            "COMPLETE",
            "REFUNDED",
            "CHARGEBACK",
            "CANCELLED",
            "PROTESTED",
            "WAITING_PAYMENT",
            "EXPIRED",
            "PRINTED_BILLET",
        ],
    )
    transactions = [i["purchase"]["transaction"] for i in items]
    assert len(transactions) == len(set(transactions)) == 1234
    assert info["total_results"] == 1234
    assert pages == 13
    dates = [i["purchase"]["order_date"] for i in items]
    assert dates == sorted(dates)


def test_sales_item_shape_and_default_status_filter(make_client):
    client = make_client(sales=400)
    token = hotmart_token(client)
    items, _, info = walk(client, SALES, token, max_results=500)
    assert {i["purchase"]["status"] for i in items} <= {"APPROVED", "COMPLETE"}
    assert info["total_results"] == len(items) < 400
    item = items[0]
    assert set(item) == {"product", "buyer", "purchase"}
    assert set(item["buyer"]) == {"name", "ucode", "email"}
    purchase = item["purchase"]
    assert purchase["price"]["currency_code"] == "BRL"
    assert "recurrency_number" in purchase
    assert purchase["payment"]["type"] == purchase["payment"]["method"]
    assert isinstance(purchase["order_date"], int) and purchase["transaction"].startswith("HP")


def test_sales_filters(make_client):
    client = make_client(sales=600)
    token = hotmart_token(client)
    refunded, _, _ = walk(client, SALES, token, transaction_status="REFUNDED", max_results=500)
    assert refunded and {i["purchase"]["status"] for i in refunded} == {"REFUNDED"}
    # transaction lookup returns the sale whatever its status
    tx = refunded[0]["purchase"]["transaction"]
    one = client.get(SALES, query_string={"transaction": tx}, headers=bearer(token)).get_json()
    assert [i["purchase"]["transaction"] for i in one["items"]] == [tx]
    assert "next_page_token" not in one["page_info"]
    # date window (ms, inclusive)
    everything, _, _ = walk(client, SALES, token, max_results=500)
    start = everything[10]["purchase"]["order_date"]
    end = everything[20]["purchase"]["order_date"]
    window, _, _ = walk(client, SALES, token, start_date=start, end_date=end)
    assert [i["purchase"]["transaction"] for i in window] == [
        i["purchase"]["transaction"] for i in everything[10:21]
    ]
    # buyer e-mail and product id
    email = everything[5]["buyer"]["email"]
    mine, _, _ = walk(client, SALES, token, buyer_email=email)
    assert mine and all(i["buyer"]["email"] == email for i in mine)
    pid = everything[5]["product"]["id"]
    by_product, _, _ = walk(client, SALES, token, product_id=pid, max_results=500)
    assert by_product and all(i["product"]["id"] == pid for i in by_product)
    bad = client.get(SALES, query_string={"transaction_status": "NOPE"}, headers=bearer(token))
    assert bad.status_code == 400


def test_bad_page_token_is_400_invalid_token(make_client):
    client = make_client()
    token = hotmart_token(client)
    for page_token in ("!!!", "eyJmb28iOjF9", base64.urlsafe_b64encode(b'{"r":"products","o":1}')):
        resp = client.get(SALES, query_string={"page_token": page_token}, headers=bearer(token))
        assert resp.status_code == 400
        assert resp.get_json()["error"] == "invalid_token"


def test_max_results_default_and_cap(make_client):
    client = make_client(sales=2000)
    token = hotmart_token(client)
    default = client.get(SALES, headers=bearer(token)).get_json()
    assert len(default["items"]) == 50 and default["page_info"]["results_per_page"] == 50
    capped = client.get(SALES, query_string={"max_results": 900}, headers=bearer(token))
    assert len(capped.get_json()["items"]) == 500
    second = client.get(
        SALES,
        query_string={
            "max_results": 500,
            "page_token": capped.get_json()["page_info"]["next_page_token"],
        },
        headers=bearer(token),
    ).get_json()
    assert "prev_page_token" in second["page_info"]


def test_products_and_subscriptions(make_client):
    client = make_client(products=30, subscriptions=321)
    token = hotmart_token(client)
    products, _, _ = walk(client, PRODUCTS, token, max_results=7)
    assert len({p["id"] for p in products}) == 30
    assert set(products[0]) == {
        "id",
        "name",
        "ucode",
        "status",
        "created_at",
        "format",
        "is_subscription",
        "warranty_period",
    }
    subs, pages, info = walk(client, SUBS, token, max_results=100)
    assert len({s["subscriber_code"] for s in subs}) == 321 == info["total_results"]
    assert pages == 4
    sub = subs[0]
    assert set(sub) >= {
        "subscriber_code",
        "subscription_id",
        "status",
        "accession_date",
        "date_next_charge",
        "plan",
        "product",
        "price",
        "subscriber",
    }
    assert set(sub["price"]) == {"value", "currency_code"}
    assert set(sub["subscriber"]) == {"name", "email", "ucode"}
    subscription_ids = {p["id"] for p in products if p["is_subscription"]}
    assert {s["product"]["id"] for s in subs} <= subscription_ids
    active, _, _ = walk(client, SUBS, token, status="ACTIVE", max_results=500)
    assert active and {s["status"] for s in active} == {"ACTIVE"}


def test_rate_limit_429_with_headers(make_client, clock):
    client = make_client(hotmart_rate_limit=3)
    token = hotmart_token(client)
    for remaining in (2, 1, 0):
        resp = client.get(PRODUCTS, headers=bearer(token))
        assert resp.status_code == 200
        assert resp.headers["RateLimit-Limit"] == "3"
        assert resp.headers["RateLimit-Remaining"] == str(remaining)
    limited = client.get(PRODUCTS, headers=bearer(token))
    assert limited.status_code == 429
    assert limited.get_json()["error"] == "too_many_requests"
    assert int(limited.headers["RateLimit-Reset"]) >= 1
    assert limited.headers["RateLimit-Remaining"] == "0"
    clock.advance(60)
    assert client.get(PRODUCTS, headers=bearer(token)).status_code == 200


def test_last_page_of_100k_sales_is_built_lazily(make_client, monkeypatch):
    from emulator.datasets import HotmartData

    client = make_client(sales=100_000)
    token = hotmart_token(client)
    page_token = base64.urlsafe_b64encode(json.dumps({"r": "sales", "o": 99_900}).encode())
    built = count_calls(monkeypatch, HotmartData, "sale")
    resp = client.get(
        SALES,
        headers=bearer(token),
        query_string={
            "max_results": 100,
            "page_token": page_token.decode(),
            "transaction_status": "REFUNDED",
        },
    )
    unfiltered = client.get(
        SALES,
        headers=bearer(token),
        query_string={
            "max_results": 100,
            "page_token": page_token.decode(),
            "transaction_status": [
                "APPROVED",
                "COMPLETE",
                "REFUNDED",
                "CHARGEBACK",
                "CANCELLED",
                "PROTESTED",
                "WAITING_PAYMENT",
                "EXPIRED",
                "PRINTED_BILLET",
            ],
        },
    )
    assert resp.status_code == 200 and unfiltered.status_code == 200
    assert unfiltered.get_json()["page_info"]["total_results"] == 100_000
    last = unfiltered.get_json()["items"][-1]["purchase"]["transaction"]
    assert last.endswith("0099999")
    assert 0 < built[0] <= 300  # only the requested page is built, not 100k rows


def test_rest_dates_can_be_sent_in_seconds(make_client):
    """``hotmart_date_unit="s"``: the same records, every REST date divided by 1000."""
    by_unit = {}
    for unit in ("ms", "s"):
        client = make_client(products=5, sales=20, subscriptions=5, hotmart_date_unit=unit)
        token = hotmart_token(client)
        by_unit[unit] = {
            "products": walk(client, PRODUCTS, token)[0],
            "sales": walk(client, SALES, token)[0],
            "subs": walk(client, SUBS, token)[0],
        }
    ms, s = by_unit["ms"], by_unit["s"]
    for a, b in zip(ms["products"], s["products"], strict=True):
        assert a["created_at"] > 10**12 and b["created_at"] == a["created_at"] // 1000
    for a, b in zip(ms["sales"], s["sales"], strict=True):
        assert b["purchase"]["order_date"] == a["purchase"]["order_date"] // 1000
        assert b["purchase"]["approved_date"] == a["purchase"]["approved_date"] // 1000
        assert b["purchase"]["price"] == a["purchase"]["price"]  # only dates change
    for a, b in zip(ms["subs"], s["subs"], strict=True):
        assert b["accession_date"] == a["accession_date"] // 1000 < 10**11
        assert b["date_next_charge"] == a["date_next_charge"] // 1000
