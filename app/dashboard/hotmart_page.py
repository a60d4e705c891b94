"""/hotmart: credentials status, "Testar conexão", syncs, products, sales and subscriptions;
the products and subscriptions tabs as CSV (their filters, their order)."""

from __future__ import annotations

from datetime import datetime

from flask import request

from app import csv_export
from app.dashboard import bp, integration_page
from app.extensions import db
from app.formatting import DISPLAY_TZ, date_br, datetime_br, remote_status
from app.paging import page_arg
from app.services import hotmart as hotmart_service

PER_PAGE = 25
SORT_LABELS = {"name": "Nome", "status": "Status", "price": "Preço"}


def _product_filters() -> dict[str, str]:
    query = request.args.get("q", "").strip()[:200]
    sort = request.args.get("sort", "name")
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    return {
        "aba": "produtos",
        "q": query,
        "sort": sort if sort in SORT_LABELS else "name",
        "dir": direction,
    }


def _subscription_filters(statuses: list[str]) -> dict[str, str]:
    status = request.args.get("status", "")
    return {"aba": "assinaturas", "status": status if status in statuses else ""}


@bp.get("/hotmart")
def hotmart():
    tab = integration_page.current_tab(hotmart_service.HOTMART)
    context: dict = {}
    if tab == "produtos":
        args = _product_filters()
        stmt = hotmart_service.products_query(args["q"], args["sort"], args["dir"])
        context.update(
            page=db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False),
            args=args,
            q=args["q"],
            sort=args["sort"],
            direction=args["dir"],
            sort_labels=SORT_LABELS,
        )
    elif tab == "assinaturas":
        statuses = hotmart_service.subscription_statuses()
        args = _subscription_filters(statuses)
        stmt = hotmart_service.subscriptions_query(args["status"])
        context.update(
            page=db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False),
            args=args,
            statuses=statuses,
            status=args["status"],
        )
    else:
        context["sales"] = hotmart_service.recent_sales(25)
    return integration_page.render(
        hotmart_service.HOTMART, tab, hotmart_service.counts(), **context
    )


PRODUCT_HEADER = (
    "Produto",
    "ID na Hotmart",
    "Código (ucode)",
    "Status",
    "Formato",
    "Preço (R$)",
    "Moeda",
    "Assinatura",
    "Garantia (dias)",
    "Última sincronização",
)
SUBSCRIPTION_HEADER = (
    "Assinante",
    "E-mail",
    "Código do assinante",
    "Produto",
    "Plano",
    "Status",
    "Valor (R$)",
    "Moeda",
    "Adesão",
    "Próxima cobrança",
)


@bp.get("/hotmart/exportar.csv")
def hotmart_export_csv():
    """The products tab (search and sort) or the subscriptions tab (status), as CSV in the
    list's order, streamed in batches. The sales tab is /vendas's (its own export)."""
    tab = integration_page.current_tab(hotmart_service.HOTMART)
    if tab == "assinaturas":
        args = _subscription_filters(hotmart_service.subscription_statuses())
        stmt = hotmart_service.subscriptions_query(args["status"])
        header = SUBSCRIPTION_HEADER

        def row(s):
            return (
                s.buyer_name or "",
                s.buyer_email or "",
                s.subscriber_code,
                s.product_name or s.product_id,
                s.plan_name or "",
                remote_status(s.status),
                csv_export.money(s.price_cents),
                s.currency or "",
                date_br(s.accession_date) if s.accession_date else "",
                date_br(s.date_next_charge) if s.date_next_charge else "",
            )
    else:
        tab = "produtos"
        args = _product_filters()
        stmt = hotmart_service.products_query(args["q"], args["sort"], args["dir"])
        header = PRODUCT_HEADER

        def row(p):
            return (
                p.name,
                p.remote_id,
                p.ucode or "",
                remote_status(p.status),
                remote_status(p.format) if p.format else "",
                csv_export.money(p.price_cents),
                p.currency or "",
                "sim" if p.is_subscription else "não",
                p.warranty_period if p.warranty_period else "",
                datetime_br(p.last_sync_at) if p.last_sync_at else "",
            )

    stmt = stmt.execution_options(yield_per=500)

    def rows():
        for item in db.session.scalars(stmt):
            yield row(item)

    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(header, rows(), f"hotmart-{tab}-{now:%Y%m%d-%H%M}.csv")
