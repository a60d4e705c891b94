"""Kommo API v4 account webhooks: list, subscribe, unsubscribe (PLATFORMS-WRITES.md §2.1).

``POST /api/v4/webhooks`` ``{"destination", "settings": [event codes], "sort"}`` answers the
webhook object (``id``, ``destination``, ``settings``, ``disabled``…); subscribing the same
destination again replaces its settings. ``GET /api/v4/webhooks?filter[destination]=…``
answers ``{"_total_items", "_embedded": {"webhooks": [...]}}`` (or 204 when there are none);
``DELETE /api/v4/webhooks`` takes ``{"destination"}``. Admin rights and an Advanced plan are
needed (403 / 402 otherwise); Kommo checks the destination's DNS (400).

Functions over a ``KommoClient`` (its gateway, budget and error parser), kept apart from the
read client.
"""

from __future__ import annotations

from typing import Any

from .kommo import KommoClient

# What the local copy needs: leads (added, changed, moved, deleted, restored) and contacts.
EVENTS = (
    "add_lead",
    "update_lead",
    "status_lead",
    "delete_lead",
    "restore_lead",
    "add_contact",
    "update_contact",
    "delete_contact",
    "restore_contact",
)


def list_webhooks(client: KommoClient, destination: str | None = None) -> list[dict[str, Any]]:
    client._require()
    params = {"filter[destination]": destination} if destination else None
    data = client.gateway.get("/webhooks", params=params).data
    embedded = data.get("_embedded") if isinstance(data, dict) else None
    items = embedded.get("webhooks") if isinstance(embedded, dict) else None
    hooks = [h for h in items if isinstance(h, dict)] if isinstance(items, list) else []
    if destination:  # filter ourselves too: an account may ignore the filter
        hooks = [h for h in hooks if h.get("destination") == destination]
    return hooks


def subscribe(
    client: KommoClient, destination: str, settings: tuple[str, ...] = EVENTS, sort: int = 10
) -> dict[str, Any]:
    client._require()
    body = {"destination": destination, "settings": list(settings), "sort": sort}
    data = client.gateway.request("POST", "/webhooks", json=body).data
    return data if isinstance(data, dict) else {}


def unsubscribe(client: KommoClient, destination: str) -> None:
    client._require()
    client.gateway.request("DELETE", "/webhooks", json={"destination": destination})
