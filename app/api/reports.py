"""Reports over JSON: reconciliation of buyers who paid and never got access (SPEC §11)."""

from __future__ import annotations

from flask import abort, jsonify, request

from app.api import bp
from app.api.paging import MAX_PAGE, int_arg, list_body
from app.paging import cursor_arg, page_count
from app.services import charts, cross_reports, reconciliation
from app.sources import PLATFORMS
from config import TRUE_VALUES


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


# A keyset report's cursors: ours, then the page's names (a link copied from
# /relatorios/cruzados/<slug> works as it is).
AFTER, BEFORE = ("after", "apos"), ("before", "antes")
LAST = ("last", "fim")


@bp.get("/api/reports/<name>")
def cross_report(name: str):
    """A cross report (app.services.cross_reports) over ``?periodo=``/``?de=``/``?ate=`` (the
    page's São Paulo range) in the paging envelope, plus ``period``, ``chart`` and ``cursor``.

    The two reports of a row per person or lead (not-in-crm, won-without-sale) page by
    keyset: ``?after=<cursor>`` / ``?before=<cursor>`` (or the page's ``apos``/``antes``)
    give the ``limit`` rows after / before a row, ``?last=1`` (or ``fim=1``) the last page,
    each costing what the first page does; ``cursor`` is ``{"next", "prev"}``, the values
    to pass on (``null`` when no rows lie that way). ``page`` is ``null`` on a page reached by
    cursor. ``?page=N`` without a cursor still reads page N by OFFSET and answers ``cursor``
    too. A cursor that cannot be read, or two of them, is a 400. The grouped reports (a row
    per user, origin, product or month) page only by ``?page=N`` and answer
    ``"cursor": null``."""
    if name not in cross_reports.API_NAMES:  # after the login check (a plain <name>)
        abort(404, description="Relatório desconhecido.")
    report = cross_reports.REPORTS[cross_reports.API_NAMES[name]]
    period = charts.from_args(request.args)
    page = int_arg("page", 1, 1, MAX_PAGE)
    limit = int_arg("limit", 50, 1, 500)
    total = report.total(period)
    if report.page is None:
        items = report.rows(period, (page - 1) * limit, limit)
        cursor = None
    else:
        part, page = _keyset(report, period, page, limit, total)
        items = part.rows
        cursor = {"next": part.next_cursor, "prev": part.prev_cursor}
    body = list_body(items, page, limit, total, ("linha", "linhas"))
    body["period"] = cross_reports.period_dict(period)
    body["chart"] = report.chart(period)
    body["cursor"] = cursor
    return jsonify(body)


def _keyset(report, period, page: int, limit: int, total: int):
    """The keyset report's page the request asks for and its number (``None`` by cursor)."""
    given = [n for n in (*AFTER, *BEFORE) if request.args.get(n)]
    if len(given) > 1:
        abort(400, description="Informe um só cursor (after ou before).")
    if given:
        direction, cursor = cursor_arg(report.key_columns, report.key_int, names=(*AFTER, *BEFORE))
        if direction is None:
            abort(
                400,
                description=f"Cursor inválido em {given[0]}: use o valor de cursor.next ou "
                "cursor.prev de uma resposta deste relatório.",
            )
        part = report.keyset(period, limit, after=cursor, reverse=direction in BEFORE)
        return part, None
    if any((request.args.get(n) or "").strip().lower() in TRUE_VALUES for n in LAST):
        return report.keyset(period, limit, last=total), max(1, page_count(total, limit))
    return report.keyset(period, limit, offset=(page - 1) * limit), page
