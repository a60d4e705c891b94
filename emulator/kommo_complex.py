"""Kommo ``POST /api/v4/leads/complex``: leads with a new contact (and company) in one call
(PLATFORMS-WRITES.md §1.5).

The body is an array of at most **50** leads, each with at most one contact and one company in
``_embedded`` and at most 40 custom-field values per entity; a new contact and company are
linked together and to the lead. The answer is a **bare array**, not HAL:
``[{"id", "contact_id", "company_id", "request_id": ["…"], "merged": false}]``.
A contact given as ``{"id": …}`` is linked instead of created (whether Kommo does so is
unverified, §6.4). Duplicate control is not emulated (it is an option of the integration that
adds the data, off by default): every call creates, as Kommo does without it — so a client
must look before re-posting after a timeout. Validation errors are Kommo's 400
``validation-errors``, grouped by the lead's ``request_id``.
"""

from __future__ import annotations

from flask import Blueprint, Response

from .kommo_store import store
from .kommo_validation import (
    body_items,
    err,
    objects,
    validation_problem,
)
from .kommo_writes import check_contact, check_lead, new_contact, new_lead, now
from .wire import json_response

MAX_COMPLEX = 50
MAX_FIELD_VALUES = 40


def _field_values(item: dict) -> int:
    fields = item.get("custom_fields_values")
    if not isinstance(fields, list):
        return 0
    return sum(len(f.get("values") or []) for f in fields if isinstance(f, dict))


def _one(embedded: dict, key: str, errors: list) -> dict | None:
    raw = embedded.get(key)
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        errors.append(err("InvalidType", f"_embedded.{key}", "This value should be of type array."))
        return None
    if len(raw) > 1:
        errors.append(err("TooMany", f"_embedded.{key}", f"Only one of {key} per lead."))
        return None
    if not isinstance(raw[0], dict):
        errors.append(
            err("InvalidType", f"_embedded.{key}.0", "This value should be of type object.")
        )
        return None
    return raw[0]


def add_complex() -> Response:
    items = body_items()
    if isinstance(items, Response):
        return items
    if len(items) > MAX_COMPLEX:
        return validation_problem(
            [{"request_id": "0", "errors": [err("TooMany", "", "Maximum 50 leads")]}]
        )
    st = store()
    groups, made = [], []
    for rid, item in objects(items, groups):
        errors: list[dict] = []
        tags, _ = check_lead(item, errors, links=False)
        embedded = item.get("_embedded") if isinstance(item.get("_embedded"), dict) else {}
        contact = _one(embedded, "contacts", errors)
        company = _one(embedded, "companies", errors)
        linked, fields, ctags = None, None, []
        if contact is not None and "id" in contact:
            linked = contact["id"]
            if not isinstance(linked, int) or linked not in st.contacts:
                errors.append(err("NotFound", "_embedded.contacts.0.id", "Contact not found."))
        elif contact is not None:
            fields, ctags = check_contact(contact, errors)
        if company is not None and not isinstance(company.get("name", ""), str):
            errors.append(
                err("InvalidType", "_embedded.companies.0.name", "This value should be a string.")
            )
        for what, entity in (("", item), ("_embedded.contacts.0.", contact or {})):
            if _field_values(entity) > MAX_FIELD_VALUES:
                errors.append(
                    err("TooMany", f"{what}custom_fields_values", "Maximum 40 field values.")
                )
        if errors:
            groups.append({"request_id": rid, "errors": errors})
            continue
        made.append((rid, item, tags, contact, linked, fields, ctags, company))
    if groups:
        return validation_problem(groups)
    ts, out = now(), []
    with st.lock:
        for rid, item, tags, contact, linked, fields, ctags, company in made:
            contact_id = linked
            if contact is not None and linked is None:
                contact_id = new_contact(st, contact, fields, ctags, ts)
            lead_id = new_lead(st, item, tags, [contact_id] if contact_id else [], ts)
            company_id = st.new_id("company") if company is not None else None
            out.append(
                {
                    "id": lead_id,
                    "contact_id": contact_id,
                    "company_id": company_id,
                    "request_id": [rid],
                    "merged": False,
                }
            )
    return json_response(out)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/leads/complex", "add_complex", add_complex, methods=["POST"])
