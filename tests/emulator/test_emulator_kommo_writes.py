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


def _get_contact(client, cid: int) -> dict:
    return client.get(f"{API}/contacts/{cid}", headers=kommo_headers()).get_json()


def _values(contact: dict, code: str) -> list[str]:
    return [
        v["value"]
        for f in contact.get("custom_fields_values") or []
        if f.get("field_code") == code
        for v in f["values"]
    ]


def test_a_contact_is_patched_in_kommo_wire_format(make_client):
    client = make_client(contacts=5, leads=5, kommo_rate_limit=0)
    cid = _contact(client).get_json()["_embedded"]["contacts"][0]["id"]
    one = {
        "first_name": "Ana",
        "last_name": "Nova",
        "custom_fields_values": [
            {"field_code": "PHONE", "values": [{"value": "+5521977776666", "enum_code": "WORK"}]}
        ],
        "tags_to_add": [{"name": "cliente"}],
    }
    resp = client.patch(f"{API}/contacts/{cid}", json=one, headers=kommo_headers())
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"id", "name", "updated_at", "_links"} and body["id"] == cid
    contact = _get_contact(client, cid)
    assert contact["name"] == "Ana Nova"
    assert _values(contact, "PHONE") == ["+5521977776666"]  # that field's values replaced
    assert _values(contact, "EMAIL") == ["ana.escrita@example.com"]  # the others kept
    assert [t["name"] for t in contact["_embedded"]["tags"]] == ["hotmart", "cliente"]
    found = client.get(
        f"{API}/contacts", query_string={"query": "21977776666"}, headers=kommo_headers()
    )
    assert [c["id"] for c in found.get_json()["_embedded"]["contacts"]] == [cid]

    bulk = [{"id": cid, "name": "Ana B", "_embedded": {"tags": None}, "request_id": "x1"}]
    resp = client.patch(f"{API}/contacts", json=bulk, headers=kommo_headers())
    assert resp.status_code == 200, resp.get_json()
    [item] = resp.get_json()["_embedded"]["contacts"]
    assert (item["id"], item["request_id"]) == (cid, "x1") and "updated_at" in item
    contact = _get_contact(client, cid)
    assert contact["name"] == "Ana B" and contact["_embedded"]["tags"] == []

    # Kommo's refusals: an unknown contact, a bad field, a body that is not an object/array
    missing = client.patch(f"{API}/contacts/49999999", json={"name": "x"}, headers=kommo_headers())
    assert missing.status_code == 404
    [group] = client.patch(
        f"{API}/contacts", json=[{"id": 49999999, "name": "x"}], headers=kommo_headers()
    ).get_json()["validation-errors"]
    assert group["errors"][0]["code"] == "NotFound"
    bad = {"custom_fields_values": [{"field_code": "FAX", "values": [{"value": "1"}]}]}
    resp = client.patch(f"{API}/contacts/{cid}", json=bad, headers=kommo_headers())
    assert resp.status_code == 400
    assert resp.get_json()["validation-errors"][0]["errors"][0]["path"].endswith("field_code")
    assert (
        client.patch(f"{API}/contacts/{cid}", json=[one], headers=kommo_headers()).status_code
        == 400
    )
    assert (
        client.patch(f"{API}/contacts", json={"id": cid}, headers=kommo_headers()).status_code
        == 400
    )
    assert (
        client.patch(f"{API}/contacts/{cid}", json={}, headers=kommo_headers()).status_code == 400
    )
    assert _get_contact(client, cid)["name"] == "Ana B"  # nothing refused was applied


def test_a_cpf_field_exists_only_when_the_account_has_one(make_client):
    cpf = {"field_id": 771912, "values": [{"value": "00000000191"}]}
    plain = make_client(contacts=5, leads=5, kommo_rate_limit=0)
    names = [
        f["name"]
        for f in plain.get(f"{API}/contacts/custom_fields", headers=kommo_headers()).get_json()[
            "_embedded"
        ]["custom_fields"]
    ]
    assert names == ["Phone", "Email"]
    refused = _contact(plain, custom_fields_values=[cpf])
    assert refused.status_code == 400
    assert refused.get_json()["validation-errors"][0]["errors"][0]["path"].endswith("field_id")

    client = make_client(contacts=5, leads=5, kommo_rate_limit=0, kommo_cpf_field=True)
    fields = client.get(f"{API}/contacts/custom_fields", headers=kommo_headers()).get_json()
    [field] = [f for f in fields["_embedded"]["custom_fields"] if f["name"] == "CPF"]
    assert (field["id"], field["type"], field["code"]) == (771912, "text", None)
    resp = _contact(client, custom_fields_values=[cpf])
    assert resp.status_code == 200, resp.get_json()
    cid = resp.get_json()["_embedded"]["contacts"][0]["id"]
    [stored] = _get_contact(client, cid)["custom_fields_values"]
    assert stored == {
        "field_id": 771912,
        "field_name": "CPF",
        "field_code": None,
        "field_type": "text",
        "values": [{"value": "00000000191"}],
    }
    two = {"field_id": 771912, "values": [{"value": "1"}, {"value": "2"}]}
    assert _contact(client, "b@example.com", custom_fields_values=[two]).status_code == 400
    fixed = {"custom_fields_values": [{"field_id": 771912, "values": [{"value": 11144477735}]}]}
    assert (
        client.patch(f"{API}/contacts/{cid}", json=fixed, headers=kommo_headers()).status_code
        == 200
    )
    [stored] = _get_contact(client, cid)["custom_fields_values"]
    assert stored["values"] == [{"value": "11144477735"}]
