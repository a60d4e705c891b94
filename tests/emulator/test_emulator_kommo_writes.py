"""Kommo v4 writes in the emulator: real wire format in, kept and shown by the read API."""

from __future__ import annotations

from emu_testkit import kommo_headers

API = "/kommo/api/v4"


def _contact(client, email="ana.escrita@example.com", **extra):
    body = [
        {
            "name": "Ana Escrita",
            "custom_fields_values": [
                {"field_code": "EMAIL", "values": [{"value": email, "enum_code": "WORK"}]},
                {
                    "field_code": "PHONE",
                    "values": [{"value": "+5511988887777", "enum_code": "MOB"}],
                },
            ],
            "_embedded": {"tags": [{"name": "hotmart"}]},
            "request_id": "sale-1",
            **extra,
        }
    ]
    return client.post(f"{API}/contacts", json=body, headers=kommo_headers())


def test_contact_and_lead_written_are_read_back(make_client):
    client = make_client(contacts=20, leads=20, kommo_rate_limit=0)
    resp = _contact(client)
    assert resp.status_code == 200, resp.get_json()
    made = resp.get_json()["_embedded"]["contacts"][0]
    assert made["request_id"] == "sale-1"
    cid = made["id"]
    found = client.get(
        f"{API}/contacts",
        query_string={"query": "ana.escrita@example.com"},
        headers=kommo_headers(),
    )
    assert [c["id"] for c in found.get_json()["_embedded"]["contacts"]] == [cid]
    lead = [
        {
            "name": "Curso X — HP1",
            "price": 497,
            "pipeline_id": 8572511,
            "status_id": 142,
            "_embedded": {
                "contacts": [{"id": cid, "is_main": True}],
                "tags": [{"name": "hotmart"}, {"name": "Curso X"}],
            },
            "request_id": "0",
        }
    ]
    resp = client.post(f"{API}/leads", json=lead, headers=kommo_headers())
    assert resp.status_code == 200, resp.get_json()
    lid = resp.get_json()["_embedded"]["leads"][0]["id"]
    body = client.get(f"{API}/leads/{lid}?with=contacts", headers=kommo_headers()).get_json()
    assert (body["price"], body["status_id"], body["pipeline_id"]) == (497, 142, 8572511)
    assert [t["name"] for t in body["_embedded"]["tags"]] == ["hotmart", "Curso X"]
    assert body["_embedded"]["contacts"][0]["id"] == cid
    contact = client.get(f"{API}/contacts/{cid}?with=leads", headers=kommo_headers()).get_json()
    assert [lead["id"] for lead in contact["_embedded"]["leads"]] == [lid]
    # move to lost, add a note
    resp = client.patch(f"{API}/leads/{lid}", json={"status_id": 143}, headers=kommo_headers())
    assert resp.status_code == 200 and resp.get_json()["id"] == lid
    note = [{"note_type": "common", "params": {"text": "Reembolso"}}]
    resp = client.post(f"{API}/leads/{lid}/notes", json=note, headers=kommo_headers())
    assert resp.status_code == 200
    assert client.get(f"{API}/leads/{lid}", headers=kommo_headers()).get_json()["status_id"] == 143
    notes = client.get(f"{API}/leads/{lid}/notes", headers=kommo_headers()).get_json()
    assert notes["_embedded"]["notes"][0]["params"]["text"] == "Reembolso"


def test_bad_bodies_get_kommo_validation_errors(make_client):
    client = make_client(contacts=5, leads=5, kommo_rate_limit=0)
    resp = client.post(f"{API}/contacts", json=[], headers=kommo_headers())
    assert resp.status_code == 400 and "validation-errors" not in resp.get_json()
    resp = _contact(
        client, custom_fields_values=[{"field_code": "CPF", "values": [{"value": "1"}]}]
    )
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["validation-errors"][0]["request_id"] == "sale-1"
    assert body["validation-errors"][0]["errors"][0]["path"] == "custom_fields_values.0.field_code"
    resp = client.post(
        f"{API}/leads",
        json=[{"name": "x", "status_id": 999, "price": "10"}],
        headers=kommo_headers(),
    )
    paths = {e["path"] for e in resp.get_json()["validation-errors"][0]["errors"]}
    assert resp.status_code == 400 and paths == {"price"}
    resp = client.post(
        f"{API}/leads", json=[{"name": "x", "status_id": 999}], headers=kommo_headers()
    )
    assert resp.status_code == 400
    assert resp.get_json()["validation-errors"][0]["errors"][0]["path"] == "status_id"
    resp = client.post(f"{API}/leads", json={"name": "x"}, headers=kommo_headers())
    assert resp.status_code == 400 and "validation-errors" in resp.get_json()


def test_writes_share_the_rate_limit(make_client):
    client = make_client(contacts=5, leads=5, kommo_rate_limit=2, kommo_block_after=0)
    statuses = [_contact(client, email=f"r{i}@example.com").status_code for i in range(3)]
    assert statuses == [200, 200, 429]
