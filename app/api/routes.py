"""Sync runs over JSON: start, poll (SPEC §5 shape), cancel."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user

from app.api import bp
from app.api.paging import wants_full
from app.extensions import db
from app.models.sync import RUN_STATUSES
from app.services import audit, sync


def start_runs(source: str, resources, full: bool = False) -> dict[str, tuple]:
    """Start (or join) a background run per resource → ``{resource: (run, created)}``; a new
    run is audited. Unknown → 404, not configured → 409, not startable → 503 (the runs started
    before it stand)."""
    by = getattr(current_user, "email", None)
    runs: dict[str, tuple] = {}
    try:
        for resource in resources:
            run, created = sync.start_run(source, resource, full=full, requested_by=by)
            runs[resource] = (run, created)
            if created:
                record_sync(audit.SYNC_STARTED, run)
    except sync.UnknownSyncer:
        abort(404, description="Sincronização desconhecida.")
    except sync.SyncNotConfigured as exc:
        abort(409, description=str(exc))
    except sync.SyncError as exc:
        abort(503, description=str(exc))
    return runs


def start_syncs_response(source: str, resources, primary: str, full: bool = False):
    """Start several resources: ``202 {"success", "run_id": <primary's run>, "run_ids",
    "created", "status": <primary's status>}``."""
    runs = start_runs(source, resources, full=full)
    first = runs[primary][0]
    body = {
        "success": True,
        "run_id": first.id,
        "run_ids": {resource: run.id for resource, (run, _) in runs.items()},
        "created": {resource: created for resource, (_, created) in runs.items()},
        "status": first.status,
    }
    return jsonify(body), 202


def start_sync_response(source: str, resource: str, full: bool = False):
    """Start (or join) a background run and answer ``202 {"success": true, "run_id": N}``.

    For the integration endpoints of SPEC §5 (``POST /api/kommo/sync`` …): call it from the view.
    """
    run, created = start_runs(source, (resource,), full=full)[resource]
    body = {"success": True, "run_id": run.id, "created": created, "status": run.status}
    return jsonify(body), 202


def record_sync(action: str, run) -> None:
    """Audit a sync start or cancel (the run is committed by the sync service: commit here)."""
    audit.record(
        action,
        target_type="sync_run",
        target_id=run.id,
        details={
            "source": run.source,
            "resource": run.resource,
            "source_label": sync.source_label(run.source),
            "resource_label": sync.resource_label(run.source, run.resource),
            "full": bool(run.full),
        },
    )
    db.session.commit()


@bp.post("/api/sync/<source>/<resource>")
def start_sync(source: str, resource: str):
    return start_sync_response(source, resource, full=wants_full())


@bp.get("/api/sync-runs")
def list_sync_runs():
    source = request.args.get("source") or None
    status = request.args.get("status") or None
    if status is not None and status not in RUN_STATUSES:
        abort(400, description="Status inválido.")
    limit = min(max(request.args.get("limit", 20, type=int) or 20, 1), 100)
    runs = db.session.scalars(sync.history_query(source, status).limit(limit))
    return jsonify({"success": True, "runs": [r.to_dict() for r in runs]})


@bp.get("/api/sync-runs/<int:run_id>")
def get_sync_run(run_id: int):
    run = sync.get_run(run_id)
    if run is None:
        abort(404, description="Sincronização não encontrada.")
    return jsonify(run.to_dict())


@bp.post("/api/sync-runs/<int:run_id>/cancel")
def cancel_sync_run(run_id: int):
    try:
        run = sync.cancel(run_id)
    except LookupError:
        abort(404, description="Sincronização não encontrada.")
    if not run.is_active and not run.cancel_requested:
        abort(409, description="Esta sincronização já terminou.")
    record_sync(audit.SYNC_CANCELED, run)
    return jsonify({"success": True, "run": run.to_dict()})
