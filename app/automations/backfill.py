"""/automacoes → "Enviar vendas anteriores": the dry-run count for a period, then the queueing,
in the background (``app.services.automation_backfill``; the CLI is ``flask automations
backfill``)."""

from __future__ import annotations

from babel.dates import format_timedelta
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.automations import bp
from app.formatting import LOCALE, number
from app.plurals import plural
from app.services import automation_backfill as backfill


def _choice() -> tuple[str, tuple[str, ...]]:
    values = request.values
    return values.get("periodo", ""), tuple(values.getlist("destino"))


def duration(plan: backfill.TargetPlan) -> str | None:
    """About how long the queue takes at the backfill's share of the budget (None: at once)."""
    if plan.to_send < 2 or not plan.spacing or plan.duration.total_seconds() < 60:
        return None
    return format_timedelta(plan.duration, locale=LOCALE, threshold=1.1)


@bp.get("/automacoes/vendas-anteriores")
def backfill_preview():
    """The dry run: how many sales of the period each target would get. Writes nothing."""
    period, targets = _choice()
    error, plans, since = None, [], None
    try:
        since = backfill.since_of(period)
        plans = backfill.plan(since, targets)
    except backfill.BackfillError as exc:
        error = str(exc)
    return render_template(
        "automations/backfill.html",
        error=error,
        plans=plans,
        period=period,
        period_label=backfill.PERIOD_LABELS.get(period, ""),
        since=since,
        targets=targets,
        total=sum(p.to_send for p in plans),
        duration=duration,
    ), (400 if error else 200)


@bp.post("/automacoes/vendas-anteriores")
def backfill_queue():
    """Start the queueing in the background (a large history would time the request out);
    /automacoes shows how it goes. A second click while it runs starts nothing more."""
    period, targets = _choice()
    back = url_for("automations.index") + "#vendas-anteriores"
    try:
        since = backfill.since_of(period)
        run, created = backfill.start(since, targets, requested_by_id=current_user.id)
    except backfill.BackfillError as exc:
        flash(str(exc), "danger")
        return redirect(back)
    if created:
        flash(
            "O envio das vendas anteriores começou: elas entram na fila aos poucos, e o "
            "andamento aparece nesta página.",
            "success",
        )
    else:
        n = run.queued
        flash(
            "O envio das vendas anteriores já está em andamento "
            f"({number(n)} {plural(n, 'venda', 'vendas')} na fila até agora): nada foi "
            "começado de novo.",
            "info",
        )
    return redirect(back)
