"""Kommo API v4 writes (PLATFORMS-WRITES.md §1): what the app writes is kept and read back.

``POST /contacts``, ``PATCH /contacts[/{id}]``, ``POST /leads``, ``PATCH /leads[/{id}]``,
``POST /leads/{id}/notes`` and ``POST /leads/notes`` take Kommo's real wire format (arrays of
objects, ``request_id`` echoed, ``custom_fields_values``, ``_embedded.tags``/``contacts``) and
answer its validation errors (400 ``validation-errors``). Written contacts and leads are served
by the read API (``contacts?query=``, ``contacts/{id}?with=leads``, ``leads/{id}?with=contacts``,
``leads?query=``) beside the generated dataset; a PATCH changes only those (a generated record
is read-only: 404). Kept apart from ``kommo.py`` (the generated
reads) so other additions to the emulator merge cleanly; the store, the record views and the
reads of written records are in ``kommo_store.py``; ``register(bp)`` mounts the routes on
the Kommo blueprint, behind its auth and rate limit.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .kommo_store import (  # noqa: F401 - re-exported (kommo.py reads them from here)
    HAL,
    KommoStore,
    _href,
    contact_view,
    lead_view,
    merge_list,
    now,
    store,
    written_contact,
    written_contacts,
    written_lead,
    written_leads,
)
from .kommo_validation import (
    Invalid,
    blank_problem,
    body_items,
    check_stage,
    custom_fields,
    err,
    int_field,
    main_pipeline,
    objects,
    parse_tags,
    request_id,
    validation_problem,
)
from .wire import emulator, json_response, multi_values, query_with

# ---------------------------------------------------------------------------- writes


def check_contact(item: dict, errors: list) -> tuple[list | None, list]:
    """A contact item's problems (into ``errors``) → its custom fields and tags."""
    for key in ("name", "first_name", "last_name"):
        if key in item and not isinstance(item[key], str):
            errors.append(err("InvalidType", key, "This value should be of type string."))
    fields = custom_fields(item, errors)
    tags = parse_tags((item.get("_embedded") or {}).get("tags"), "_embedded.tags", errors)
    return fields, tags


def new_contact(st: KommoStore, item: dict, fields: list | None, tags: list, ts: int) -> int:
    """Store one validated contact (the store's lock held) → its id."""
    cfg = emulator().config
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
    return cid


def add_contacts() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    groups, made = [], []
    for rid, item in objects(items, groups):
        errors: list[dict] = []
        fields, tags = check_contact(item, errors)
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, item, fields, tags))
    if groups:
        return validation_problem(groups)
    st, ts, out = store(), now(), []
    with st.lock:
        for rid, item, fields, tags in made:
            cid = new_contact(st, item, fields, tags, ts)
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


def _apply_contact_patch(contact: dict, item: dict, errors: list) -> None:
    """Kommo's PATCH of a contact (PLATFORMS-WRITES.md §1.3): the names given; each field in
    ``custom_fields_values`` replaces all values of that field (the others are kept);
    ``_embedded.tags`` replaces the tags (``null``: none), ``tags_to_add`` /
    ``tags_to_delete`` change them."""
    fields, tags = check_contact(item, errors)
    add = parse_tags(item.get("tags_to_add"), "tags_to_add", errors)
    drop = parse_tags(item.get("tags_to_delete"), "tags_to_delete", errors)
    if errors:
        return
    for key in ("name", "first_name", "last_name"):
        if key in item:
            contact[key] = item[key]
    if "name" not in item and ("first_name" in item or "last_name" in item):
        contact["name"] = " ".join(filter(None, (contact["first_name"], contact["last_name"])))
    if fields is not None:
        given = {f["field_id"] for f in fields}
        kept = [f for f in contact["custom_fields_values"] or [] if f["field_id"] not in given]
        contact["custom_fields_values"] = (kept + fields) or None
    embedded = item.get("_embedded")
    if isinstance(embedded, dict) and "tags" in embedded:
        contact["_tags"] = tags
    names = {t["name"] for t in contact["_tags"]}
    contact["_tags"] = contact["_tags"] + [t for t in add if t["name"] not in names]
    gone = {t["name"] for t in drop}
    contact["_tags"] = [t for t in contact["_tags"] if t["name"] not in gone]
    contact["updated_at"] = now()


def _not_found(what: str) -> Response:
    body = {
        "title": "Not Found",
        "type": "https://httpstatus.es/404",
        "status": 404,
        "detail": f"{what} not found",
    }
    return json_response(body, 404, content_type="application/problem+json")


def _one_object() -> dict | Response:
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
    return item


def patch_contact(contact_id: int) -> Response:
    """``PATCH /contacts/{id}``: one object → ``{id, name, updated_at, _links}``. Only the
    contacts written through the API change (the generated dataset is read-only: 404)."""
    return _patch_one("contacts", "Contact", contact_id, _apply_contact_patch, echo=("name",))


def patch_contacts() -> Response:
    """``PATCH /contacts``: an array of objects with ``id`` →
    ``_embedded.contacts[{id, updated_at, request_id, _links}]``."""
    items = body_items()
    if isinstance(items, Response):
        return items
    st, out, groups = store(), [], []
    with st.lock:
        for n, item in enumerate(items):
            rid = request_id(item, n)
            contact = st.contacts.get(item.get("id")) if isinstance(item, dict) else None
            if contact is None:
                groups.append(
                    {"request_id": rid, "errors": [err("NotFound", "id", "Contact not found.")]}
                )
                continue
            errors: list[dict] = []
            _apply_contact_patch(contact, item, errors)
            if errors:
                groups.append({"request_id": rid, "errors": errors})
                continue
            href = f"{_href()}/api/v4/contacts/{contact['id']}"
            out.append(
                {
                    "id": contact["id"],
                    "updated_at": contact["updated_at"],
                    "request_id": rid,
                    "_links": {"self": {"href": href}},
                }
            )
    if groups:
        return validation_problem(groups)
    return _created("contacts", out)


def _created(kind: str, out: list[dict]) -> Response:
    body = {"_links": {"self": {"href": f"{_href()}/api/v4/{kind}"}}, "_embedded": {kind: out}}
    return json_response(body, content_type=HAL)


def check_lead(item: dict, errors: list, links: bool = True) -> tuple[list, list[int]]:
    """A lead item's problems (into ``errors``) → its tags and the ids of the existing
    contacts it links (``_embedded.contacts[{id}]``; ``links=False``: not read here)."""
    st = store()
    if "name" in item and not isinstance(item["name"], str):
        errors.append(err("InvalidType", "name", "This value should be of type string."))
    int_field(item, "price", errors)
    check_stage(item, errors)
    embedded = item.get("_embedded") or {}
    tags = parse_tags(embedded.get("tags"), "_embedded.tags", errors)
    contacts = []
    for m, link in enumerate((embedded.get("contacts") or []) if links else []):
        cid = link.get("id") if isinstance(link, dict) else None
        if not isinstance(cid, int) or (cid not in st.contacts and not _generated_contact(cid)):
            errors.append(err("NotFound", f"_embedded.contacts.{m}.id", "Contact not found."))
        else:
            contacts.append(cid)
    return tags, contacts


def new_lead(st: KommoStore, item: dict, tags: list, contacts: list[int], ts: int) -> int:
    """Store one validated lead (the store's lock held) → its id."""
    cfg = emulator().config
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
    return lid


def add_leads() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    st = store()
    groups, made = [], []
    for rid, item in objects(items, groups):
        errors: list[dict] = []
        tags, contacts = check_lead(item, errors)
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, item, tags, contacts))
    if groups:
        return validation_problem(groups)
    ts, out = now(), []
    with st.lock:
        for rid, item, tags, contacts in made:
            lid = new_lead(st, item, tags, contacts, ts)
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
    return _patch_one("leads", "Lead", lead_id, _apply_patch)


def _patch_one(collection: str, label: str, entity_id: int, apply, echo=()) -> Response:
    """One object PATCHed onto a written contact or lead → Kommo's short answer."""
    item = _one_object()
    if isinstance(item, Response):
        return item
    st = store()
    with st.lock:
        entity = getattr(st, collection).get(entity_id)
        if entity is None:
            return _not_found(label)
        errors: list[dict] = []
        apply(entity, item, errors)
    if errors:
        return validation_problem([{"request_id": "0", "errors": errors}])
    return json_response(
        {
            "id": entity_id,
            **{key: entity[key] for key in echo},
            "updated_at": entity["updated_at"],
            "_links": {"self": {"href": f"{_href()}/api/v4/{collection}/{entity_id}"}},
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
            rid = request_id(item, n)
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
    for rid, item in objects(items, groups):
        errors: list[dict] = []
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
    out, ts, cfg = [], now(), emulator().config
    with st.lock:
        for rid, target, kind, text in made:
            nid = st.new_id("note")
            st.notes[nid] = {
                "id": nid,
                "entity_id": target,
                "created_by": 0,
                "updated_by": 0,
                "created_at": ts,
                "updated_at": ts,
                "responsible_user_id": cfg.kommo_user_id,
                "group_id": 0,
                "note_type": kind,
                "params": {"text": text},
                "account_id": cfg.kommo_account_id,
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
    """``GET /leads/{id}/notes``: Kommo's HAL page (``page``, ``limit`` ≤ 250, ``order[id]`` /
    ``order[updated_at]``, ``filter[note_type]``); 204 when there are none."""
    from .kommo import MAX_LIMIT, Problem, int_arg, order

    page, limit = int_arg("page", 1), int_arg("limit", 50)
    if page is None or page < 1:
        raise Problem(400, "Invalid value of page")
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, "Limit 250 per page")
    kinds = set(multi_values("filter[note_type]"))
    st = store()
    with st.lock:
        notes = [
            dict(n)
            for n in st.notes.values()
            if n["entity_id"] == lead_id and (not kinds or n["note_type"] in kinds)
        ]
    by_update = "order[updated_at]" in request.args
    notes.sort(key=lambda n: (n["updated_at"] if by_update else 0, n["id"]))
    if order():
        notes.reverse()
    chunk = notes[(page - 1) * limit : page * limit]
    if not chunk:
        return Response(status=204)
    base = f"{_href()}/api/v4/leads/{lead_id}/notes"
    links = {"self": {"href": f"{base}?{query_with('page', page)}"}}
    if page * limit < len(notes):
        links["next"] = {"href": f"{base}?{query_with('page', page + 1)}"}
    for note in chunk:
        note["_links"] = {"self": {"href": f"{base}/{note['id']}"}}
    body = {"_page": page, "_links": links, "_embedded": {"notes": chunk}}
    return json_response(body, content_type=HAL)


def register(bp: Blueprint) -> None:
    """Mount the write routes on the Kommo blueprint (its guard: auth, 429, blocks)."""
    bp.add_url_rule("/contacts", "add_contacts", add_contacts, methods=["POST"])
    bp.add_url_rule("/contacts", "patch_contacts", patch_contacts, methods=["PATCH"])
    bp.add_url_rule("/contacts/<int:contact_id>", "patch_contact", patch_contact, methods=["PATCH"])
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
