"""Reports over JSON: reconciliation of buyers who paid and never got access (SPEC §11)."""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.paging import MAX_PAGE, int_arg, list_body
from app.services import charts, cross_reports, reconciliation
from app.sources import PLATFORMS


def _platform() -> str | None:
    platform = (request.args.get("platform") or "").strip().lower() or None
    if platform is not None and platform not in PLATFORMS:
        abort(400, description="Plataforma desconhecida.")
    return platform


@bp.get("/api/reports/reconciliation")
def reconciliation_report():
    """``{"success", "items": [...], "total", "page", "limit", ...}`` (paging envelope)."""
    days = int_arg("days", reconciliation.DEFAULT_DAYS, 1, reconciliation.MAX_DAYS)
    page = int_arg("page", 1, 1, MAX_PAGE)
    limit = int_arg("limit", 50, 1, 200)
    gaps, total = reconciliation.page(days, page, limit, platform=_platform())
    body = list_body(
        [g.to_dict() for g in gaps],
        page,
        limit,
        total,
        ("comprador sem acesso", "compradores sem acesso"),
    )
    body["days"] = days
    return jsonify(body)


@bp.post("/api/reports/reconciliation/send-links")
def reconciliation_send_links():
    """``{"transaction_ids": [...]}`` or ``{"all": true}`` → ``{"success": true, "issued": N}``."""
    payload = request.get_json(silent=True)
    try:
        ids, _all = reconciliation.parse_send_body(payload)
    except reconciliation.ReconciliationError as exc:
        abort(400, description=str(exc))
    days = int_arg("days", reconciliation.DEFAULT_DAYS, 1, reconciliation.MAX_DAYS)
    if isinstance(payload, dict) and "days" in payload:
        value = payload["days"]
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not (1 <= value <= reconciliation.MAX_DAYS)
        ):
            abort(400, description=f"days deve estar entre 1 e {reconciliation.MAX_DAYS}.")
        days = value
    return jsonify(reconciliation.send_links(ids, days=days).to_dict())


@bp.get("/api/reports/<name>")
def cross_report(name: str):
    """A cross report (app.services.cross_reports) over ``?periodo=``/``?de=``/``?ate=`` (the
    page's São Paulo range) in the paging envelope, plus ``period`` and ``chart``."""
    if name not in cross_reports.API_NAMES:  # after the login check (a plain <name>)
        abort(404, description="Relatório desconhecido.")
    report = cross_reports.REPORTS[cross_reports.API_NAMES[name]]
    period = charts.from_args(request.args)
    page = int_arg("page", 1, 1, MAX_PAGE)
    limit = int_arg("limit", 50, 1, 500)
    total = report.total(period)
    items = report.rows(period, (page - 1) * limit, limit)
    body = list_body(items, page, limit, total, ("linha", "linhas"))
    body["period"] = cross_reports.period_dict(period)
    body["chart"] = report.chart(period)
    return jsonify(body)
