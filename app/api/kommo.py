"""Kommo over JSON (SPEC §5), what is its own: a typed token's test, a contact or deal by id
or by body (seed 002), the sync status shapes. The connection test, the lists and the sync
start are declared in ``app.registry`` (``app/api/declared.py``).

Lists and details read the **local** tables filled by the syncers (Kommo is never called per
page view: re-reading the same data counts as API abuse there). ``<id>`` is the Kommo id.
"""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.clients.errors import APIError
from app.services import kommo as kommo_service
from app.services.kommo_queries import deals_json


def _json_body() -> dict:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


def _id_field(payload: dict, *names: str) -> int:
    """A positive Kommo id from the body (``contactId``…), else 400."""
    for name in names:
        value = payload.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, bool):
            break
        try:
            number = int(str(value).strip())
        except ValueError:
            break
        if 0 < number < 2**63:
            return number
        break
    abort(400, description=f"Informe {names[0]} (o ID numérico do Kommo).")


def _live(fetch, remote_id: int):
    try:
        return fetch(remote_id)
    except APIError as exc:
        abort(502, description=f"Kommo: {exc.message}")


@bp.post("/api/kommo/test-connection")
def kommo_test_token():
    """Seed 002: ``{"jwtToken": "…"}`` tests that token without saving it (no body: the
    configured one). Always 200: the GET answer plus ``connection``, ``account`` and
    ``diagnostics``."""
    payload = _json_body()
    token = payload.get("jwtToken", payload.get("token"))
    if token is not None and not isinstance(token, str):
        abort(400, description="jwtToken deve ser o texto do token de longa duração.")
    if isinstance(token, str) and len(token) > 8192:
        abort(400, description="jwtToken longo demais.")
    return jsonify(kommo_service.connection_report(token))


def _contact_body(contact) -> dict:
    body = contact.to_dict()
    body["deals"] = [lead.to_dict() for lead in kommo_service.leads_of_contact(contact.remote_id)]
    return body


@bp.post("/api/kommo/contacts")
def kommo_contact_by_body():
    """Seed 002: ``{"contactId": N}`` → that contact (the local copy, else read from Kommo
    once and kept)."""
    contact_id = _id_field(_json_body(), "contactId", "id")
    contact = _live(kommo_service.fetch_contact, contact_id)
    if contact is None:
        abort(404, description="Contato não encontrado no Kommo.")
    body = _contact_body(contact)
    return jsonify(
        {"success": True, "contact": body, "data": body, "message": "Contato encontrado."}
    )


@bp.post("/api/kommo/deals")
def kommo_deal_by_body():
    """Seed 002: ``{"dealId": N}`` → that deal (lead), local copy first."""
    deal_id = _id_field(_json_body(), "dealId", "leadId", "id")
    lead = _live(kommo_service.fetch_lead, deal_id)
    if lead is None:
        abort(404, description="Negócio não encontrado no Kommo.")
    body = deals_json([lead])[0]
    return jsonify({"success": True, "deal": body, "data": body, "message": "Negócio encontrado."})


@bp.get("/api/kommo/sync")
def kommo_sync_seed_status():
    """Seed 002's status shape: ``data`` {lastSync, contactsCount, dealsCount, syncSuccess,
    errors}."""
    data = kommo_service.seed_sync_status()
    return jsonify({"success": True, "configured": kommo_service.is_configured(), "data": data})


@bp.get("/api/kommo/contacts/<int(max=9223372036854775807):contact_id>")
def kommo_contact(contact_id: int):
    contact = kommo_service.get_contact(contact_id)
    if contact is None:
        abort(404, description="Contato não encontrado (sincronize os contatos do Kommo).")
    return jsonify({"success": True, "contact": _contact_body(contact)})


@bp.get("/api/kommo/deals/<int(max=9223372036854775807):deal_id>")
def kommo_deal(deal_id: int):
    lead = kommo_service.get_lead(deal_id)
    if lead is None:
        abort(404, description="Negócio não encontrado (sincronize os negócios do Kommo).")
    return jsonify({"success": True, "deal": deals_json([lead])[0]})


@bp.get("/api/kommo/sync/status")
def kommo_sync_status():
    runs = kommo_service.sync_status()
    return jsonify(
        {
            "success": True,
            "configured": kommo_service.is_configured(),
            "running": any(r["active"] for r in runs.values()),
            "runs": runs,
        }
    )
