"""Kommo over JSON (SPEC §5): connection test, synced contacts and deals, sync start/status.

Lists and details read the **local** tables filled by the syncers (Kommo is never called per
page view: re-reading the same data counts as API abuse there). ``<id>`` is the Kommo id.
"""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.paging import paginated, wants_full
from app.api.routes import start_syncs_response
from app.clients.errors import APIError
from app.services import kommo as kommo_service

MAX_LIMIT = 250


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


def _deals(leads) -> list[dict]:
    contacts = kommo_service.contacts_by_remote_id({lead.contact_id for lead in leads})
    out = []
    for lead in leads:
        item = lead.to_dict()
        contact = contacts.get(lead.contact_id)
        item["contact"] = (
            {"id": contact.remote_id, "name": contact.name, "email": contact.email}
            if contact
            else None
        )
        out.append(item)
    return out


@bp.get("/api/kommo/test-connection")
def kommo_test_connection():
    """Always 200 with ``{"success", "message", "code", "details"}``."""
    return jsonify(kommo_service.test_connection().as_dict())


@bp.get("/api/kommo/contacts")
def kommo_contacts():
    stmt = kommo_service.contacts_query(request.args.get("query", ""))
    return paginated(
        stmt,
        lambda rows: [c.to_dict() for c in rows],
        ("contato encontrado", "contatos encontrados"),
        max_limit=MAX_LIMIT,
    )


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
    body = _deals([lead])[0]
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


@bp.get("/api/kommo/deals")
def kommo_deals():
    stmt = kommo_service.leads_query(request.args.get("query", ""), request.args.get("status", ""))
    return paginated(
        stmt, _deals, ("negócio encontrado", "negócios encontrados"), max_limit=MAX_LIMIT
    )


@bp.get("/api/kommo/deals/<int(max=9223372036854775807):deal_id>")
def kommo_deal(deal_id: int):
    lead = kommo_service.get_lead(deal_id)
    if lead is None:
        abort(404, description="Negócio não encontrado (sincronize os negócios do Kommo).")
    return jsonify({"success": True, "deal": _deals([lead])[0]})


@bp.post("/api/kommo/sync")
def kommo_sync():
    """Start (or join) the contacts and leads runs → ``202 {"success", "run_id", "run_ids"}``.

    ``run_id`` is the leads run (the one the deals tab waits for); both are in ``run_ids``.
    """
    return start_syncs_response(
        kommo_service.SOURCE, kommo_service.RESOURCES, "leads", full=wants_full()
    )


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
