"""/gestao-click: configuration status, "Testar conexão", syncs, vendas, clientes, produtos."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app import csv_export
from app.dashboard import bp, integration_page
from app.extensions import db
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


@bp.get("/gestao-click/exportar.csv")
def gestao_click_export_csv():
    """The sales tab (search and type; newest first), the clients or the products tab
    (search, in the list's order) as CSV, streamed in batches."""
    from datetime import datetime

    from app.formatting import DISPLAY_TZ, date_br

    tab = integration_page.current_tab(gc_service.GESTAO_CLICK)
    query = request.args.get("q", "").strip()[:200]
    now = datetime.now(DISPLAY_TZ)
    if tab == "clientes":
        stmt = gc_service.QUERIES["clients"](query)
        header = (
            "Nome",
            "Razão social",
            "Tipo",
            "CPF/CNPJ",
            "E-mail",
            "Telefone",
            "Cidade",
            "UF",
            "Situação",
            "ID no Gestão Click",
        )

        def row(c):
            return (
                c.nome,
                c.razao_social or "",
                c.tipo_pessoa or "",
                c.cpf_cnpj or "",
                c.email or "",
                c.celular or c.telefone or "",
                c.cidade or "",
                c.estado or "",
                "ativo" if c.ativo else "inativo",
                c.remote_id,
            )
    elif tab == "produtos":
        stmt = gc_service.QUERIES["products"](query)
        header = (
            "Produto",
            "Código",
            "Código de barras",
            "Grupo",
            "Estoque",
            "Custo (R$)",
            "Preço de venda (R$)",
            "Situação",
            "Modificado em",
            "ID no Gestão Click",
        )

        def row(p):
            return (
                p.nome,
                p.codigo_interno or "",
                p.codigo_barra or "",
                p.grupo_nome or "",
                _quantity(p.estoque),
                csv_export.money(p.valor_custo_cents),
                csv_export.money(p.valor_venda_cents),
                "ativo" if p.ativo else "inativo",
                date_br(p.modificado_em) if p.modificado_em else "",
                p.remote_id,
            )
    else:
        tipo = request.args.get("tipo", "")
        stmt = gc_service.sales_query(query, tipo if tipo in SALE_TYPES else "")
        stmt = stmt.order_by(None).order_by(GcSale.data.desc().nulls_last(), GcSale.id.desc())
        header = (
            "Código",
            "Data",
            "Cliente",
            "Tipo",
            "Situação",
            "Vendedor",
            "Pagamento",
            "Frete (R$)",
            "Total (R$)",
            "ID no Gestão Click",
        )
        tab = "vendas"

        def row(s):
            return (
                s.codigo or "",
                s.data.strftime("%d/%m/%Y") if s.data else "",
                s.cliente_nome or "",
                SALE_TYPES.get(s.tipo or "", s.tipo or ""),
                s.situacao_nome or "",
                s.vendedor_nome or "",
                s.forma_pagamento or "",
                csv_export.money(s.valor_frete_cents),
                csv_export.money(s.valor_total_cents),
                s.remote_id,
            )

    stmt = stmt.execution_options(yield_per=500)

    def rows():
        for item in db.session.scalars(stmt):
            yield row(item)

    return csv_export.stream(header, rows(), f"gestao-click-{tab}-{now:%Y%m%d-%H%M}.csv")


def _quantity(value: float | None) -> str:
    """A stock quantity as Excel-BR reads a number: ``12,5`` (no thousands separator)."""
    if value is None:
        return ""
    return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",")
