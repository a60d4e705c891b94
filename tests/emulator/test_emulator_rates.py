"""Per-account arrival rates through ``/_emulator/rates`` (what a shared budget must respect)."""

from __future__ import annotations

import hashlib

from emu_testkit import gc_headers, hotmart_token, kommo_headers

from emulator.runtime import RateRecorder


def test_max_in_a_sliding_window_counts_arrivals_less_than_a_second_apart():
    now = [100.0]
    rec = RateRecorder(window=1.0, clock=lambda: now[0])
    for t in (100.0, 100.3, 100.6, 100.99, 101.0, 101.5, 103.0):
        now[0] = t
        rec.record("kommo", "account-1")
    # 100.0…100.99 are four in one second; 101.0 drops 100.0 (exactly 1 s before it)
    assert rec.as_dict()["apis"]["kommo"]["account-1"] == {"requests": 7, "max_in_window": 4}


def test_rates_are_kept_per_api_and_account_refused_requests_included(make_client):
    client = make_client(kommo_rate_limit=2, gc_rate_limit=0, hotmart_rate_limit=0)
    statuses = [
        client.get("/kommo/api/v4/account", headers=kommo_headers()).status_code for _ in range(4)
    ]
    assert statuses.count(429) == 2
    client.get("/kommo/api/v4/account", headers=kommo_headers(account_id=999))
    client.get("/gestaoclick/api/lojas", headers=gc_headers())
    token = hotmart_token(client)
    client.get(
        "/hotmart/sandbox/products/api/v1/products", headers={"Authorization": f"Bearer {token}"}
    )
    rates = client.get("/_emulator/rates").get_json()
    assert rates["window_seconds"] == 1.0
    kommo = rates["apis"]["kommo"]
    cfg_account = next(k for k in kommo if k != "account-999")
    assert kommo[cfg_account]["requests"] == 4
    assert 1 <= kommo[cfg_account]["max_in_window"] <= 4  # how many fell in 1 s is timing
    assert kommo["account-999"]["requests"] == 1
    access = gc_headers()["access-token"]
    gc_key = hashlib.sha256(access.encode()).hexdigest()[:16]
    assert rates["apis"]["gestaoclick"] == {gc_key: {"requests": 1, "max_in_window": 1}}
    assert access not in str(rates)
    assert rates["apis"]["hotmart"]["emu-client-id"]["requests"] == 2  # token + products
    cleared = client.delete("/_emulator/rates").get_json()
    assert cleared["apis"] == {}
