"""/relatorios section "Vendas sem acesso": the reconciliation gaps and the bulk "Enviar links"
(the same service as ``POST /api/reports/reconciliation/send-links``)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from app.plurals import ngettext
from app.reports import bp
from app.services import reconciliation

SECTION_LIMIT = 50
ANCHOR = "vendas-sem-acesso"


def section(days: int) -> dict:
    """What ``reports/_reconciliation.html`` shows for the page's period."""
    gaps, total = reconciliation.page(days, 1, SECTION_LIMIT)
    return {
        "days": days,
        "gaps": gaps,
        "total": total,
        "shown": len(gaps),
        "failed_webhooks": reconciliation.failed_webhooks(days),
        "problems": reconciliation.PROBLEMS,
    }


PERIOD_ARGS = ("periodo", "de", "ate")  # app.services.charts.from_args


def _days() -> int:
    try:
        days = int(request.form.get("dias") or reconciliation.DEFAULT_DAYS)
    except ValueError:
        days = reconciliation.DEFAULT_DAYS
    return min(max(days, 1), reconciliation.MAX_DAYS)


@bp.post("/relatorios/vendas-sem-acesso")
def send_links():
    days = _days()
    # Back to the page's own date range (the form carries it): ?dias= is not one.
    period = {k: request.form[k][:20] for k in PERIOD_ARGS if request.form.get(k)}
    back = redirect(url_for("reports.index", **period, _anchor=ANCHOR))
    if request.form.get("all") == "1":
        ids = None
    else:
        try:
            ids, _ = reconciliation.parse_send_body(
                {"transaction_ids": request.form.getlist("transaction_ids")}
            )
        except reconciliation.ReconciliationError:
            flash("Selecione ao menos uma venda da lista para enviar o link.", "warning")
            return back
    result = reconciliation.send_links(ids, days=days)
    if result.issued:
        # Queued, not sent yet: the outbox delivers it (and retries) right after this request.
        message = ngettext(
            "%(num)s comprador vai receber", "%(num)s compradores vão receber", result.issued
        )
        message += " o acesso por e-mail (na fila de envio)"
        if result.attached:
            attached = ngettext(
                "%(num)s compra adicionada", "%(num)s compras adicionadas", result.attached
            )
            message += f" ({attached} a contas que já existiam)"
        message += "."
        if result.skipped:
            message += " " + ngettext(
                "%(num)s venda ignorada", "%(num)s vendas ignoradas", result.skipped
            )
            message += " (já tinham link ou acesso, ou não estão mais aprovadas)."
        flash(message, "success")
    else:
        flash(
            "Nenhum link enviado: as vendas escolhidas já têm link pendente ou acesso, "
            "ou não estão mais aprovadas.",
            "info",
        )
    return back
