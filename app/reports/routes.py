"""/relatorios: activation funnel and conversion by day, platform and product."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template, request

from app.models.types import utcnow
from app.reports import bp
from app.reports import reconciliation as reconciliation_section
from app.services import stats

PERIODS = {7: "7 dias", 30: "30 dias", 90: "90 dias", 365: "12 meses"}


@bp.get("/relatorios")
def index():
    try:
        days = int(request.args.get("dias", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    since = utcnow() - timedelta(days=days)
    daily = stats.by_day(days=days, fill=True)
    chart = {
        "type": "bar",
        "labels": [f"{d['key'][8:10]}/{d['key'][5:7]}" for d in daily],
        "datasets": [
            {"label": "Links criados", "data": [d["created"] for d in daily]},
            {"label": "Abertos", "data": [d["opened"] for d in daily]},
            {"label": "Usados", "data": [d["used"] for d in daily]},
        ],
    }
    return render_template(
        "reports/index.html",
        days=days,
        periods=PERIODS,
        funnel=stats.funnel(since=since),
        platforms=stats.by_platform(since=since),
        products=stats.by_product(since=since),
        chart=chart,
        reconciliation=reconciliation_section.section(days),
    )
