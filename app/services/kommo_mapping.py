"""Kommo API items → the columns of ``KommoContact`` and ``KommoLead`` (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.clients.kommo import LOST_STATUS_ID, WON_STATUS_ID
from app.services import bulk
from app.sources.base import as_dict, as_int, epoch_to_utc, text


def _seconds(value: Any) -> datetime | None:
    return epoch_to_utc(value, unit_ms=False)


def _multitext(fields: Any, code: str) -> str | None:
    """First value of the ``multitext`` custom field with ``field_code`` ``code``."""
    if not isinstance(fields, list):
        return None
    for item in fields:
        if not isinstance(item, dict) or item.get("field_code") != code:
            continue
        for value in item.get("values") or []:
            found = text(value.get("value")) if isinstance(value, dict) else None
            if found:
                return found
    return None


def contact_fields(item: dict) -> dict[str, Any] | None:
    remote_id = as_int(item.get("id"))
    if remote_id is None:
        return None
    fields = item.get("custom_fields_values")
    fields = fields if isinstance(fields, list) else None
    return {
        "remote_id": remote_id,
        "name": text(item.get("name"), 255) or "",
        "first_name": text(item.get("first_name"), 255),
        "last_name": text(item.get("last_name"), 255),
        "email": bulk.email(_multitext(fields, "EMAIL")),
        "phone": text(_multitext(fields, "PHONE"), 64),
        "responsible_user_id": as_int(item.get("responsible_user_id")),
        "remote_created_at": _seconds(item.get("created_at")),
        "remote_updated_at": _seconds(item.get("updated_at")),
        "custom_fields": fields,
    }


def _main_contact(item: dict) -> int | None:
    contacts = as_dict(item.get("_embedded")).get("contacts")
    if not isinstance(contacts, list):
        return None
    candidates = [c for c in contacts if isinstance(c, dict) and as_int(c.get("id"))]
    main = next((c for c in candidates if c.get("is_main")), candidates[0] if candidates else None)
    return as_int(main.get("id")) if main else None


def account_currency(account: Any) -> str | None:
    """The ISO 4217 code of ``GET /api/v4/account``'s ``currency`` (``BRL``, ``USD``…)."""
    code = text(as_dict(account).get("currency"), 8)
    code = (code or "").strip().upper()
    return code if len(code) == 3 and code.isalpha() else None


def lead_fields(
    item: dict, names: dict[str, dict], currency: str | None = None
) -> dict[str, Any] | None:
    remote_id = as_int(item.get("id"))
    if remote_id is None:
        return None
    status_id = as_int(item.get("status_id"))
    pipeline_id = as_int(item.get("pipeline_id"))
    fields = item.get("custom_fields_values")
    return {
        "remote_id": remote_id,
        "name": text(item.get("name"), 255) or "",
        "price": as_int(item.get("price")),
        "currency": currency,
        "status_id": status_id,
        "pipeline_id": pipeline_id,
        "status_name": names["statuses"].get((pipeline_id, status_id)),
        "pipeline_name": names["pipelines"].get(pipeline_id),
        "is_won": status_id == WON_STATUS_ID,
        "is_lost": status_id == LOST_STATUS_ID,
        "contact_id": _main_contact(item),
        "responsible_user_id": as_int(item.get("responsible_user_id")),
        "remote_created_at": _seconds(item.get("created_at")),
        "remote_updated_at": _seconds(item.get("updated_at")),
        "closed_at": _seconds(item.get("closed_at")),
        "custom_fields": fields if isinstance(fields, list) else None,
    }


def pipeline_names(pipelines: list[dict]) -> dict[str, dict]:
    """``{"pipelines": {id: name}, "statuses": {(pipeline_id, status_id): name}}``."""
    out: dict[str, dict] = {"pipelines": {}, "statuses": {}}
    for pipeline in pipelines:
        pid = as_int(pipeline.get("id"))
        if pid is None:
            continue
        out["pipelines"][pid] = text(pipeline.get("name"), 255)
        for status in as_dict(pipeline.get("_embedded")).get("statuses") or []:
            sid = as_int(status.get("id")) if isinstance(status, dict) else None
            if sid is not None:
                out["statuses"][(pid, sid)] = text(status.get("name"), 255)
    return out
