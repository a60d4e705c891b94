"""The overview page (``/``): figures, charts and alerts of the period."""

from __future__ import annotations

from flask import render_template, request

from app.dashboard import bp
from app.services import access_catalogue, charts, outbox, overview, reconciliation_watch
from app.services import settings as settings_service
from app.services import sync as sync_service


@bp.get("/")
def index():
    groups = settings_service.overview()
    integrations = [
        {
            "title": g["group"].title,
            "platform": g["group"].platform,
            "configured": settings_service.configured(g),
        }
        for g in groups
    ]
    period = charts.from_args(request.args)
    data = overview.build(since=period.since, until=period.until)
    return render_template(
        "dashboard/index.html",
        integrations=integrations,
        data=data,
        period=period,
        presets=charts.PRESETS,
        charts=charts.build(period, data.funnel),
        failed_syncs=sync_service.recent_failures(hours=24),
        smtp_configured=outbox.smtp_configured(),
        reconciliation=reconciliation_watch.snapshot(),
        unmapped_products=access_catalogue.unmapped_if_catalogue(),
    )
