"""Kommo API v4 writes: find a contact, add contacts and leads (or a lead with its new contact
in one ``leads/complex`` call), move a lead, add notes and find one again.

Wire format: PLATFORMS-WRITES.md §1. POST bodies are JSON **arrays** of objects (even for one
item), each with a ``request_id`` echoed back; a single-entity PATCH (``/leads/{id}``) takes
one object. E-mail and phone are multitext custom fields (``field_code`` EMAIL / PHONE).
``contacts?query=`` is a fuzzy full-text search that answers 204 when nothing matches, so the
match is confirmed here on the exact e-mail (case-insensitive) or the phone's digits.

Writes are sent with **no transport retry** (``retry_attempts=0``): after a timeout the request
may have been applied, and only the caller (the automation outbox) knows how to look before
sending again. A 429 is still raised with its ``retry_after``, and the shared rate budget of
the client still paces every call.
"""

from __future__ import annotations

import re
from typing import Any

from .kommo import KommoClient

EMAIL_CODE = "EMAIL"
PHONE_CODE = "PHONE"


def digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _field_values(item: dict, code: str) -> list[str]:
    out = []
    for field in item.get("custom_fields_values") or []:
        if isinstance(field, dict) and field.get("field_code") == code:
            for value in field.get("values") or []:
                if isinstance(value, dict) and isinstance(value.get("value"), str):
                    out.append(value["value"])
    return out


def same_phone(a: str, b: str) -> bool:
    """Equal on digits, or on the last 10–11 (national) digits of a Brazilian number."""
    da, db_ = digits(a), digits(b)
    if not da or not db_:
        return False
    if da == db_:
        return True
    tail = min(len(da), len(db_), 11)
    return tail >= 10 and da[-tail:] == db_[-tail:]


def embedded_ids(data: Any, kind: str) -> list[dict]:
    embedded = data.get("_embedded") if isinstance(data, dict) else None
    items = embedded.get(kind) if isinstance(embedded, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class KommoWriter:
    """The write calls on one ``KommoClient`` (its gateway, token and rate budget)."""

    def __init__(self, client: KommoClient):
        self.client = client

    def _send(self, method: str, path: str, body: Any) -> Any:
        self.client._require()
        return self.client.gateway.request(method, path, json=body, retry_attempts=0).data

    def _search(self, path: str, query: str) -> list[dict]:
        self.client._require()
        data = self.client.gateway.request(
            "GET", path, params={"query": query, "limit": 50}, retry_attempts=1
        ).data
        kind = path.strip("/").split("/")[0]
        return embedded_ids(data, kind)

    # ------------------------------------------------------------------ contacts

    def find_contact(self, email: str | None, phone: str | None) -> dict | None:
        """The contact whose EMAIL is ``email`` (case-insensitive), else whose PHONE has the
        digits of ``phone``; ``None`` when neither search finds an exact match."""
        if email:
            wanted = email.strip().lower()
            for item in self._search("/contacts", wanted):
                if any(v.strip().lower() == wanted for v in _field_values(item, EMAIL_CODE)):
                    return item
        number = digits(phone)
        if len(number) >= 8:
            queries = [number]
            if number.startswith("55") and len(number) > 11:
                queries.append(number[2:])  # national digits, as many accounts store them
            for query in queries:
                for item in self._search("/contacts", query):
                    if any(same_phone(v, number) for v in _field_values(item, PHONE_CODE)):
                        return item
        return None

    def contact_custom_fields(self) -> list[dict]:
        data = self.client.get("/contacts/custom_fields")
        return embedded_ids(data, "custom_fields")

    def create_contact(self, contact: dict, request_id: str = "0") -> int:
        """``POST /contacts`` with one contact → its id."""
        data = self._send("POST", "/contacts", [{**contact, "request_id": request_id}])
        return int(embedded_ids(data, "contacts")[0]["id"])

    # ------------------------------------------------------------------ leads

    def find_lead(self, query: str, contact_id: int | None = None) -> dict | None:
        """A lead whose name contains ``query`` as a whole word (the sale's transaction id, or
        a recovery lead's reference, is in every lead name this app creates: ``HP12`` is not
        taken for ``HP123``), linked to ``contact_id`` when given."""
        word = re.compile(rf"(?<!\w){re.escape(query)}(?!\w)", re.IGNORECASE)
        for item in self._search("/leads", query):
            if not word.search(str(item.get("name") or "")):
                continue
            if contact_id is None:
                return item
            contacts = embedded_ids(item, "contacts")
            if not contacts or any(c.get("id") == contact_id for c in contacts):
                return item
        return None

    def create_lead(self, lead: dict, request_id: str = "0") -> int:
        """``POST /leads`` with one lead (``_embedded.contacts`` links a contact) → its id."""
        data = self._send("POST", "/leads", [{**lead, "request_id": request_id}])
        return int(embedded_ids(data, "leads")[0]["id"])

    def create_lead_with_contact(
        self, lead: dict, contact: dict, request_id: str = "0"
    ) -> tuple[int, int | None]:
        """``POST /leads/complex``: one lead and its new contact in one request → (lead id,
        contact id). The answer is a bare array ``[{id, contact_id, request_id: [...],
        merged}]`` (§1.5); ``merged`` (the account's duplicate control) still names the ids."""
        embedded = {**(lead.get("_embedded") or {}), "contacts": [contact]}
        body = [{**lead, "_embedded": embedded, "request_id": request_id}]
        data = self._send("POST", "/leads/complex", body)
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        if first.get("id") is None:
            raise ValueError(f"leads/complex answered without a lead id: {data!r}"[:300])
        contact_id = first.get("contact_id")
        return int(first["id"]), int(contact_id) if contact_id is not None else None

    def lead_contact_ids(self, lead_id: int) -> list[int]:
        """The contacts linked to a lead (``GET /leads/{id}?with=contacts``)."""
        data = self.client.get(f"/leads/{int(lead_id)}", {"with": "contacts"})
        return [int(c["id"]) for c in embedded_ids(data, "contacts") if c.get("id") is not None]

    def update_lead(self, lead_id: int, changes: dict) -> None:
        """``PATCH /leads/{id}`` with one object (status, pipeline, price, ``tags_to_add``)."""
        self._send("PATCH", f"/leads/{int(lead_id)}", changes)

    # ------------------------------------------------------------------ notes

    def lead_note_with(self, lead_id: int, marker: str, max_pages: int = 4) -> dict | None:
        """The lead's ``common`` note whose text contains ``marker`` (newest first, up to
        ``max_pages`` pages of 250: ``GET /leads/{id}/notes``, 204 when it has none)."""
        params = {"filter[note_type]": "common", "order[id]": "desc"}
        pages = self.client.iter_pages(f"/leads/{int(lead_id)}/notes", "notes", params)
        for n, page in enumerate(pages):
            for note in page.items:
                text = (note.get("params") or {}).get("text") if isinstance(note, dict) else None
                if isinstance(text, str) and marker in text:
                    return note
            if n + 1 >= max_pages:
                break
        return None

    def add_lead_note(self, lead_id: int, text: str, request_id: str = "0") -> int | None:
        """``POST /leads/{id}/notes`` with a ``common`` note → the note's id."""
        body = [{"note_type": "common", "params": {"text": text}, "request_id": request_id}]
        data = self._send("POST", f"/leads/{int(lead_id)}/notes", body)
        notes = embedded_ids(data, "notes")
        return int(notes[0]["id"]) if notes and notes[0].get("id") is not None else None


def contact_body(
    name: str | None,
    email: str | None,
    phone: str | None,
    tags: list[str] = (),  # type: ignore[assignment]
    extra_fields: list[dict] = (),  # type: ignore[assignment]
) -> dict:
    """A contact in Kommo's wire format (e-mail/phone as EMAIL/PHONE multitext fields)."""
    fields: list[dict] = []
    if email:
        fields.append({"field_code": EMAIL_CODE, "values": [{"value": email, "enum_code": "WORK"}]})
    if phone:
        fields.append({"field_code": PHONE_CODE, "values": [{"value": phone, "enum_code": "MOB"}]})
    fields.extend(extra_fields)
    body: dict[str, Any] = {"name": (name or email or phone or "Cliente")[:250]}
    if fields:
        body["custom_fields_values"] = fields
    if tags:
        body["_embedded"] = {"tags": [{"name": t} for t in tags]}
    return body
