"""/assinaturas (page and CSV), its JSON (``GET /api/subscriptions``, ``/api/reports/mrr``)
and ``flask subscriptions rebuild``."""

from __future__ import annotations

import click
from flask import jsonify, render_template, request
from werkzeug.datastructures import MultiDict

from app.api import bp as api_bp
from app.api.paging import MAX_PAGE, int_arg, list_body
from app.csv_export import stream as csv_stream
from app.extensions import db
from app.formatting import datetime_br, platform_label
from app.models import Subscription
from app.models.types import utcnow
from app.paging import capped_count, paginate
from app.services import charts
from app.services import subscription_report as report
from app.sorting import SortKey, sort_from_args, sort_values
from app.sources import PLATFORMS
from app.subscriptions import bp

PER_PAGE = 50
DEFAULT_PERIOD = "12m"
# Header sorts, each backed by a (column, id) index (app.models.hotmart.Subscription).
SORTS = {
    "inicio": SortKey(Subscription.started_at, "Início", lambda s: s.started_at, descending=True),
    "mrr": SortKey(Subscription.mrr_cents, "MRR", lambda s: s.mrr_cents, descending=True),
}


def _period() -> charts.DateRange:
    """The range of the monthly figures: the last 12 months unless the request picks one."""
    args = request.args
    if not args.get("periodo"):
        args = MultiDict({**args.to_dict(), "periodo": DEFAULT_PERIOD})
    return charts.from_args(args)


def _figures(f: report.Filters, period: charts.DateRange):
    months = report.movement(f, period)
    return months, report.summary(f, months)


@bp.get("/assinaturas")
def index():
    f = report.Filters.from_args(request.args, PLATFORMS)
    period = _period()
    months, summary = _figures(f, period)
    sort = sort_from_args(request.args, SORTS, "inicio")
    page = paginate(
        report.subscriptions_query(f),
        order=sort.order(Subscription.id),
        per_page=PER_PAGE,
        key=sort_values(sort),
    )
    products, plans = report.options()
    return render_template(
        "subscriptions/index.html",
        f=f,
        period=period,
        presets=charts.PRESETS,
        months=months,
        summary=summary,
        charts={"movement": report.movement_chart(months), "mrr": report.mrr_chart(months)},
        page=page,
        sort=sort,
        platforms=PLATFORMS,
        products=products,
        plans=plans,
        states=report.STATE_LABELS,
        frequencies=report.FREQUENCY_LABELS,
    )


@bp.get("/assinaturas/exportar.csv")
def export_csv():
    f = report.Filters.from_args(request.args, PLATFORMS)
    stmt = (
        report.subscriptions_query(f)
        .order_by(Subscription.started_at.desc(), Subscription.id.desc())
        .execution_options(yield_per=500)
    )

    def rows():
        for sub in db.session.scalars(stmt):
            yield (
                platform_label(sub.platform),
                sub.buyer_email,
                sub.buyer_name,
                sub.product_name,
                sub.plan_name,
                report.FREQUENCY_LABELS.get(sub.frequency or "", ""),
                report.STATE_LABELS.get(sub.state, sub.state),
                sub.price_cents,
                sub.mrr_cents,
                sub.currency,
                datetime_br(sub.accession_date) if sub.accession_date else "",
                datetime_br(sub.date_next_charge) if sub.date_next_charge else "",
                datetime_br(sub.canceled_at) if sub.canceled_at else "",
            )

    header = (
        "plataforma",
        "email",
        "nome",
        "produto",
        "plano",
        "frequencia",
        "situacao",
        "valor_centavos",
        "mrr_centavos",
        "moeda",
        "inicio",
        "proxima_cobranca",
        "cancelada_em",
    )
    return csv_stream(header, rows(), f"assinaturas-{utcnow():%Y%m%d-%H%M}.csv")


@api_bp.get("/api/subscriptions")
def api_subscriptions():
    """The filtered subscriptions, newest first, in the paging envelope."""
    f = report.Filters.from_args(request.args, PLATFORMS)
    page = int_arg("page", 1, 1, MAX_PAGE)
    limit = int_arg("limit", 50, 1, 200)
    stmt = report.subscriptions_query(f)
    total, capped = capped_count(stmt)  # "more than 10,000" rather than a full count
    items = db.session.scalars(
        stmt.order_by(Subscription.started_at.desc(), Subscription.id.desc())
        .offset((page - 1) * limit)
        .limit(limit)
    ).all()
    body = list_body(
        [report.to_dict(sub) for sub in items],
        page,
        limit,
        total,
        ("assinatura encontrada", "assinaturas encontradas"),
    )
    body["total_capped"] = capped
    body["filters"] = f.args
    return jsonify(body)


@api_bp.get("/api/reports/mrr")
def api_mrr():
    """``{"success": true, "summary": {...}, "months": [...], "period": {...}}`` (cents)."""
    f = report.Filters.from_args(request.args, PLATFORMS)
    period = _period()
    months, summary = _figures(f, period)
    return jsonify(
        {
            "success": True,
            "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
            "filters": f.args,
            "summary": summary.to_dict(),
            "months": [m.to_dict() for m in months],
        }
    )


@bp.cli.command("rebuild")
@click.option(
    "--from-sales",
    is_flag=True,
    help="Também deriva as assinaturas Kiwify/Kirvano de vendas recebidas antes desta versão.",
)
def rebuild_command(from_sales: bool) -> None:
    """Recount the MRR movement of every subscription from its current state."""
    from app.services import subscriptions

    if from_sales:
        click.echo(f"vendas de assinatura lidas: {subscriptions.backfill_from_sales()}")
    click.echo(f"assinaturas recontadas: {subscriptions.rebuild()}")
