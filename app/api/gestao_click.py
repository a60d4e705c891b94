"""Gestão Click JSON API (SPEC §5): test connection, local lists, start the syncs."""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.routes import _int_arg, _wants_full, start_sync_response
from app.extensions import db

MAX_LIMIT = 100


@bp.get("/api/gestao-click/test-connection")
def gestao_click_test_connection():
    """Always 200: ``{"success", "message", "code", "details", "usage"}``."""
    from app.services import gestao_click

    body = gestao_click.test_connection().as_dict()
    body["usage"] = gestao_click.usage()
    return jsonify(body)


def _list(resource: str):
    from app.services import gestao_click

    page = _int_arg("page", 1, 1, 100_000)
    limit = _int_arg("limit", 50, 1, MAX_LIMIT)
    query = request.args.get("query", "")
    if resource == "sales":
        stmt = gestao_click.sales_query(query, request.args.get("tipo", "").strip()[:20])
    else:
        stmt = gestao_click.QUERIES[resource](query)
    result = db.paginate(stmt, page=page, per_page=limit, error_out=False)
    return jsonify(
        {
            "success": True,
            "items": [row.to_dict() for row in result.items],
            "page": page,
            "limit": limit,
            "total": result.total,
        }
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
    full = _wants_full()
    run_ids: dict[str, int] = {}
    created: dict[str, bool] = {}
    for resource in resources:
        response, _ = start_sync_response(gestao_click.SOURCE, resource, full=full)
        body = response.get_json()
        run_ids[resource] = body["run_id"]
        created[resource] = body["created"]
    body = {
        "success": True,
        "run_id": run_ids[resources[0]],
        "run_ids": run_ids,
        "created": created,
    }
    return jsonify(body), 202
