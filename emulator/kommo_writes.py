"""Kommo API v4 writes (PLATFORMS-WRITES.md §1): what the app writes is kept and read back.

``POST /contacts``, ``POST /leads``, ``PATCH /leads[/{id}]``, ``POST /leads/{id}/notes`` and
``POST /leads/notes`` take Kommo's real wire format (arrays of objects, ``request_id`` echoed,
``custom_fields_values``, ``_embedded.tags``/``contacts``) and answer its validation errors
(400 ``validation-errors``). Written contacts and leads are served by the read API
(``contacts?query=``, ``contacts/{id}?with=leads``, ``leads/{id}?with=contacts``,
``leads?query=``) beside the generated dataset. Kept apart from ``kommo.py`` (the generated
reads) so other additions to the emulator merge cleanly; ``register(bp)`` mounts the routes on
the Kommo blueprint, behind its auth and rate limit.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, request

from .kommo_validation import (
    Invalid,
    blank_problem,
    body_items,
    check_stage,
    custom_fields,
    err,
    int_field,
    main_pipeline,
    parse_tags,
    validation_problem,
)
from .wire import emulator, json_response

HAL = "application/hal+json"
WRITTEN_CONTACT_BASE = 40_000_000
WRITTEN_LEAD_BASE = 50_000_000
WRITTEN_NOTE_BASE = 60_000_000


class KommoStore:
    """Contacts, leads and notes written through the API (one emulator, in memory)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.contacts: dict[int, dict] = {}
        self.leads: dict[int, dict] = {}
        self.notes: dict[int, dict] = {}
        self._next = {"contact": WRITTEN_CONTACT_BASE, "lead": WRITTEN_LEAD_BASE}
        self._next["note"] = WRITTEN_NOTE_BASE

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


# ---------------------------------------------------------------------------- writes


def add_contacts() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    groups, made = [], []
    for n, item in enumerate(items):
        rid = str(item.get("request_id", n)) if isinstance(item, dict) else str(n)
        errors: list[dict] = []
        if not isinstance(item, dict):
            groups.append(
                {
                    "request_id": rid,
                    "errors": [err("InvalidType", "", "This value should be of type object.")],
                }
            )
            continue
        for key in ("name", "first_name", "last_name"):
            if key in item and not isinstance(item[key], str):
                errors.append(err("InvalidType", key, "This value should be of type string."))
        fields = custom_fields(item, errors)
        tags = parse_tags((item.get("_embedded") or {}).get("tags"), "_embedded.tags", errors)
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, item, fields, tags))
    if groups:
        return validation_problem(groups)
    st, ts, out = store(), now(), []
    cfg = emulator().config
    with st.lock:
        for rid, item, fields, tags in made:
            cid = st.new_id("contact")
            name = item.get("name") or " ".join(
                filter(None, (item.get("first_name"), item.get("last_name")))
            )
            st.contacts[cid] = {
                "id": cid,
                "name": name,
                "first_name": item.get("first_name") or "",
                "last_name": item.get("last_name") or "",
                "responsible_user_id": cfg.kommo_user_id,
                "group_id": 0,
                "created_by": 0,
                "updated_by": 0,
                "created_at": ts,
                "updated_at": ts,
                "closest_task_at": None,
                "is_deleted": False,
                "is_unsorted": False,
                "custom_fields_values": fields,
                "account_id": cfg.kommo_account_id,
                "_tags": tags,
            }
            out.append(
                {
                    "id": cid,
                    "is_deleted": False,
                    "is_unsorted": False,
                    "request_id": rid,
                    "_links": {"self": {"href": f"{_href()}/api/v4/contacts/{cid}"}},
                }
            )
    return _created("contacts", out)


def _created(kind: str, out: list[dict]) -> Response:
    body = {"_links": {"self": {"href": f"{_href()}/api/v4/{kind}"}}, "_embedded": {kind: out}}
    return json_response(body, content_type=HAL)


def add_leads() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    st = store()
    groups, made = [], []
    for n, item in enumerate(items):
        rid = str(item.get("request_id", n)) if isinstance(item, dict) else str(n)
        if not isinstance(item, dict):
            groups.append(
                {
                    "request_id": rid,
                    "errors": [err("InvalidType", "", "This value should be of type object.")],
                }
            )
            continue
        errors: list[dict] = []
        if "name" in item and not isinstance(item["name"], str):
            errors.append(err("InvalidType", "name", "This value should be of type string."))
        int_field(item, "price", errors)
        check_stage(item, errors)
        embedded = item.get("_embedded") or {}
        tags = parse_tags(embedded.get("tags"), "_embedded.tags", errors)
        contacts = []
        for m, link in enumerate(embedded.get("contacts") or []):
            cid = link.get("id") if isinstance(link, dict) else None
            if not isinstance(cid, int) or (cid not in st.contacts and not _generated_contact(cid)):
                errors.append(err("NotFound", f"_embedded.contacts.{m}.id", "Contact not found."))
            else:
                contacts.append(cid)
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, item, tags, contacts))
    if groups:
        return validation_problem(groups)
    ts, out, cfg = now(), [], emulator().config
    with st.lock:
        for rid, item, tags, contacts in made:
            lid = st.new_id("lead")
            status = item.get("status_id") or 67000001
            st.leads[lid] = {
                "id": lid,
                "name": item.get("name") or f"Lead #{lid}",
                "price": item.get("price") or 0,
                "responsible_user_id": cfg.kommo_user_id,
                "group_id": 0,
                "status_id": status,
                "pipeline_id": item.get("pipeline_id") or main_pipeline(),
                "loss_reason_id": item.get("loss_reason_id"),
                "created_by": 0,
                "updated_by": 0,
                "created_at": ts,
                "updated_at": ts,
                "closed_at": ts if status in (142, 143) else None,
                "closest_task_at": None,
                "is_deleted": False,
                "custom_fields_values": None,
                "score": None,
                "account_id": cfg.kommo_account_id,
                "labor_cost": None,
                "_tags": tags,
                "_contacts": contacts,
            }
            out.append(
                {
                    "id": lid,
                    "request_id": rid,
                    "_links": {"self": {"href": f"{_href()}/api/v4/leads/{lid}"}},
                }
            )
    return _created("leads", out)


def _generated_contact(cid: int) -> bool:
    from .datasets import CONTACT_ID_BASE

    return 0 <= cid - CONTACT_ID_BASE < emulator().data.kommo.n_contacts


def _apply_patch(lead: dict, item: dict, errors: list) -> None:
    int_field(item, "price", errors)
    check_stage(item, errors, lead)
    add = parse_tags(item.get("tags_to_add"), "tags_to_add", errors)
    if errors:
        return
    for key in ("name", "price", "status_id", "pipeline_id", "loss_reason_id"):
        if key in item:
            lead[key] = item[key]
    if "_embedded" in item and isinstance(item["_embedded"], dict) and "tags" in item["_embedded"]:
        lead["_tags"] = parse_tags(item["_embedded"]["tags"] or [], "_embedded.tags", errors)
    names = {t["name"] for t in lead["_tags"]}
    lead["_tags"] += [t for t in add if t["name"] not in names]
    lead["updated_at"] = now()
    if lead["status_id"] in (142, 143):
        lead["closed_at"] = lead["updated_at"]


def patch_lead(lead_id: int) -> Response:
    item = request.get_json(silent=True)
    if not item:
        return blank_problem()
    if not isinstance(item, dict):
        raise Invalid(
            [
                {
                    "request_id": "0",
                    "errors": [err("InvalidType", "", "This value should be of type object.")],
                }
            ]
        )
    st = store()
    with st.lock:
        lead = st.leads.get(lead_id)
        if lead is None:
            return json_response(
                {
                    "title": "Not Found",
                    "type": "https://httpstatus.es/404",
                    "status": 404,
                    "detail": "Lead not found",
                },
                404,
                content_type="application/problem+json",
            )
        errors: list[dict] = []
        _apply_patch(lead, item, errors)
    if errors:
        return validation_problem([{"request_id": "0", "errors": errors}])
    return json_response(
        {
            "id": lead_id,
            "updated_at": lead["updated_at"],
            "_links": {"self": {"href": f"{_href()}/api/v4/leads/{lead_id}"}},
        },
        content_type=HAL,
    )


def patch_leads() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    st, out, groups = store(), [], []
    with st.lock:
        for n, item in enumerate(items):
            rid = str(item.get("request_id", n)) if isinstance(item, dict) else str(n)
            lead = st.leads.get(item.get("id")) if isinstance(item, dict) else None
            errors: list[dict] = []
            if lead is None:
                groups.append(
                    {"request_id": rid, "errors": [err("NotFound", "id", "Lead not found.")]}
                )
                continue
            _apply_patch(lead, item, errors)
            if errors:
                groups.append({"request_id": rid, "errors": errors})
                continue
            out.append({"id": lead["id"], "updated_at": lead["updated_at"], "request_id": rid})
    if groups:
        return validation_problem(groups)
    return _created("leads", out)


def _add_notes(entity_id: int | None) -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    st, groups, made = store(), [], []
    for n, item in enumerate(items):
        rid = str(item.get("request_id", n)) if isinstance(item, dict) else str(n)
        errors: list[dict] = []
        if not isinstance(item, dict):
            groups.append(
                {
                    "request_id": rid,
                    "errors": [err("InvalidType", "", "This value should be of type object.")],
                }
            )
            continue
        target = entity_id if entity_id is not None else item.get("entity_id")
        if not isinstance(target, int) or target not in st.leads:
            errors.append(err("NotFound", "entity_id", "Entity not found."))
        if item.get("note_type") not in (
            "common",
            "service_message",
            "call_in",
            "call_out",
            "sms_in",
            "sms_out",
        ):
            errors.append(
                err("NotSupportedChoice", "note_type", "The selected value is not a valid choice.")
            )
        text = (
            (item.get("params") or {}).get("text") if isinstance(item.get("params"), dict) else None
        )
        if not isinstance(text, str) or not text.strip():
            errors.append(err("NotBlank", "params.text", "This value should not be blank."))
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, target, item["note_type"], text))
    if groups:
        return validation_problem(groups)
    out, ts = [], now()
    with st.lock:
        for rid, target, kind, text in made:
            nid = st.new_id("note")
            st.notes[nid] = {
                "id": nid,
                "entity_id": target,
                "note_type": kind,
                "params": {"text": text},
                "created_at": ts,
            }
            out.append(
                {
                    "id": nid,
                    "entity_id": target,
                    "request_id": rid,
                    "_links": {"self": {"href": f"{_href()}/api/v4/leads/{target}/notes/{nid}"}},
                }
            )
    return _created("notes", out)


def list_notes(lead_id: int) -> Response:
    st = store()
    notes = [n for n in st.notes.values() if n["entity_id"] == lead_id]
    if not notes:
        return Response(status=204)
    body = {"_page": 1, "_links": {"self": {"href": request.url}}, "_embedded": {"notes": notes}}
    return json_response(body, content_type=HAL)


def register(bp: Blueprint) -> None:
    """Mount the write routes on the Kommo blueprint (its guard: auth, 429, blocks)."""
    bp.add_url_rule("/contacts", "add_contacts", add_contacts, methods=["POST"])
    bp.add_url_rule("/leads", "add_leads", add_leads, methods=["POST"])
    bp.add_url_rule("/leads", "patch_leads", patch_leads, methods=["PATCH"])
    bp.add_url_rule("/leads/<int:lead_id>", "patch_lead", patch_lead, methods=["PATCH"])
    bp.add_url_rule("/leads/notes", "add_notes", lambda: _add_notes(None), methods=["POST"])
    bp.add_url_rule(
        "/leads/<int:lead_id>/notes",
        "add_lead_notes",
        lambda lead_id: _add_notes(lead_id),
        methods=["POST"],
    )
    bp.add_url_rule("/leads/<int:lead_id>/notes", "lead_notes", list_notes, methods=["GET"])

    @bp.errorhandler(Invalid)
    def _invalid(exc: Invalid) -> Response:
        return validation_problem(exc.errors)
