"""/sincronizacoes: run history with filters, live progress partials, Sincronizar buttons and
"Reprocessar falhas", the detail of one run (its failed records)."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app import csv_export
from app.dashboard import bp
from app.extensions import db
from app.formatting import DISPLAY_TZ, datetime_br
from app.models.sync import RUN_STATUSES, RUN_SUCCEEDED, SyncFailure, SyncRun
from app.services import sync

PER_PAGE = 25
FAILURES_PER_PAGE = 50
# How a run reads (the badges of templates/sync/_macros.html and the CSV).
STATUS_LABELS = {
    "queued": "na fila",
    "running": "em andamento",
    "succeeded": "concluída",
    "failed": "falhou",
    "canceled": "cancelada",
}
TRIGGER_LABELS = {"manual": "manual", "scheduled": "agendada"}


def _history_filters() -> tuple[str | None, str | None]:
    source = request.args.get("source") or None
    status = request.args.get("status") or None
    return source, status if status in RUN_STATUSES else None


@bp.get("/sincronizacoes")
def sync_runs():
    source, status = _history_filters()
    page = db.paginate(
        sync.history_query(source, status),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    # Runs whose failures a later reprocess already fixed (finished clean): no button for them.
    shown = [run.id for run in page.items]
    fixed = set(
        db.session.scalars(
            db.select(SyncRun.retry_of_id).where(
                SyncRun.retry_of_id.in_(shown),
                SyncRun.status == RUN_SUCCEEDED,
                SyncRun.failed_count == 0,
            )
        )
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
        fixed=fixed,
    )


EXPORT_HEADER = (
    "Nº",
    "Origem",
    "O quê",
    "Completa",
    "Disparo",
    "Pedida por",
    "Status",
    "Início",
    "Fim",
    "Duração (s)",
    "Criados",
    "Atualizados",
    "Sem mudança",
    "Falhas",
    "Reprocessa a execução",
    "Erro",
)


@bp.get("/sincronizacoes/exportar.csv")
def sync_runs_export_csv():
    """The history of the list's filters (origin, status), newest first, as CSV in batches."""
    source, status = _history_filters()
    stmt = sync.history_query(source, status).execution_options(yield_per=500)

    def rows():
        for run in db.session.scalars(stmt):
            seconds = run.duration_seconds
            yield (
                run.id,
                sync.source_label(run.source),
                sync.resource_label(run.source, run.resource),
                "sim" if run.full else "não",
                TRIGGER_LABELS.get(run.trigger, run.trigger),
                run.requested_by or "",
                STATUS_LABELS.get(run.status, run.status),
                datetime_br(run.started_at or run.created_at),
                datetime_br(run.finished_at) if run.finished_at else "",
                f"{seconds:.1f}".replace(".", ",") if seconds is not None else "",
                run.created_count,
                run.updated_count,
                run.unchanged_count,
                run.failed_count,
                run.retry_of_id or "",
                run.error or "",
            )

    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(EXPORT_HEADER, rows(), f"sincronizacoes-{now:%Y%m%d-%H%M}.csv")


@bp.post("/sincronizacoes/<int:run_id>/reprocessar")
def reprocess_sync_run(run_id: int):
    """Read the window of a run with failures again (CSRF-checked form POST)."""
    try:
        run, created = sync.reprocess(run_id, requested_by=getattr(current_user, "email", None))
    except LookupError:
        abort(404)
    except sync.SyncError as exc:
        flash(str(exc), "warning")
    else:
        if created:
            flash(
                f"Reprocessamento das falhas da execução #{run_id} iniciado (execução #{run.id}).",
                "success",
            )
        else:
            flash(
                f"Já há uma sincronização deste recurso em andamento (execução #{run.id}); "
                "reprocesse as falhas quando ela terminar.",
                "info",
            )
    return redirect(_back_to(request.form.get("voltar")) or url_for("dashboard.sync_runs"))


def _back_to(path: str | None) -> str | None:
    """A page of this site to return to (a path; never another host)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


@bp.get("/sincronizacoes/<int:run_id>")
def sync_run_detail(run_id: int):
    """One run: its summary and the records that failed, with the reason of each (paged)."""
    run = sync.get_run(run_id)
    if run is None:
        abort(404)
    failures = db.paginate(
        db.select(SyncFailure).where(SyncFailure.run_id == run.id).order_by(SyncFailure.id),
        page=request.args.get("page", 1, type=int),
        per_page=FAILURES_PER_PAGE,
        error_out=False,
    )
    retries = list(
        db.session.scalars(
            db.select(SyncRun).where(SyncRun.retry_of_id == run.id).order_by(SyncRun.id.desc())
        )
    )
    fixed = any(r.status == RUN_SUCCEEDED and not r.failed_count for r in retries)
    return render_template(
        "sync/detail.html",
        run=run,
        failures=failures,
        retries=retries,
        fixed=fixed,
        syncer=sync.get_syncer(run.source, run.resource),
    )


@bp.get("/sincronizacoes/<int:run_id>/progresso")
def sync_progress(run_id: int):
    run = sync.get_run(run_id)
    if run is None:
        abort(404)
    response = make_response(render_template("sync/_progress.html", run=run))
    if not run.is_active:
        # The last poll of a run: the page refreshes what the run changed (its latest-run
        # row, the tabs' counts and lists) without a reload (hx-trigger="vh-sync-finished").
        response.headers["HX-Trigger"] = "vh-sync-finished"
    return response


bp.add_app_template_global(sync.source_label, "sync_source_label")
bp.add_app_template_global(sync.resource_label, "sync_resource_label")
bp.add_app_template_global({"status": STATUS_LABELS, "trigger": TRIGGER_LABELS}, "sync_run_labels")
