"""/sincronizacoes: run history with filters, live progress partials and Sincronizar buttons."""

from __future__ import annotations

from flask import abort, render_template, request

from app.dashboard import bp
from app.extensions import db
from app.models.sync import RUN_STATUSES
from app.services import sync

PER_PAGE = 25


@bp.get("/sincronizacoes")
def sync_runs():
    source = request.args.get("source") or None
    status = request.args.get("status") or None
    if status not in RUN_STATUSES:
        status = None
    page = db.paginate(
        sync.history_query(source, status),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    latest = sync.latest_runs()
    syncers = [
        {"syncer": s, "enabled": s.is_enabled(), "latest": latest.get((s.source, s.resource))}
        for s in sync.syncers()
    ]
    return render_template(
        "sync/index.html",
        page=page,
        syncers=syncers,
        sources=sync.known_sources(),
        filters={"source": source or "", "status": status or ""},
        statuses=RUN_STATUSES,
    )


@bp.get("/sincronizacoes/<int:run_id>/progresso")
def sync_progress(run_id: int):
    run = sync.get_run(run_id)
    if run is None:
        abort(404)
    return render_template("sync/_progress.html", run=run)


bp.add_app_template_global(sync.source_label, "sync_source_label")
bp.add_app_template_global(sync.resource_label, "sync_resource_label")
