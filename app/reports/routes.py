"""/relatorios: sales and activation charts over one date range, and the activation funnel
by platform and product."""

from __future__ import annotations

from flask import render_template, request

from app.reports import bp
from app.reports import cross as cross_section
from app.reports import reconciliation as reconciliation_section
from app.services import charts, reconciliation, stats


@bp.get("/relatorios")
def index():
    period = charts.from_args(request.args)
    since, until = period.since, period.until
    funnel = stats.funnel(since=since, until=until)
    return render_template(
        "reports/index.html",
        period=period,
        presets=charts.PRESETS,
        funnel=funnel,
        charts={**charts.build(period, funnel), "activations": charts.activations_chart(period)},
        platforms=stats.by_platform(since=since, until=until),
        products=stats.by_product(since=since, until=until),
        # The gaps of the last N days of the range (the report counts back from today).
        reconciliation=reconciliation_section.section(min(period.days, reconciliation.MAX_DAYS)),
        cross=cross_section.sections(period),
    )
