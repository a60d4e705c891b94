"""Kommo account webhooks: subscriptions and a sender of real deliveries (PLATFORMS-WRITES §2).

* ``POST /kommo/api/v4/webhooks`` ``{"destination", "settings": [...], "sort"}`` subscribes
  (the same destination again replaces its settings) and answers the webhook object;
  ``GET /kommo/api/v4/webhooks[?filter[destination]=…]`` lists them (``_total_items``,
  ``_embedded.webhooks``); ``DELETE /kommo/api/v4/webhooks`` ``{"destination"}`` unsubscribes.
  Same token check and rate limit as the rest of the emulated Kommo API.
* ``POST /_emulator/kommo/webhook-events`` ``{"entity": "leads"|"contacts", "action": "add"|
  "update"|"status"|"delete", "id": N, …fields}`` changes the emulator's Kommo state (an
  overlay on the generated records: ``GET /leads/{id}`` and ``/contacts/{id}`` show the change,
  a deleted one answers 204) and POSTs the delivery to every subscribed destination whose
  settings include the event (``status_lead``, ``update_contact``…), form-encoded with Kommo's
  headers, within Kommo's 2 s limit. The answer lists each destination's HTTP status.
* ``notify(app, entity, action, item)``: the same delivery for a change made elsewhere in the
  emulator (e.g. its write endpoints), without touching the overlay.
* ``python -m emulator send-webhook kommo …``: ``emulator/kommo_webhooks_cli.py``.

Kept apart from ``emulator/kommo.py`` (reads) on purpose: its writes live in their own module.
Size: one job (subscriptions and their deliveries, with the overlay they change), a little
over 400 lines; the CLI sender is ``kommo_webhooks_cli.py``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, request

from . import kommo
from .datasets import CONTACT_ID_BASE, LEAD_ID_BASE
from .wire import empty_response, emulator, json_response

bp = Blueprint("kommo_webhooks", __name__, url_prefix="/kommo/api/v4")
bp.before_request(kommo._guard)
bp.register_error_handler(kommo.Problem, kommo._problem)
control = Blueprint("kommo_webhook_events", __name__, url_prefix="/_emulator/kommo")

EXTENSION = "emulator_kommo_webhooks"
USER_AGENT = "amoCRM-Webhooks/3.0"
DELIVERY_TIMEOUT = 2.0  # Kommo counts a slower answer as a failure
MAX_WEBHOOKS = 100
DISABLE_AFTER = 100  # failed answers within DISABLE_WINDOW disable a webhook
DISABLE_WINDOW = 2 * 3600
VERBS = ("add", "update", "delete", "restore", "status", "responsible", "note")
EVENT_CODES = frozenset(
    f"{verb}_{kind}" for verb in VERBS for kind in ("lead", "contact", "company")
) | frozenset({"add_task", "update_task", "delete_task", "responsible_task", "add_message"})
ACTION_VERB = {
    "add": "add",
    "update": "update",
    "status": "status",
    "delete": "delete",
    "restore": "restore",
    "responsible": "responsible",
}
DELETED = object()


@dataclass
class WebhookState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    hooks: dict[str, dict] = field(default_factory=dict)  # destination → webhook object
    failures: dict[str, list[float]] = field(default_factory=dict)
    overlay: dict[tuple[str, int], Any] = field(default_factory=dict)  # changed records
    sent: list[dict] = field(default_factory=list)
    next_id: int = 1


def state(app: Flask | None = None) -> WebhookState:
    from flask import current_app

    app = app or current_app
    return app.extensions.setdefault(EXTENSION, WebhookState())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(control)
    app.after_request(_overlay_reads)


# ---------------------------------------------------------------------------- subscriptions


def _bad(detail: str, path: str) -> Response:
    return kommo.problem(
        400,
        "Request validation failed",
        **{
            "validation-errors": [
                {
                    "request_id": "0",
                    "errors": [{"code": "NotSupportedChoice", "path": path, "detail": detail}],
                }
            ]
        },
    )


@bp.post("/webhooks")
def subscribe() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return kommo.problem(400, "Request body must be a JSON object")
    destination = body.get("destination")
    parts = urlsplit(destination) if isinstance(destination, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return _bad("destination must be an absolute http(s) URL", "destination")
    settings = body.get("settings")
    if (
        not isinstance(settings, list)
        or not settings
        or not all(isinstance(s, str) and s in EVENT_CODES for s in settings)
    ):
        return _bad("settings must be a non-empty list of event codes", "settings")
    sort = body.get("sort", 1)
    if not isinstance(sort, int) or isinstance(sort, bool):
        return _bad("sort must be an integer", "sort")
    now = int(emulator().config.clock())
    st = state()
    with st.lock:
        hook = st.hooks.get(destination)
        if hook is None:
            if len(st.hooks) >= MAX_WEBHOOKS:
                return kommo.problem(400, "Webhooks limit exceeded")
            hook = {
                "id": st.next_id,
                "destination": destination,
                "created_at": now,
                "account_id": emulator().config.kommo_account_id,
                "created_by": 0,
                "disabled": False,
            }
            st.next_id += 1
        hook.update({"updated_at": now, "sort": sort, "settings": list(dict.fromkeys(settings))})
        hook["disabled"] = False
        st.failures.pop(destination, None)
        st.hooks[destination] = hook
        return json_response(dict(hook), content_type=kommo.HAL)


@bp.get("/webhooks")
def list_webhooks() -> Response:
    wanted = request.args.get("filter[destination]")
    with state().lock:
        hooks = [dict(h) for h in state().hooks.values() if wanted in (None, h["destination"])]
    hooks.sort(key=lambda h: (h["sort"], h["id"]))
    body = {"_total_items": len(hooks), "_embedded": {"webhooks": hooks}}
    return json_response(body, content_type=kommo.HAL)


@bp.delete("/webhooks")
def unsubscribe() -> Response:
    body = request.get_json(silent=True)
    destination = body.get("destination") if isinstance(body, dict) else None
    if not isinstance(destination, str) or not destination:
        return _bad("destination is required", "destination")
    with state().lock:
        removed = state().hooks.pop(destination, None)
    if removed is None:
        return kommo.problem(404, "Webhook not found")
    return empty_response(204)


# ---------------------------------------------------------------------------- delivery format


def _pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _pairs(f"{prefix}[{k}]", v)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _pairs(f"{prefix}[{i}]", v)]
    if value is None:
        return []
    if isinstance(value, bool):
        value = int(value)
    return [(prefix, str(value))]


def encode(
    entity: str, action: str, items: Sequence[dict], subdomain: str, account_id: int, base: str
) -> bytes:
    """The form body: ``account[…]`` first, then ``{entity}[{action}][{i}][…]``, strings."""
    pairs = [
        ("account[subdomain]", subdomain),
        ("account[id]", str(account_id)),
        ("account[_links][self]", base),
    ]
    for i, item in enumerate(items):
        pairs.extend(_pairs(f"{entity}[{action}][{i}]", item))
    return urlencode(pairs).encode()


def headers() -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": USER_AGENT,
        "X-Amocrm-Requestid": str(uuid.uuid4()),
    }


def legacy_fields(values: Any) -> list[dict] | None:
    """v4 ``custom_fields_values`` → the deliveries' ``custom_fields`` (``enum``)."""
    if not isinstance(values, list):
        return None
    return [
        {
            "id": f.get("field_id"),
            "name": f.get("field_name"),
            "code": f.get("field_code"),
            "values": [{"value": v.get("value"), "enum": v.get("enum_id")} for v in f["values"]],
        }
        for f in values
        if isinstance(f, dict) and isinstance(f.get("values"), list)
    ]


def delivered_item(entity: str, action: str, record: dict, old: dict | None) -> dict:
    """One item of a delivery in Kommo's legacy names (captures of §2.2)."""
    if action == "delete":
        keys = ("id", "status_id", "pipeline_id") if entity == "leads" else ("id",)
        return {k: record.get(k) for k in keys if record.get(k) is not None}
    item: dict[str, Any] = {
        "id": record.get("id"),
        "name": record.get("name"),
        "responsible_user_id": record.get("responsible_user_id"),
        "date_create": record.get("created_at"),
        "last_modified": record.get("updated_at"),
        "created_user_id": record.get("created_by"),
        "modified_user_id": record.get("updated_by"),
        "account_id": record.get("account_id"),
    }
    if entity == "leads":
        item.update(
            {
                "status_id": record.get("status_id"),
                "price": record.get("price"),
                "pipeline_id": record.get("pipeline_id"),
            }
        )
        if action == "status" and old is not None:
            item["old_status_id"] = old.get("status_id")
            if old.get("pipeline_id") != record.get("pipeline_id"):
                item["old_pipeline_id"] = old.get("pipeline_id")
    else:
        item["type"] = "contact"
    item["custom_fields"] = legacy_fields(record.get("custom_fields_values"))
    item["created_at"] = record.get("created_at")
    item["updated_at"] = record.get("updated_at")
    return item


def event_code(entity: str, action: str) -> str:
    return f"{ACTION_VERB.get(action, action)}_{'lead' if entity == 'leads' else 'contact'}"


def post(destination: str, body: bytes, timeout: float = DELIVERY_TIMEOUT) -> int | None:
    """POST one delivery; the HTTP status, or None when it failed to answer in time."""
    import requests

    try:
        return requests.post(destination, data=body, headers=headers(), timeout=timeout).status_code
    except requests.RequestException:
        return None


def notify(app: Flask, entity: str, action: str, records: Sequence[dict]) -> list[dict]:
    """Deliver ``entity[action]`` of ``records`` (delivery-shaped items) to the subscribers."""
    cfg = app.extensions["emulator"].config
    st = state(app)
    code = event_code(entity, action)
    with st.lock:
        targets = [
            h["destination"]
            for h in st.hooks.values()
            if code in h["settings"] and not h["disabled"]
        ]
    base = f"https://{cfg.kommo_subdomain}.kommo.com"
    body = encode(entity, action, records, cfg.kommo_subdomain, cfg.kommo_account_id, base)
    results = []
    for destination in targets:
        status = post(destination, body)
        ok = status is not None and 100 <= status < 300
        with st.lock:
            st.sent.append({"destination": destination, "event": code, "status": status})
            if not ok:
                now = time.time()
                recent = [t for t in st.failures.get(destination, []) if t > now - DISABLE_WINDOW]
                recent.append(now)
                st.failures[destination] = recent
                if len(recent) > DISABLE_AFTER and destination in st.hooks:
                    st.hooks[destination]["disabled"] = True
        results.append({"destination": destination, "event": code, "status": status})
    return results


# ---------------------------------------------------------------------------- state changes


def _current(entity: str, remote_id: int) -> dict | None:
    """The emulator's record now: the overlay, else the generated one."""
    emu = emulator()
    found = state().overlay.get((entity, remote_id))
    if found is DELETED:
        return None
    if found is not None:
        return dict(found)
    data = emu.data.kommo
    if entity == "leads":
        i = remote_id - LEAD_ID_BASE
        return data.lead(i, False, kommo.href_base()) if 0 <= i < data.n_leads else None
    i = remote_id - CONTACT_ID_BASE
    return data.contact(i, False, kommo.href_base()) if 0 <= i < data.n_contacts else None


CHANGEABLE = {
    "leads": ("name", "price", "status_id", "pipeline_id", "responsible_user_id"),
    "contacts": ("name", "first_name", "last_name", "responsible_user_id"),
}


@control.post("/webhook-events")
def change_and_send() -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_response({"error": "JSON object expected"}, 400)
    entity, action = body.get("entity"), body.get("action")
    if entity not in CHANGEABLE or action not in ("add", "update", "status", "delete"):
        return json_response(
            {"error": "entity: leads|contacts; action: add|update|status|delete"}, 400
        )
    if action == "status" and entity != "leads":
        return json_response({"error": "status changes exist for leads only"}, 400)
    remote_id = body.get("id")
    if not isinstance(remote_id, int) or isinstance(remote_id, bool) or remote_id < 1:
        return json_response({"error": "id must be a positive integer"}, 400)
    now = int(emulator().config.clock())
    old = _current(entity, remote_id)
    if action != "add" and old is None:
        return json_response({"error": f"{entity} {remote_id} not found"}, 404)
    if action == "add" and old is not None:
        return json_response({"error": f"{entity} {remote_id} already exists"}, 409)
    if action == "delete":
        record = old
        state().overlay[(entity, remote_id)] = DELETED
    else:
        record = dict(
            old
            or {
                "id": remote_id,
                "created_at": now,
                "custom_fields_values": None,
                "account_id": emulator().config.kommo_account_id,
                "_embedded": {"tags": []},
            }
        )
        record.update({k: body[k] for k in CHANGEABLE[entity] if k in body})
        if entity == "contacts" and ("email" in body or "phone" in body):
            record["custom_fields_values"] = _contact_fields(body)
        record["updated_at"] = now
        if entity == "leads" and record.get("status_id") in (142, 143):
            record["closed_at"] = now
        state().overlay[(entity, remote_id)] = record
    from flask import current_app

    item = delivered_item(entity, action, record, old)
    results = notify(current_app._get_current_object(), entity, action, [item])
    return json_response({"item": item, "delivered": results})


def _contact_fields(body: dict) -> list[dict]:
    from .datasets import EMAIL_FIELD_ID, PHONE_FIELD_ID

    out = []
    if body.get("phone"):
        out.append(
            {
                "field_id": PHONE_FIELD_ID,
                "field_name": "Phone",
                "field_code": "PHONE",
                "values": [{"value": str(body["phone"]), "enum_id": None}],
            }
        )
    if body.get("email"):
        out.append(
            {
                "field_id": EMAIL_FIELD_ID,
                "field_name": "Email",
                "field_code": "EMAIL",
                "values": [{"value": str(body["email"]), "enum_id": None}],
            }
        )
    return out


LIST_ENDPOINTS = {"kommo.leads": "leads", "kommo.contacts": "contacts"}


def _overlay_lists(resp: Response) -> Response:
    """List pages show the changed records too (deleted ones drop out of the page)."""
    import json

    entity = LIST_ENDPOINTS[request.endpoint]
    overlay = state().overlay
    if resp.status_code != 200 or not any(k[0] == entity for k in overlay):
        return resp
    body = json.loads(resp.get_data())
    items = []
    for item in body.get("_embedded", {}).get(entity, []):
        found = overlay.get((entity, item.get("id")))
        if found is DELETED:
            continue
        if found is not None:
            item.update({k: v for k, v in found.items() if k != "_embedded"})
        items.append(item)
    body["_embedded"][entity] = items
    return json_response(body, content_type=kommo.HAL)


def _overlay_reads(resp: Response) -> Response:
    """``GET /leads/{id}`` and ``/contacts/{id}`` (and their lists) show the changes made here."""
    endpoint = request.endpoint
    if endpoint in LIST_ENDPOINTS:
        return _overlay_lists(resp)
    if endpoint not in ("kommo.lead", "kommo.contact") or resp.status_code not in (200, 204):
        return resp
    entity = "leads" if endpoint == "kommo.lead" else "contacts"
    remote_id = (request.view_args or {}).get("lead_id" if entity == "leads" else "contact_id")
    found = state().overlay.get((entity, remote_id))
    if found is None:
        return resp
    if found is DELETED:
        return empty_response(204)
    import json

    body = json.loads(resp.get_data()) if resp.status_code == 200 else {}
    body.update({k: v for k, v in found.items() if k != "_embedded"})
    body.setdefault("_embedded", found.get("_embedded") or {"tags": []})
    return json_response(body, content_type=kommo.HAL)
