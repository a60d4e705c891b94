"""The integrations' JSON routes declared in ``app.registry`` (``api_test``, ``api_lists``,
``api_syncs``), registered on the API blueprint from the declarations: a fourth API
integration gets its connection test, lists and sync starts by declaring them.

The seeds' irregular routes (a contact by body, a typed token's test, the sync status shapes)
stay hand-written beside this module, in ``app/api/<integration>.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from flask import Blueprint, abort, jsonify, request

from app.api.paging import paginated, wants_full
from app.api.routes import start_syncs_response
from app.registry import INTEGRATIONS, ApiList, ApiSync, Integration

ARG_MAX = 200  # characters of a list's query-string argument passed on


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def _to_dicts(rows) -> list[dict]:
    return [row.to_dict() for row in rows]


def test_view(integ: Integration) -> Callable:
    def view():
        from app.services import integration

        body = integration.test_connection(integ).as_dict()
        extras = integration.hooks(integ).connection_extras
        if extras:
            body.update(extras())
        return jsonify(body)

    view.__doc__ = f"{integ.label}: always 200 with ``{{success, message, code, details}}``."
    return view


def list_view(spec: ApiList) -> Callable:
    # Resolved when registered: a wrong declaration fails at start-up, not at the first call.
    query = _resolve(spec.query)
    serialize = _resolve(spec.serialize) if spec.serialize else _to_dicts

    def view():
        args = request.args
        values = [(args.get(name) or default).strip()[:ARG_MAX] for name, default in spec.args]
        return paginated(query(*values), serialize, spec.noun, max_limit=spec.max_limit)

    return view


def sync_view(integ: Integration, spec: ApiSync) -> Callable:
    def view():
        resources = list(spec.resources)
        if spec.choosable:
            payload = request.get_json(silent=True) if request.is_json else None
            wanted = payload.get("resource") if isinstance(payload, dict) else None
            wanted = wanted or request.values.get("resource")
            if wanted:
                if wanted not in spec.resources:
                    names = ", ".join(spec.resources)
                    abort(400, description=f"Recurso inválido: use um de {names}.")
                resources = [wanted]
        primary = spec.primary if spec.primary in resources else resources[0]
        return start_syncs_response(integ.name, resources, primary, full=wants_full())

    return view


def register(bp: Blueprint, integrations=INTEGRATIONS) -> None:
    for integ in integrations:
        prefix = integ.api_prefix
        if integ.api_test:
            spec = integ.api_test
            bp.add_url_rule(
                prefix + spec.path, spec.endpoint, test_view(integ), methods=[spec.method.upper()]
            )
        for spec in integ.api_lists:
            bp.add_url_rule(prefix + spec.path, spec.endpoint, list_view(spec), methods=["GET"])
        for spec in integ.api_syncs:
            bp.add_url_rule(
                prefix + spec.path, spec.endpoint, sync_view(integ, spec), methods=["POST"]
            )
