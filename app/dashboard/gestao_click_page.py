"""/gestao-click: configuration status, "Testar conexão", syncs, vendas, clientes, produtos."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.dashboard import bp, integration_page
from app.models import GcClient, GcProduct, GcSale
from app.paging import capped_count, paginate, paginate_nulls_last
from app.services import gestao_click as gc_service

TAB_RESOURCES = {"vendas": "sales", "clientes": "clients", "produtos": "products"}
SALE_TYPES = {"produto": "Produto", "servico": "Serviço", "vendas_balcao": "Balcão"}
PER_PAGE = 25


@bp.get("/gestao-click")
def gestao_click():
    tab = integration_page.current_tab(gc_service.GESTAO_CLICK)
    query = request.args.get("q", "").strip()[:200]
    args = {"aba": tab, "q": query}
    if tab == "vendas":
        tipo = request.args.get("tipo", "")
        tipo = tipo if tipo in SALE_TYPES else ""
        args["tipo"] = tipo
        stmt = gc_service.sales_query(query, tipo)
    else:
        stmt = gc_service.QUERIES[TAB_RESOURCES[tab]](query)
    counts = {  # tab badges, capped ("10.000+")
        "sales": capped_count(select(GcSale)),
        "clients": capped_count(select(GcClient)),
        "products": capped_count(select(GcProduct)),
    }
    return integration_page.render(
        gc_service.GESTAO_CLICK,
        tab,
        counts,
        page=paginate_nulls_last(stmt, GcSale.data, GcSale.id, PER_PAGE)
        if tab == "vendas"
        else paginate(stmt, order=None, per_page=PER_PAGE),
        args=args,
        q=query,
        tipo=args.get("tipo", ""),
        sale_types=SALE_TYPES,
    )
