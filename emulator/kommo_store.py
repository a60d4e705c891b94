"""Kommo emulator: what the app wrote through the API (contacts, leads, notes), kept in memory,
the views of a written record in Kommo's wire shape, and the reads ``kommo.py`` merges beside
the generated dataset (``contacts?query=``, ``contacts/{id}``, ``leads…``).
``kommo_writes.py`` holds the write routes that fill it.
"""

from __future__ import annotations

import threading

from flask import Response, current_app, request

from .wire import emulator, json_response

HAL = "application/hal+json"
WRITTEN_CONTACT_BASE = 40_000_000
WRITTEN_LEAD_BASE = 50_000_000
WRITTEN_NOTE_BASE = 60_000_000
WRITTEN_COMPANY_BASE = 70_000_000


class KommoStore:
    """Contacts, leads and notes written through the API (one emulator, in memory)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.contacts: dict[int, dict] = {}
        self.leads: dict[int, dict] = {}
        self.notes: dict[int, dict] = {}
        self._next = {"contact": WRITTEN_CONTACT_BASE, "lead": WRITTEN_LEAD_BASE}
        self._next["note"] = WRITTEN_NOTE_BASE
        self._next["company"] = WRITTEN_COMPANY_BASE  # made by leads/complex (ids only)

    def new_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def clear(self) -> None:
        with self.lock:
            self.contacts.clear()
            self.leads.clear()
            self.notes.clear()


def store() -> KommoStore:
    return current_app.extensions.setdefault("kommo_store", KommoStore())


def now() -> int:
    return int(emulator().config.clock())


# ---------------------------------------------------------------------------- shapes


def _href() -> str:
    return request.host_url.rstrip("/") + "/kommo"


def contact_view(contact: dict, with_leads: bool) -> dict:
    href = _href()
    body = {k: v for k, v in contact.items() if not k.startswith("_")}
    embedded: dict = {"tags": contact["_tags"], "companies": []}
    if with_leads:
        st = store()
        embedded["leads"] = [
            {"id": lid, "_links": {"self": {"href": f"{href}/api/v4/leads/{lid}"}}}
            for lid, lead in st.leads.items()
            if contact["id"] in lead["_contacts"]
        ]
    body["_links"] = {"self": {"href": f"{href}/api/v4/contacts/{contact['id']}"}}
    body["_embedded"] = embedded
    return body


def lead_view(lead: dict, with_contacts: bool) -> dict:
    href = _href()
    body = {k: v for k, v in lead.items() if not k.startswith("_")}
    embedded: dict = {"tags": lead["_tags"], "companies": []}
    if with_contacts:
        embedded["contacts"] = [
            {
                "id": cid,
                "is_main": n == 0,
                "_links": {"self": {"href": f"{href}/api/v4/contacts/{cid}"}},
            }
            for n, cid in enumerate(lead["_contacts"])
        ]
    body["_links"] = {"self": {"href": f"{href}/api/v4/leads/{lead['id']}"}}
    body["_embedded"] = embedded
    return body


def contact_text(contact: dict) -> str:
    """What ``query`` searches: name and field values, phones also as bare digits."""
    parts = [contact.get("name") or ""]
    for field in contact.get("custom_fields_values") or []:
        parts.extend(v["value"] for v in field["values"])
        if field.get("field_code") == "PHONE":
            parts.extend("".join(ch for ch in v["value"] if ch.isdigit()) for v in field["values"])
    return " ".join(parts).lower()


def lead_text(lead: dict) -> str:
    return f"{lead.get('name') or ''} {lead['id']}".lower()


# ---------------------------------------------------------------------------- reads (hooks)


def written_contacts(query: str) -> list[dict]:
    """Written contacts matching ``query`` (lower-cased; empty: all), for ``GET /contacts``."""
    st = store()
    with st.lock:
        found = [c for c in st.contacts.values() if not query or query in contact_text(c)]
    with_leads = "leads" in request.args.get("with", "")
    return [contact_view(c, with_leads) for c in found]


def written_leads(query: str) -> list[dict]:
    st = store()
    with st.lock:
        found = [lead for lead in st.leads.values() if not query or query in lead_text(lead)]
    with_contacts = "contacts" in request.args.get("with", "")
    return [lead_view(lead, with_contacts) for lead in found]


def written_contact(contact_id: int) -> dict | None:
    contact = store().contacts.get(contact_id)
    return contact_view(contact, "leads" in request.args.get("with", "")) if contact else None


def written_lead(lead_id: int) -> dict | None:
    lead = store().leads.get(lead_id)
    return lead_view(lead, "contacts" in request.args.get("with", "")) if lead else None


def merge_list(resp: Response, kind: str, extra: list[dict]) -> Response:
    """Add written records to the first page of a generated list (or answer them alone)."""
    if not extra or request.args.get("page", "1") not in ("", "1"):
        return resp
    if resp.status_code == 204:
        body = {"_page": 1, "_links": {"self": {"href": request.url}}, "_embedded": {kind: extra}}
        return json_response(body, content_type=HAL)
    body = resp.get_json()
    body["_embedded"][kind] = extra + body["_embedded"][kind]
    return json_response(body, content_type=HAL)
