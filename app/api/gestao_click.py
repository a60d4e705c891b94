"""Gestão Click JSON API (SPEC §5), what is its own: seed 003's test of typed tokens.

The connection test, the local lists and the sync starts are declared in ``app.registry``
(``app/api/declared.py``)."""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.paging import TRUE_VALUES


@bp.post("/api/gestao-click/test-connection")
def gestao_click_test_credentials():
    """Seed 003: ``{"useEnvCredentials": true}`` tests the configured tokens;
    ``{"accessToken", "secretToken"}`` tests those (with the configured URL) without saving
    them. Always 200 with the GET answer's keys."""
    from app.logs import add_known_secret
    from app.services import gestao_click

    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    access, secret = payload.get("accessToken"), payload.get("secretToken")
    use_env = payload.get("useEnvCredentials")
    use_env = use_env is True or str(use_env).strip().lower() in TRUE_VALUES
    if use_env or (access in (None, "") and secret in (None, "")):
        result = gestao_click.test_connection()
        usage = gestao_click.usage()
        source = "settings"
    else:
        for name, value in (("accessToken", access), ("secretToken", secret)):
            if not isinstance(value, str) or not value.strip() or len(value) > 4096:
                abort(400, description=f"Informe {name} (ou use useEnvCredentials: true).")
        access, secret = access.strip(), secret.strip()
        add_known_secret(access)
        add_known_secret(secret)
        result = gestao_click.test_connection(access, secret)
        usage = gestao_click.client_usage(access)
        source = "request"
    body = result.as_dict()
    body["usage"] = usage
    body["credentials"] = source
    return jsonify(body)
