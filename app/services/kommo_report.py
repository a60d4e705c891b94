"""Kommo's seed 002 shapes: ``POST /api/kommo/test-connection``'s report and
``GET /api/kommo/sync``'s status (the routes are in ``app/api/kommo.py``)."""

from __future__ import annotations

import logging
from typing import Any

from app.clients.errors import APIError
from app.clients.kommo import (
    MSG_MISSING,
    ConnectionResult,
    KommoClient,
    expiry_status,
    jwt_claims,
    token_account,
    token_expiry,
)
from app.logs import add_known_secret
from app.registry import integration as declared
from app.services import integration, integration_status, sync
from app.services.kommo_mapping import contact_fields
from app.services.kommo_queries import counts
from app.sources.base import as_dict

log = logging.getLogger(__name__)

KOMMO = declared("kommo")
DIAGNOSTIC_CONTACTS = 5  # contacts read by the seed's connection test (one small page)


def connection_report(token: str | None = None) -> dict[str, Any]:
    """Seed 002's ``POST /api/kommo/test-connection``: the usual result plus ``connection``,
    ``account`` {accountId, baseDomain, apiDomain, scopes, expiresAt} (the token's claims,
    read without verifying them, and the account's name/subdomain/currency) and
    ``diagnostics`` {contacts {count, items}} (a first small page of contacts).

    ``token`` is tested instead of the configured one and is **not** saved. Never raises.
    """
    from app.services.kommo import api_url_for, base_domain

    typed = token is not None
    token = (token or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    values = integration.credentials(KOMMO)
    if typed:
        add_known_secret(token)  # typed into a form: mask it like a configured one
    else:
        token = values["KOMMO_JWT_TOKEN"] or ""
    items: list[dict[str, Any]] = []
    if not token:
        result = ConnectionResult(False, MSG_MISSING, "missing_token", {})
    else:
        try:
            with integration.build_client(KOMMO, {**values, "KOMMO_JWT_TOKEN": token}) as client:
                result = client.test_connection()
                if result.success:
                    items = _diagnostic_contacts(client)
        except Exception:
            log.exception("Kommo connection test crashed")
            message = "Erro inesperado ao testar a conexão com o Kommo. Veja o log do servidor."
            result = ConnectionResult(False, message, "error", {})
    if not typed:
        integration_status.record(KOMMO, result.success, result.code, result.message, values)
    body = result.as_dict()
    details = result.details
    remote = as_dict(details.get("account"))
    account = token_account(jwt_claims(token), base_domain())
    if account["accountId"] is None:
        account["accountId"] = remote.get("id")
    account.update(
        name=remote.get("name"),
        subdomain=remote.get("subdomain"),
        currency=remote.get("currency"),
        tokenExpiry=expiry_status(token_expiry(jwt_claims(token))),
    )
    body["connection"] = {
        "success": result.success,
        "status": "connected" if result.success else "failed",
        "code": result.code,
        "message": result.message,
        "apiUrl": details.get("api_url") or api_url_for(token, values["KOMMO_API_URL"]),
        "responseTimeMs": details.get("elapsed_ms"),
        "tokenSource": "request" if typed else "settings",
    }
    body["account"] = account
    body["diagnostics"] = {"contacts": {"count": len(items), "items": items}}
    return body


def _diagnostic_contacts(client: KommoClient) -> list[dict[str, Any]]:
    try:
        page = next(iter(client.contact_pages(limit=DIAGNOSTIC_CONTACTS)), None)
    except APIError as exc:
        log.warning("Kommo connection test: contacts not readable: %s", exc.message)
        return []
    out = []
    for item in page.items if page else []:
        fields = contact_fields(item)
        if fields:
            out.append(
                {
                    "id": fields["remote_id"],
                    "name": fields["name"],
                    "email": fields["email"],
                    "phone": fields["phone"],
                }
            )
    return out


def seed_sync_status() -> dict[str, Any]:
    """Seed 002's ``GET /api/kommo/sync`` ``data``: lastSync, contactsCount, dealsCount,
    syncSuccess, errors (plus which runs are going)."""
    labels = integration.resource_labels(KOMMO)
    latest = sync.latest_runs()
    runs = [latest.get((KOMMO.name, resource)) for resource in labels]
    finished = [r for r in runs if r is not None and r.finished_at is not None]
    last_sync = max((r.finished_at for r in finished), default=None)
    done = [r for r in runs if r is not None and not r.is_active]
    totals = counts()
    return {
        "lastSync": last_sync.isoformat() if last_sync else None,
        "contactsCount": totals["contacts"],
        "dealsCount": totals["leads"],
        "syncSuccess": bool(done) and all(r.status == "succeeded" for r in done),
        "errors": [
            f"{labels[r.resource]}: {r.error or r.status}" for r in done if r.status != "succeeded"
        ],
        "running": any(r is not None and r.is_active for r in runs),
    }
