"""/gestao-click: configuration status, "Testar conexão", syncs, vendas, clientes, produtos."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from app.dashboard import bp
from app.models import GcClient, GcProduct, GcSale
from app.paging import capped_count, paginate, paginate_nulls_last
from app.services import gestao_click as gc_service
from app.services import sync as sync_service

TABS = {"vendas": "Vendas", "clientes": "Clientes", "produtos": "Produtos"}
TAB_RESOURCES = {"vendas": "sales", "clientes": "clients", "produtos": "products"}
SALE_TYPES = {"produto": "Produto", "servico": "Serviço", "vendas_balcao": "Balcão"}
PER_PAGE = 25


@bp.get("/gestao-click")
def gestao_click():
    tab = request.args.get("aba", "vendas")
    tab = tab if tab in TABS else "vendas"
    query = request.args.get("q", "").strip()[:200]
    args = {"aba": tab, "q": query}
    if tab == "vendas":
        tipo = request.args.get("tipo", "")
        tipo = tipo if tipo in SALE_TYPES else ""
        args["tipo"] = tipo
        stmt = gc_service.sales_query(query, tipo)
    else:
        stmt = gc_service.QUERIES[TAB_RESOURCES[tab]](query)
    return render_template(
        "gestao_click/index.html",
        tab=tab,
        tabs=TABS,
        info=gc_service.overview(),
        counts={  # tab badges, capped ("10.000+")
            "sales": capped_count(select(GcSale)),
            "clients": capped_count(select(GcClient)),
            "products": capped_count(select(GcProduct)),
        },
        resources=_resources(),
        page=paginate_nulls_last(stmt, GcSale.data, GcSale.id, PER_PAGE)
        if tab == "vendas"
        else paginate(stmt, order=None, per_page=PER_PAGE),
        args=args,
        q=query,
        tipo=args.get("tipo", ""),
        sale_types=SALE_TYPES,
    )


def _resources() -> list[dict]:
    latest = sync_service.latest_runs()
    return [
        {
            "resource": resource,
            "label": label,
            "url": f"/api/sync/{gc_service.SOURCE}/{resource}",
            "last": latest.get((gc_service.SOURCE, resource)),
            "active": sync_service.active_run(gc_service.SOURCE, resource),
            "interval_hours": gc_service.INTERVALS[resource] // 3600,
        }
        for resource, label in gc_service.RESOURCES.items()
    ]
