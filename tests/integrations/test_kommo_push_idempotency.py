"""Sale → Kommo, the non-idempotent POSTs (PLATFORMS-WRITES.md §1.7, §1.5), against a live
emulator over HTTP: a note whose POST timed out after Kommo saved it is found by its marker and
not posted twice; a 5xx (nothing saved) posts it once; a new buyer's lead and contact go in one
``leads/complex`` request in Kommo's wire format, and the emulator answers it (and the notes
list) as Kommo does.
"""

from __future__ import annotations

import requests
from flask import current_app
from sqlalchemy import update

from app.clients.kommo_writes import KommoWriter
from app.extensions import db
from app.models import AutomationDelivery
from app.models.automation import DELIVERY_PENDING, DELIVERY_SENT
from app.models.types import utcnow
from app.services import automation_sender
from app.services.kommo_push import lead_ref, note_marker
from tests.conftest import WebhookSender, load_fixture
from tests.integrations import test_kommo_push as base
from tests.integrations.test_kommo_push import (
    API,
    approved,
    contacts_of,
    deliveries,
    kommo_get,
    wait_for,
)

emu, push_app, hook = base.emu, base.push_app, base.hook  # the same fixtures


def notes_of(emu, lead_id: int) -> list[dict]:
    data = kommo_get(emu, f"/leads/{lead_id}/notes")
    return data["_embedded"]["notes"] if data else []


def due_now() -> None:
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.commit()


def kommo_post(emu, path: str, body) -> requests.Response:
    return requests.post(
        f"{emu.kommo}{API}{path}",
        json=body,
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )


# ------------------------------------------------------------------------------ notes


def test_a_note_saved_by_a_timed_out_post_is_not_posted_again(hook, emu):
    current_app.config["KOMMO_TIMEOUT"] = "2"
    current_app.extensions.pop("vendas_settings_cache", None)
    emu.fault(api="kommo", path="/notes", method="POST", latency_ms=2500, count=1)
    assert hook("hotmart", approved(email="nina.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and row.remote_lead_id is not None
    assert row.note_added is False
    wait_for(lambda: len(notes_of(emu, row.remote_lead_id)) == 1)  # Kommo saved it meanwhile
    due_now()
    automation_sender.send_pending()
    [row] = deliveries()
    assert row.status == DELIVERY_SENT and row.note_added and row.attempts == 2
    [note] = notes_of(emu, row.remote_lead_id)
    assert note["params"]["text"].endswith(note_marker(row))
    assert "Venda aprovada na Hotmart" in note["params"]["text"]
    stats = emu.stats()["endpoints"]
    assert stats["kommo.add_lead_notes"] == 1  # looked up (GET), not posted again
    assert stats["kommo.lead_notes"] >= 1


def test_a_note_refused_with_a_5xx_is_posted_once_on_the_retry(hook, emu):
    emu.fault(api="kommo", path="/notes", method="POST", status=502, count=1)
    assert hook("hotmart", approved(email="otto.push@example.com")).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_PENDING and notes_of(emu, row.remote_lead_id) == []
    due_now()
    automation_sender.send_pending()
    [row] = deliveries()
    assert row.status == DELIVERY_SENT
    [note] = notes_of(emu, row.remote_lead_id)
    assert note_marker(row) in note["params"]["text"]
    assert emu.stats()["endpoints"]["kommo.add_lead_notes"] == 2  # the 502 and the retry


def test_the_marker_of_one_delivery_is_not_found_in_another_ones():
    """Delivery 1's marker is not a prefix match of delivery 12's (bracketed)."""
    one, twelve = AutomationDelivery(id=1), AutomationDelivery(id=12)
    assert note_marker(one) not in note_marker(twelve)


# ------------------------------------------------------------------------------ the notes list


def test_the_emulator_lists_notes_as_kommo_does(hook, emu):
    assert hook("hotmart", approved(email="lis.push@example.com")).status_code == 200
    [row] = deliveries()
    lead = row.remote_lead_id
    for n in range(3):
        body = [{"note_type": "common", "params": {"text": f"nota {n}"}}]
        assert kommo_post(emu, f"/leads/{lead}/notes", body).status_code == 200
    page = kommo_get(emu, f"/leads/{lead}/notes", limit=2, **{"order[id]": "desc"})
    assert page["_page"] == 1 and "next" in page["_links"]
    first = page["_embedded"]["notes"]
    assert [n["params"]["text"] for n in first] == ["nota 2", "nota 1"]
    for key in ("id", "entity_id", "created_by", "updated_at", "note_type", "account_id"):
        assert key in first[0]
    assert first[0]["entity_id"] == lead and first[0]["_links"]["self"]["href"].endswith(
        f"/leads/{lead}/notes/{first[0]['id']}"
    )
    rest = kommo_get(emu, f"/leads/{lead}/notes", limit=2, page=2, **{"order[id]": "desc"})
    assert len(rest["_embedded"]["notes"]) == 2 and "next" not in rest["_links"]
    assert kommo_get(emu, f"/leads/{lead}/notes", **{"filter[note_type]": "call_in"}) is None
    too_many = requests.get(
        f"{emu.kommo}{API}/leads/{lead}/notes",
        params={"limit": 251},
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )
    assert too_many.status_code == 400


# ------------------------------------------------------------------------------ leads/complex


def test_a_new_buyer_is_one_complex_request_with_the_contact(hook, emu):
    sale = approved(email="caio.push@example.com", checkout_phone="988887777")
    assert hook("hotmart", sale).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_SENT
    stats = emu.stats()["endpoints"]
    assert stats["kommo.add_complex"] == 1
    assert "kommo.add_contacts" not in stats and "kommo.add_leads" not in stats
    [contact] = contacts_of(emu, "caio.push@example.com")
    assert contact["id"] == row.remote_contact_id and contact["name"] == "Maria Souza"
    phones = [f for f in contact["custom_fields_values"] if f["field_code"] == "PHONE"]
    assert phones and "988887777" in phones[0]["values"][0]["value"]
    lead = kommo_get(emu, f"/leads/{row.remote_lead_id}", **{"with": "contacts"})
    assert lead["_embedded"]["contacts"][0]["id"] == contact["id"]
    assert (lead["price"], lead["status_id"]) == (197, 142)
    assert {t["name"] for t in lead["_embedded"]["tags"]} == {"Hotmart", "Curso Exemplo"}


def test_the_emulator_answers_complex_in_kommo_wire_format(emu):
    body = [
        {
            "name": "Curso X — HP1",
            "price": 497,
            "status_id": 142,
            "_embedded": {
                "tags": [{"name": "hotmart"}],
                "contacts": [
                    {
                        "first_name": "Ana",
                        "last_name": "Silva",
                        "custom_fields_values": [
                            {
                                "field_code": "EMAIL",
                                "values": [{"value": "ana.cx@example.com", "enum_code": "WORK"}],
                            }
                        ],
                    }
                ],
                "companies": [{"name": "Ana Silva ME"}],
            },
            "request_id": "0752a617",
        }
    ]
    resp = kommo_post(emu, "/leads/complex", body)
    assert resp.status_code == 200
    [item] = resp.json()  # a bare array, not HAL
    assert set(item) == {"id", "contact_id", "company_id", "request_id", "merged"}
    assert item["request_id"] == ["0752a617"] and item["merged"] is False
    assert item["company_id"] is not None
    contact = kommo_get(emu, f"/contacts/{item['contact_id']}", **{"with": "leads"})
    assert contact["name"] == "Ana Silva"
    assert [x["id"] for x in contact["_embedded"]["leads"]] == [item["id"]]

    two_contacts = [{"name": "x", "_embedded": {"contacts": [{"name": "a"}, {"name": "b"}]}}]
    refused = kommo_post(emu, "/leads/complex", two_contacts)
    assert refused.status_code == 400
    [group] = refused.json()["validation-errors"]
    assert group["errors"][0]["path"] == "_embedded.contacts"
    assert kommo_post(emu, "/leads/complex", [{"name": "x"}] * 51).status_code == 400
    bad_stage = [{"name": "x", "status_id": 999, "_embedded": {"contacts": [{"name": "a"}]}}]
    assert kommo_post(emu, "/leads/complex", bad_stage).status_code == 400
    assert kommo_post(emu, "/leads/complex", []).status_code == 400


# ------------------------------------------------------------------------------ recovery leads


def test_a_cart_retried_after_a_timeout_is_one_recovery_lead(app_factory, emu):
    """Hotmart's abandoned cart has no transaction: the recovery lead carries the delivery's
    reference in its name, and the retry finds it by Kommo's search instead of posting a
    second lead to the contact the timed-out ``leads/complex`` made."""
    app = app_factory(**base.push_config(emu, KOMMO_CART_STATUS_ID="67000002", KOMMO_TIMEOUT="2"))
    with app.app_context():
        emu.fault(
            api="kommo", path="/api/v4/leads/complex", method="POST", latency_ms=2500, count=1
        )
        cart = load_fixture("hotmart", "purchase_out_of_shopping_cart")
        assert WebhookSender(app.test_client())("hotmart", cart).status_code == 200
        [row] = deliveries()
        assert (row.step, row.status) == ("cart", DELIVERY_PENDING)
        assert row.remote_lead_id is None and not row.payload.get("transaction_id")
        wait_for(lambda: len(contacts_of(emu, "pedro@example.com")) == 1)  # applied meanwhile
        [made] = contacts_of(emu, "pedro@example.com")
        wait_for(
            lambda: kommo_get(emu, f"/contacts/{made['id']}", **{"with": "leads"})["_embedded"][
                "leads"
            ]
        )
        due_now()
        automation_sender.send_pending()  # the contact by e-mail, the lead by its reference
        [row] = deliveries()
        assert row.status == DELIVERY_SENT and row.attempts == 2
        assert row.remote_contact_id == made["id"]
        contact = kommo_get(emu, f"/contacts/{made['id']}", **{"with": "leads"})
        assert [x["id"] for x in contact["_embedded"]["leads"]] == [row.remote_lead_id]
        lead = kommo_get(emu, f"/leads/{row.remote_lead_id}")
        assert lead["status_id"] == 67000002 and lead_ref(row) in lead["name"]
        stats = emu.stats()["endpoints"]
        assert stats["kommo.add_complex"] == 1 and "kommo.add_leads" not in stats
        assert len(contacts_of(emu, "pedro@example.com")) == 1


def test_a_lead_reference_is_matched_as_a_whole_word():
    """``VHR1`` (delivery 1) is not taken for ``VHR12``'s lead, found by Kommo's fuzzy query."""

    class Gateway:
        def request(self, method, path, **kwargs):
            names = ["Curso — carrinho VHR12", "Curso — carrinho VHR1"]
            leads = [{"id": n, "name": name} for n, name in enumerate(names)]
            return type("Answer", (), {"data": {"_embedded": {"leads": leads}}})()

    class Client:
        gateway = Gateway()

        def _require(self):
            return None

    found = KommoWriter(Client()).find_lead("VHR1")
    assert found is not None and found["id"] == 1
    assert KommoWriter(Client()).find_lead("VHR123") is None


# ------------------------------------------------------------------------------ the CPF field


def test_the_cpf_lands_in_the_accounts_cpf_field(start_emulator, app_factory):
    emu = start_emulator(contacts=5, leads=5, kommo_rate_limit=0, kommo_cpf_field=True)
    app = app_factory(**base.push_config(emu))
    with app.app_context():
        sale = approved(email="cpf.push@example.com", document="529.982.247-25")
        assert WebhookSender(app.test_client())("hotmart", sale).status_code == 200
        [row] = deliveries()
        assert row.status == DELIVERY_SENT, row.last_error
        contact = kommo_get(emu, f"/contacts/{row.remote_contact_id}")
        [cpf] = [f for f in contact["custom_fields_values"] if f["field_id"] == 771912]
        assert (cpf["field_name"], cpf["field_type"]) == ("CPF", "text")
        assert cpf["values"] == [{"value": "52998224725"}]  # digits only
        assert emu.stats()["endpoints"]["kommo.contact_fields"] == 1


def test_without_a_cpf_field_the_contact_is_made_without_it(hook, emu):
    sale = approved(email="semcpf.push@example.com", document="529.982.247-25")
    assert hook("hotmart", sale).status_code == 200
    [row] = deliveries()
    assert row.status == DELIVERY_SENT, row.last_error
    contact = kommo_get(emu, f"/contacts/{row.remote_contact_id}")
    codes = {f["field_code"] for f in contact["custom_fields_values"]}
    assert codes == {"EMAIL"} or codes == {"EMAIL", "PHONE"}
    assert emu.stats()["endpoints"]["kommo.contact_fields"] == 1  # looked, found none
