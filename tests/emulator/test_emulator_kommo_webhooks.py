"""The emulator's Kommo webhooks: subscriptions in the real shape, and deliveries in Kommo's
wire format (form-encoded, ``account[…]`` first, string values, amoCRM headers) to a live
receiver; the overlay makes the API show the change."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl

from flask import Flask, request

from emulator import EmulatorConfig, create_app
from emulator.datasets import CONTACT_ID_BASE, LEAD_ID_BASE
from emulator.kommo_webhooks import delivered_item, encode
from tests.emulator.emu_testkit import kommo_headers


def receiver() -> tuple[Flask, list[dict]]:
    got: list[dict] = []
    lock = threading.Lock()
    app = Flask("receiver")

    @app.post("/hook")
    def hook():
        with lock:
            got.append(
                {
                    "raw": request.get_data(as_text=True),
                    "content_type": request.content_type,
                    "user_agent": request.headers.get("User-Agent"),
                    "request_id": request.headers.get("X-Amocrm-Requestid"),
                }
            )
        return "ok"

    @app.post("/broken")
    def broken():
        return "nope", 500

    return app, got


def test_subscription_shapes(make_client):
    client = make_client(contacts=5, leads=5)
    headers = kommo_headers()
    created = client.post(
        "/kommo/api/v4/webhooks",
        json={"destination": "https://x.example.com/h", "settings": ["add_lead"], "sort": 10},
        headers=headers,
    )
    assert created.status_code == 200
    hook = created.get_json()
    assert set(hook) >= {
        "id",
        "destination",
        "created_at",
        "updated_at",
        "account_id",
        "created_by",
        "sort",
        "disabled",
        "settings",
    }
    listed = client.get("/kommo/api/v4/webhooks", headers=headers).get_json()
    assert listed["_total_items"] == 1 and listed["_embedded"]["webhooks"][0]["id"] == hook["id"]
    bad = client.post("/kommo/api/v4/webhooks", json={"destination": "ftp://x"}, headers=headers)
    assert bad.status_code == 400 and bad.content_type.startswith("application/problem+json")
    assert bad.get_json()["validation-errors"][0]["errors"][0]["path"] == "destination"
    gone = client.delete(
        "/kommo/api/v4/webhooks", json={"destination": "https://x.example.com/h"}, headers=headers
    )
    assert gone.status_code == 204
    again = client.delete(
        "/kommo/api/v4/webhooks", json={"destination": "https://x.example.com/h"}, headers=headers
    )
    assert again.status_code == 404


def test_delivery_wire_format():
    item = delivered_item(
        "leads",
        "status",
        {
            "id": 5,
            "name": "Lead",
            "status_id": 142,
            "pipeline_id": 7,
            "price": 10,
            "created_at": 100,
            "updated_at": 200,
            "account_id": 9,
            "custom_fields_values": None,
        },
        {"status_id": 1, "pipeline_id": 6},
    )
    body = encode("leads", "status", [item], "acme", 9, "https://acme.kommo.com").decode()
    pairs = parse_qsl(body)
    assert [k for k, _ in pairs[:3]] == [
        "account[subdomain]",
        "account[id]",
        "account[_links][self]",
    ]
    flat = dict(pairs)
    assert flat["leads[status][0][status_id]"] == "142"
    assert flat["leads[status][0][old_status_id]"] == "1"
    assert flat["leads[status][0][old_pipeline_id]"] == "6"
    assert flat["leads[status][0][last_modified]"] == "200"
    assert flat["leads[status][0][updated_at]"] == "200"


def test_state_change_is_delivered_and_shown_by_the_api(make_client, live_server):
    app, got = receiver()
    url = live_server(app)
    emu = create_app(EmulatorConfig(contacts=10, leads=10, kommo_rate_limit=0))
    client = emu.test_client()
    headers = kommo_headers()
    for destination, settings in (
        (f"{url}/hook", ["status_lead", "update_contact"]),
        (f"{url}/broken", ["status_lead"]),
    ):
        client.post(
            "/kommo/api/v4/webhooks",
            headers=headers,
            json={"destination": destination, "settings": settings},
        )
    lead_id = LEAD_ID_BASE + 3
    before = client.get(f"/kommo/api/v4/leads/{lead_id}", headers=headers).get_json()
    out = client.post(
        "/_emulator/kommo/webhook-events",
        json={"entity": "leads", "action": "status", "id": lead_id, "status_id": 142},
    ).get_json()
    assert sorted(d["status"] for d in out["delivered"]) == [200, 500]
    assert len(got) == 1
    delivery = got[0]
    assert delivery["content_type"] == "application/x-www-form-urlencoded"
    assert delivery["user_agent"] == "amoCRM-Webhooks/3.0" and delivery["request_id"]
    flat = dict(parse_qsl(delivery["raw"]))
    assert flat["leads[status][0][id]"] == str(lead_id)
    assert flat["leads[status][0][status_id]"] == "142"
    assert flat["leads[status][0][old_status_id]"] == str(before["status_id"])
    after = client.get(f"/kommo/api/v4/leads/{lead_id}", headers=headers).get_json()
    assert after["status_id"] == 142 and after["name"] == before["name"]
    assert after["closed_at"] is not None
    page = client.get("/kommo/api/v4/leads?limit=250", headers=headers).get_json()
    listed = {lead["id"]: lead for lead in page["_embedded"]["leads"]}
    assert listed[lead_id]["status_id"] == 142  # a full sync keeps the change

    contact_id = CONTACT_ID_BASE + 1
    client.post(
        "/_emulator/kommo/webhook-events",
        json={"entity": "contacts", "action": "update", "id": contact_id, "email": "x@example.com"},
    )
    flat = dict(parse_qsl(got[-1]["raw"]))
    assert flat["contacts[update][0][custom_fields][0][code]"] in ("EMAIL", "PHONE")
    assert "x@example.com" in got[-1]["raw"].replace("%40", "@")
    shown = client.get(f"/kommo/api/v4/contacts/{contact_id}", headers=headers).get_json()
    assert shown["custom_fields_values"][0]["values"][0]["value"] == "x@example.com"

    client.post(
        "/_emulator/kommo/webhook-events",
        json={"entity": "leads", "action": "delete", "id": lead_id},
    )
    assert client.get(f"/kommo/api/v4/leads/{lead_id}", headers=headers).status_code == 204
    page = client.get("/kommo/api/v4/leads?limit=250", headers=headers).get_json()
    assert lead_id not in {lead["id"] for lead in page["_embedded"]["leads"]}
    assert len(got) == 2  # delete_lead was not subscribed


def test_bad_state_changes_are_4xx(make_client):
    client = make_client(contacts=2, leads=2)
    for body, status in (
        ({"entity": "tasks", "action": "add", "id": 1}, 400),
        ({"entity": "leads", "action": "status", "id": "x"}, 400),
        ({"entity": "contacts", "action": "status", "id": CONTACT_ID_BASE}, 400),
        ({"entity": "leads", "action": "update", "id": 1}, 404),
        ({"entity": "leads", "action": "add", "id": LEAD_ID_BASE}, 409),
    ):
        assert client.post("/_emulator/kommo/webhook-events", json=body).status_code == status
