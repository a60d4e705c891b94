"""Fault injection and request stats through the /_emulator control API."""

from __future__ import annotations

from emu_testkit import gc_headers, hotmart_token, kommo_headers

from emulator import EmulatorConfig, create_app

PRODUCTS = "/hotmart/sandbox/products/api/v1/products"


def test_count_fails_the_next_n_requests_then_clears(make_client):
    client = make_client(kommo_rate_limit=0)
    resp = client.post("/_emulator/faults", json={"api": "kommo", "status": 503, "count": 2})
    assert resp.status_code == 201
    assert resp.get_json()["faults"][0]["remaining"] == 2
    statuses = [
        client.get("/kommo/api/v4/account", headers=kommo_headers()).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert client.get("/_emulator/faults").get_json()["faults"] == []


def test_fault_bodies_follow_each_api_format(make_client):
    client = make_client(gc_rate_limit=0)
    client.post("/_emulator/faults", json={"api": "*", "status": 502})
    kommo = client.get("/kommo/api/v4/account", headers=kommo_headers())
    assert kommo.status_code == 502 and kommo.content_type.startswith("application/problem+json")
    gc = client.get("/gestaoclick/api/lojas", headers=gc_headers())
    assert gc.status_code == 502 and gc.get_json()["status"] == "error"
    hot = client.get(PRODUCTS)
    assert hot.status_code == 502 and "error" in hot.get_json()
    cleared = client.delete("/_emulator/faults")
    assert cleared.get_json()["removed"] == 1
    assert client.get("/gestaoclick/api/lojas", headers=gc_headers()).status_code == 200


def test_error_rate_is_seeded_and_partial(make_client):
    def run():
        client = make_client(gc_rate_limit=0, seed=3)
        client.post("/_emulator/faults", json={"api": "gestaoclick", "error_rate": 0.5})
        return [
            client.get("/gestaoclick/api/lojas", headers=gc_headers()).status_code
            for _ in range(40)
        ]

    first = run()
    assert first == run()
    assert 0 < first.count(500) < 40 and set(first) == {200, 500}


def test_latency_timeout_unauthorized_blocked(make_client, clock):
    client = make_client(kommo_rate_limit=0, fault_timeout_seconds=7)
    token = hotmart_token(client)
    client.post("/_emulator/faults", json={"api": "hotmart", "latency_ms": 250, "count": 1})
    assert client.get(PRODUCTS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert clock.slept == [0.25]
    client.post("/_emulator/faults", json={"api": "hotmart", "timeout": True, "count": 1})
    timed_out = client.get(PRODUCTS, headers={"Authorization": f"Bearer {token}"})
    assert timed_out.status_code == 504 and clock.slept[-1] == 7
    client.post("/_emulator/faults", json={"api": "hotmart", "unauthorized": True, "count": 1})
    resp = client.get(PRODUCTS, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_token"
    assert client.get(PRODUCTS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.post("/_emulator/faults", json={"api": "kommo", "blocked": True})
    assert client.get("/kommo/api/v4/account", headers=kommo_headers()).status_code == 403
    client.delete("/_emulator/faults?api=kommo")
    assert client.get("/kommo/api/v4/account", headers=kommo_headers()).status_code == 200


def test_path_scoped_fault_and_single_delete(make_client):
    client = make_client()
    token = hotmart_token(client)
    rule = client.post(
        "/_emulator/faults", json={"api": "hotmart", "path": "/sales/history", "status": 500}
    ).get_json()["added"][0]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(PRODUCTS, headers=headers).status_code == 200
    sales = "/hotmart/sandbox/payments/api/v1/sales/history"
    assert client.get(sales, headers=headers).status_code == 500
    assert client.delete(f"/_emulator/faults/{rule['id']}").status_code == 200
    assert client.get(sales, headers=headers).status_code == 200


def test_invalid_fault_is_400(make_client):
    client = make_client()
    for body in (
        {"api": "stripe", "status": 500},
        {"status": 200},
        {"error_rate": 2},
        {"api": "kommo"},
        {"count": 0, "status": 500},
        "nope",
    ):
        assert client.post("/_emulator/faults", json=body).status_code == 400


def test_stats_count_requests_per_api_and_endpoint(make_client):
    client = make_client()
    hotmart_token(client)
    hotmart_token(client)
    client.get("/kommo/api/v4/account", headers=kommo_headers())
    client.get("/kommo/api/v4/account")
    stats = client.get("/_emulator/stats").get_json()
    assert stats["endpoints"]["hotmart.token"] == 2
    assert stats["apis"]["kommo"]["total"] == 2
    assert stats["apis"]["kommo"]["statuses"] == {"200": 1, "401": 1}
    assert stats["total"] == 4
    client.delete("/_emulator/stats")
    assert client.get("/_emulator/stats").get_json()["total"] == 0


def test_faults_from_config_at_start():
    app = create_app(
        EmulatorConfig(faults=[{"api": "gestaoclick", "status": 503, "count": 1}], gc_rate_limit=0)
    )
    client = app.test_client()
    assert client.get("/gestaoclick/api/lojas", headers=gc_headers()).status_code == 503
    assert client.get("/gestaoclick/api/lojas", headers=gc_headers()).status_code == 200
