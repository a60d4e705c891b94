"""Kommo v4 emulation: JWT auth, HAL paging with 204, filters, problem+json, 429 → 403 block."""

from __future__ import annotations

import jwt
from emu_testkit import count_calls, kommo_headers

from emulator import EmulatorConfig

API = "/kommo/api/v4"


def walk(client, path, headers, **params):
    """Follow pages until 204 or no ``_links.next`` → (records, pages)."""
    records, page = [], 1
    while True:
        resp = client.get(f"{API}{path}", query_string={**params, "page": page}, headers=headers)
        if resp.status_code == 204:
            assert resp.data == b""
            return records, page - 1
        assert resp.status_code == 200, resp.get_json()
        assert resp.content_type.startswith("application/hal+json")
        body = resp.get_json()
        assert body["_page"] == page
        records.extend(body["_embedded"][path.strip("/")])
        if "next" not in body["_links"]:
            return records, page
        assert f"page={page + 1}" in body["_links"]["next"]["href"]
        page += 1


def test_account_currency_is_configurable(make_client):
    client = make_client(kommo_currency="USD")
    body = client.get(f"{API}/account", headers=kommo_headers()).get_json()
    assert (body["currency"], body["currency_symbol"], body["country"]) == ("USD", "$", "US")


def test_account_is_the_connection_test(make_client):
    client = make_client()
    resp = client.get(f"{API}/account", headers=kommo_headers())
    assert resp.status_code == 200
    body = resp.get_json()
    for key in (
        "id",
        "name",
        "subdomain",
        "current_user_id",
        "country",
        "currency",
        "currency_symbol",
    ):
        assert key in body
    assert body["currency"] == "BRL"


def test_token_carries_the_real_claim_names():
    claims = jwt.decode(EmulatorConfig().kommo_token(), options={"verify_signature": False})
    assert set(claims) >= {
        "aud",
        "jti",
        "iat",
        "nbf",
        "exp",
        "sub",
        "grant_type",
        "account_id",
        "base_domain",
        "version",
        "scopes",
        "hash_uuid",
        "api_domain",
    }
    assert EmulatorConfig(seed=7).kommo_token() == EmulatorConfig(seed=7).kommo_token()


def test_other_tokens_are_401_problem_json(make_client):
    client = make_client()
    forged = jwt.encode(EmulatorConfig().kommo_claims(), "x" * 64, algorithm="HS256")
    cases = [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": f"Bearer {forged}"},
        kommo_headers(EmulatorConfig(seed=999)),
        kommo_headers(exp=1_700_000_000),
    ]
    for headers in cases:
        resp = client.get(f"{API}/contacts", headers=headers)
        assert resp.status_code == 401
        assert resp.content_type.startswith("application/problem+json")
        body = resp.get_json()
        assert body["status"] == 401 and body["type"] == "https://httpstatus.es/401"
        assert set(body) >= {"title", "type", "status", "detail"}


def test_contacts_walk_every_page_once_then_204(make_client):
    client = make_client(contacts=1234, kommo_rate_limit=0)
    contacts, pages = walk(client, "/contacts", kommo_headers(), limit=250)
    assert pages == 5
    ids = [c["id"] for c in contacts]
    assert len(ids) == len(set(ids)) == 1234
    past = client.get(
        f"{API}/contacts", query_string={"limit": 250, "page": 6}, headers=kommo_headers()
    )
    assert past.status_code == 204 and past.data == b""


def test_leads_walk_and_embedding(make_client):
    client = make_client(contacts=300, leads=1234, kommo_rate_limit=0)
    leads, pages = walk(client, "/leads", kommo_headers(), limit=100, **{"with": "contacts"})
    assert pages == 13 and len({lead["id"] for lead in leads}) == 1234
    lead = leads[0]
    assert lead["_embedded"]["contacts"][0]["is_main"] is True
    assert lead["status_id"] in {
        67000001,
        67000002,
        67000003,
        67000004,
        67000011,
        67000012,
        67000013,
        142,
        143,
    }
    assert any(item["closed_at"] for item in leads if item["status_id"] in (142, 143))
    contact_id = lead["_embedded"]["contacts"][0]["id"]
    contact = client.get(
        f"{API}/contacts/{contact_id}", query_string={"with": "leads"}, headers=kommo_headers()
    ).get_json()
    assert lead["id"] in {item["id"] for item in contact["_embedded"]["leads"]}
    plain = client.get(f"{API}/leads", query_string={"limit": 1}, headers=kommo_headers())
    assert "contacts" not in plain.get_json()["_embedded"]["leads"][0]["_embedded"]


def test_record_shapes(make_client):
    client = make_client(contacts=200, kommo_rate_limit=0)
    contacts, _ = walk(client, "/contacts", kommo_headers(), limit=250)
    with_fields = [c for c in contacts if c["custom_fields_values"]]
    assert any(c["custom_fields_values"] is None for c in contacts)
    codes = {f["field_code"]: f for f in with_fields[0]["custom_fields_values"]}
    assert codes["PHONE"]["field_type"] == "multitext"
    assert codes["EMAIL"]["values"][0]["value"].count("@") == 1
    assert codes["PHONE"]["values"][0]["value"].startswith("+55")
    assert isinstance(contacts[0]["updated_at"], int)


def test_limit_over_250_is_rejected(make_client):
    client = make_client()
    resp = client.get(f"{API}/leads", query_string={"limit": 251}, headers=kommo_headers())
    assert resp.status_code in (400, 422)
    assert resp.content_type.startswith("application/problem+json")
    assert resp.get_json()["detail"] == "Limit 250 per page"


def test_empty_result_is_204(make_client):
    client = make_client(kommo_rate_limit=0)
    empty = make_client(leads=0, kommo_rate_limit=0)
    assert empty.get(f"{API}/leads", headers=kommo_headers()).status_code == 204
    none = client.get(
        f"{API}/contacts", query_string={"query": "zzzz-no-such-person"}, headers=kommo_headers()
    )
    assert none.status_code == 204 and none.data == b""
    assert client.get(f"{API}/leads/1", headers=kommo_headers()).status_code == 204


def test_query_updated_at_filter_and_order(make_client):
    client = make_client(contacts=500, kommo_rate_limit=0)
    headers = kommo_headers()
    contacts, _ = walk(client, "/contacts", headers, limit=250)
    stamps = [c["updated_at"] for c in contacts]
    assert stamps == sorted(stamps)
    target = contacts[123]
    found, _ = walk(client, "/contacts", headers, query=target["name"])
    assert target["id"] in {c["id"] for c in found}
    assert all(target["name"].lower() in c["name"].lower() for c in found)
    low, high = stamps[100], stamps[199]
    window, _ = walk(
        client,
        "/contacts",
        headers,
        limit=250,
        **{"filter[updated_at][from]": low, "filter[updated_at][to]": high},
    )
    assert all(low <= c["updated_at"] <= high for c in window)
    assert {c["id"] for c in contacts[100:200]} <= {c["id"] for c in window}
    desc, _ = walk(client, "/contacts", headers, limit=250, **{"order[updated_at]": "desc"})
    assert [c["id"] for c in desc] == [c["id"] for c in reversed(contacts)]


def test_pipelines_have_won_and_lost_statuses(make_client):
    client = make_client()
    body = client.get(f"{API}/leads/pipelines", headers=kommo_headers()).get_json()
    pipelines = body["_embedded"]["pipelines"]
    assert pipelines
    for pipeline in pipelines:
        ids = {s["id"] for s in pipeline["_embedded"]["statuses"]}
        assert {142, 143} <= ids
    missing = client.get(f"{API}/leads/pipelines/1/statuses", headers=kommo_headers())
    assert missing.status_code == 404
    assert missing.get_json()["detail"] == "Pipeline not found"


def test_rate_limit_429_then_block_403(make_client, clock):
    client = make_client(
        kommo_rate_limit=7, kommo_retry_after=3, kommo_block_after=2, kommo_block_seconds=100
    )
    headers = kommo_headers()
    statuses = [client.get(f"{API}/account", headers=headers).status_code for _ in range(8)]
    assert statuses == [200] * 7 + [429]
    limited = client.get(f"{API}/account", headers=headers)
    assert limited.status_code == 429
    assert limited.get_json()["retry_after"] == 3
    clock.advance(1.0)  # a new second: allowed again
    assert client.get(f"{API}/account", headers=headers).status_code == 200
    for _ in range(7):
        client.get(f"{API}/account", headers=headers)  # third 429 of the window → block
    blocked = client.get(f"{API}/account", headers=headers)
    assert blocked.status_code == 403
    assert blocked.content_type.startswith("application/problem+json")
    clock.advance(5)
    assert client.get(f"{API}/account", headers=headers).status_code == 403
    client.post("/_emulator/reset")
    assert client.get(f"{API}/account", headers=headers).status_code == 200


def test_last_page_of_100k_contacts_is_built_lazily(make_client, monkeypatch):
    from emulator.datasets import KommoData

    client = make_client(contacts=100_000, leads=100_000, kommo_rate_limit=0)
    built = count_calls(monkeypatch, KommoData, "contact")
    resp = client.get(
        f"{API}/contacts",
        query_string={"limit": 250, "page": 400, "with": "leads"},
        headers=kommo_headers(),
    )
    past = client.get(
        f"{API}/contacts", query_string={"limit": 250, "page": 401}, headers=kommo_headers()
    )
    body = resp.get_json()
    assert resp.status_code == 200 and len(body["_embedded"]["contacts"]) == 250
    assert "next" not in body["_links"] and "prev" in body["_links"]
    assert past.status_code == 204
    assert 0 < built[0] <= 600  # only the requested page is built, not 100k rows
