"""Hotmart lists for the page and the JSON API (the local copies filled by the syncers)."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import Product, Sale, Subscription

PLATFORM = "hotmart"

PRODUCT_SORTS = {
    "name": Product.name,
    "status": Product.status,
    "price": Product.price_cents,
    "created": Product.remote_created_at,
}


def products_query(query: str = "", sort: str = "name", direction: str = "asc"):
    stmt = select(Product).where(Product.platform == PLATFORM)
    query = (query or "").strip()[:200]
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Product.name).like(like),
                Product.remote_id == query,
                func.lower(Product.ucode) == query.lower(),
            )
        )
    column = PRODUCT_SORTS.get(sort, Product.name)
    order = column.desc() if direction == "desc" else column.asc()
    return stmt.order_by(order.nulls_last(), Product.id)


def subscriptions_query(status: str = ""):
    stmt = select(Subscription).where(Subscription.platform == PLATFORM)
    if status:
        stmt = stmt.where(Subscription.status == status)
    return stmt.order_by(Subscription.accession_date.desc().nulls_last(), Subscription.id.desc())


def subscription_statuses() -> list[str]:
    return list(
        db.session.scalars(
            select(Subscription.status)
            .where(Subscription.platform == PLATFORM, Subscription.status.is_not(None))
            .distinct()
            .order_by(Subscription.status)
        )
    )


def recent_sales(limit: int = 20) -> list[Sale]:
    return list(
        db.session.scalars(
            select(Sale)
            .where(Sale.platform == PLATFORM)
            .order_by(func.coalesce(Sale.approved_at, Sale.created_at).desc(), Sale.id.desc())
            .limit(limit)
        )
    )


def counts() -> dict[str, int]:
    def count(model, *where) -> int:
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.platform == PLATFORM, *where)
        )

    return {
        "products": count(Product),
        "subscriptions": count(Subscription),
        "sales": count(Sale),
        "synced_sales": count(Sale, Sale.source == "sync"),
    }
