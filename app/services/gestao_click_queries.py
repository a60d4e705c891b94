"""Gestão Click lists for the page and the JSON API (the local copies filled by the syncers)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import GcClient, GcProduct, GcSale
from app.sources.base import digits_only


def _clean(query: str) -> str:
    return (query or "").strip()[:200]


def sales_query(query: str = "", tipo: str = ""):
    stmt = select(GcSale)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(GcSale.cliente_nome).like(like),
                func.lower(GcSale.situacao_nome).like(like),
                GcSale.codigo == query,
                GcSale.remote_id == query,
            )
        )
    if tipo:
        stmt = stmt.where(GcSale.tipo == tipo)
    return stmt.order_by(GcSale.data.desc().nulls_last(), GcSale.id.desc())


def clients_query(query: str = ""):
    stmt = select(GcClient)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        conditions = [
            func.lower(GcClient.nome).like(like),
            func.lower(GcClient.email).like(like),
            GcClient.remote_id == query,
        ]
        doc = digits_only(query, 14)
        if doc and len(doc) >= 3:
            conditions.append(GcClient.cpf_cnpj.like(f"%{doc}%"))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(GcClient.nome, GcClient.id)


def products_query(query: str = ""):
    stmt = select(GcProduct)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(GcProduct.nome).like(like),
                func.lower(GcProduct.codigo_interno) == query.lower(),
                GcProduct.codigo_barra == query,
                GcProduct.remote_id == query,
            )
        )
    return stmt.order_by(GcProduct.nome, GcProduct.id)


QUERIES = {"sales": sales_query, "clients": clients_query, "products": products_query}


def counts() -> dict[str, int]:
    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    return {"sales": count(GcSale), "clients": count(GcClient), "products": count(GcProduct)}
