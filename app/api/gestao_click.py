"""Gestão Click JSON API (SPEC §5): test connection, local lists, start the syncs."""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.paging import TRUE_VALUES, paginated, wants_full
from app.api.routes import start_syncs_response

MAX_LIMIT = 100
NOUNS = {
    "sales": ("venda encontrada", "vendas encontradas"),
    "clients": ("cliente encontrado", "clientes encontrados"),
    "products": ("produto encontrado", "produtos encontrados"),
}


@bp.get("/api/gestao-click/test-connection")
def gestao_click_test_connection():
    """Always 200: ``{"success", "message", "code", "details", "usage"}``."""
    from app.services import gestao_click

    body = gestao_click.test_connection().as_dict()
    body["usage"] = gestao_click.usage()
    return jsonify(body)


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


def _list(resource: str):
    from app.services import gestao_click

    query = request.args.get("query", "")
    if resource == "sales":
        stmt = gestao_click.sales_query(query, request.args.get("tipo", "").strip()[:20])
    else:
        stmt = gestao_click.QUERIES[resource](query)
    return paginated(
        stmt, lambda rows: [row.to_dict() for row in rows], NOUNS[resource], max_limit=MAX_LIMIT
    )


@bp.get("/api/gestao-click/sales")
def gestao_click_sales():
    return _list("sales")


@bp.get("/api/gestao-click/clients")
def gestao_click_clients():
    return _list("clients")


@bp.get("/api/gestao-click/products")
def gestao_click_products():
    return _list("products")


@bp.post("/api/gestao-click/sync")
def gestao_click_sync():
    """Start sales, clients and products: ``202 {"success": true, "run_id": <sales run>,
    "run_ids": {"sales": N, "clients": N, "products": N}}``. ``{"resource": "clients"}`` (or
    ``?resource=``) starts just one."""
    from app.services import gestao_click

    payload = request.get_json(silent=True) if request.is_json else None
    wanted = (payload or {}).get("resource") if isinstance(payload, dict) else None
    wanted = wanted or request.values.get("resource")
    if wanted and wanted not in gestao_click.RESOURCES:
        abort(400, description="Recurso inválido: use sales, clients ou products.")
    resources = [wanted] if wanted else list(gestao_click.RESOURCES)
    return start_syncs_response(gestao_click.SOURCE, resources, resources[0], full=wants_full())


@bp.post("/api/gestao-click/auto-import")
def gestao_click_auto_import():
    """Seed 003: start an import of every Gestão Click resource (``POST …/sync``'s answer)."""
    return gestao_click_sync()
