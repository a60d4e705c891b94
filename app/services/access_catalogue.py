"""The access catalogue (issue 15): which items a sale grants, which a member holds, and the
products the operator can map.

A sale grants the items of the one rule that fits it best (``rule_for``): rules of its platform
and product whose offer/plan code is empty or equals the sale's offer code or plan name, the
highest priority first, then the one naming an offer or plan, then the oldest. An order bump or
a bundle product is a sale row of its own (issue 11: ``parent_transaction_id``), so it grants
its own items; a member holds the union of the items of their *active* accesses, each item once.
A refund revokes the sale's ``Access`` (``app.services.activation.revoke_for_sale``): the
items it granted go unless another active purchase still grants them (``items_lost``). A sale
whose product has no rule grants the product itself, as before the catalogue existed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, inspect, or_, select, text
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Access, AccessItem, AccessRule, Product, Sale
from app.models.sales import ACCESS_ACTIVE
from app.models.types import utcnow


@dataclass
class HeldItem:
    """An item a member holds and the products (names) that give it to them."""

    item: AccessItem
    product_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KnownProduct:
    """A product the operator can map: synced from a platform's catalogue or seen in sales."""

    platform: str
    product_id: str
    name: str

    @property
    def key(self) -> str:
        return product_key(self.platform, self.product_id)


def product_key(platform: str, product_id: str) -> str:
    return f"{platform}:{product_id}"


def split_key(key: str) -> tuple[str, str] | None:
    platform, sep, product_id = (key or "").partition(":")
    return (platform, product_id) if sep and platform and product_id else None


def _fits(rule: AccessRule, sale: Sale) -> bool:
    return not rule.offer_code or rule.offer_code in (sale.offer_code, sale.plan_name)


def _rank(rule: AccessRule):
    return (-rule.priority, 0 if rule.offer_code else 1, rule.id)


def rules_for_sales(sales: Iterable[Sale]) -> dict[int, AccessRule | None]:
    """The winning rule of each sale (``None``: its product is not mapped), in one query."""
    sales = list(sales)
    keys = {(s.platform, s.product_id) for s in sales if s.product_id}
    by_product: dict[tuple[str, str], list[AccessRule]] = {}
    if keys:
        platforms = {p for p, _ in keys}
        product_ids = {p for _, p in keys}
        rules = db.session.scalars(
            select(AccessRule)
            .where(AccessRule.platform.in_(platforms), AccessRule.product_id.in_(product_ids))
            .options(selectinload(AccessRule.items))
        ).all()
        for rule in sorted(rules, key=_rank):
            by_product.setdefault((rule.platform, rule.product_id), []).append(rule)
    return {
        sale.id: next(
            # A rule left without items (they were deleted) maps nothing: the product is
            # unmapped again (its own access, flagged on the overview), not an empty grant.
            (
                r
                for r in by_product.get((sale.platform, sale.product_id), ())
                if r.items and _fits(r, sale)
            ),
            None,
        )
        for sale in sales
    }


def rule_for(sale: Sale) -> AccessRule | None:
    return rules_for_sales([sale])[sale.id]


def items_for_sale(sale: Sale) -> list[AccessItem]:
    """The items ``sale`` grants; ``[]`` when its product is not mapped (the product itself)."""
    rule = rule_for(sale)
    return list(rule.items) if rule is not None else []


def active_sales(user_id: int, now: datetime | None = None) -> list[Sale]:
    """Sales behind the member's active accesses (a subscription canceled with a paid period
    still running counts until ``access_until``)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Sale)
            .join(Access, Access.sale_id == Sale.id)
            .where(
                Access.user_id == user_id,
                Access.status == ACCESS_ACTIVE,
                or_(Access.access_until.is_(None), Access.access_until > now),
            )
            .order_by(Sale.id)
        )
    )


@dataclass
class Holdings:
    """What a member reaches now: catalogue items, and the unmapped products (fallback)."""

    items: list[HeldItem]
    products: list[Sale]  # active sales whose product has no rule


def member_holdings(user_id: int) -> Holdings:
    sales = active_sales(user_id)
    rules = rules_for_sales(sales)
    held: dict[int, HeldItem] = {}
    unmapped: list[Sale] = []
    for sale in sales:
        rule = rules[sale.id]
        if rule is None:
            unmapped.append(sale)
            continue
        name = sale.product_name or rule.product_name or sale.product_id or ""
        for item in rule.items:
            entry = held.setdefault(item.id, HeldItem(item))
            if name and name not in entry.product_names:
                entry.product_names.append(name)
    items = sorted(held.values(), key=lambda h: (h.item.title.lower(), h.item.id))
    return Holdings(items=items, products=unmapped)


def member_items(user_id: int) -> list[AccessItem]:
    """Every item the member holds now (the union over their active accesses), each once."""
    return [h.item for h in member_holdings(user_id).items]


def items_lost(sale: Sale, user_id: int) -> list[AccessItem]:
    """After ``sale``'s access was revoked: the items it granted that the member no longer
    holds through another active purchase (what to take away)."""
    kept = {item.id for item in member_items(user_id)}
    return [item for item in items_for_sale(sale) if item.id not in kept]


# --- Products the operator maps ---------------------------------------------------------------


def known_products() -> list[KnownProduct]:
    """Every product of every platform: synced catalogues (Hotmart's under the ucode sales
    use) and the products seen in sales (webhooks and syncs), one per platform and id."""
    found: dict[tuple[str, str], str] = {}
    synced = db.session.execute(
        select(Product.platform, func.coalesce(Product.ucode, Product.remote_id), Product.name)
    ).all()
    for platform, product_id, name in synced:
        found[(platform, product_id)] = name or ""
    for platform, product_id, name in _seen_products():
        if not found.get((platform, product_id)):
            found[(platform, product_id)] = name or ""
    products = [KnownProduct(p, i, n or i) for (p, i), n in found.items()]
    return sorted(products, key=lambda k: (k.name.lower(), k.platform, k.product_id))


# The products of real sales without reading the sales: a skip scan of
# ``ix_sales_real_products`` (platform, product_id, product_name, is_test) — each step is one
# index seek to the next platform, then to the next product of that platform (test sales,
# rare, are stepped over in the index) — and each product's name is the index's last entry
# for it (the ``max(product_name)`` of its sales).
# The cost follows the number of products, not of sales.
_SEEN_PRODUCTS = text(
    """
WITH RECURSIVE platforms(platform) AS (
    SELECT (SELECT s.platform FROM sales s WHERE s.is_test = :real
            ORDER BY s.platform LIMIT 1)
    UNION ALL
    SELECT (SELECT s.platform FROM sales s WHERE s.is_test = :real
            AND s.platform > platforms.platform ORDER BY s.platform LIMIT 1)
    FROM platforms WHERE platforms.platform IS NOT NULL
),
products(platform, product_id) AS (
    SELECT platforms.platform,
           (SELECT s.product_id FROM sales s WHERE s.is_test = :real
            AND s.platform = platforms.platform AND s.product_id IS NOT NULL
            ORDER BY s.product_id LIMIT 1)
    FROM platforms WHERE platforms.platform IS NOT NULL
    UNION ALL
    SELECT products.platform,
           (SELECT s.product_id FROM sales s WHERE s.is_test = :real
            AND s.platform = products.platform AND s.product_id > products.product_id
            ORDER BY s.product_id LIMIT 1)
    FROM products WHERE products.product_id IS NOT NULL
)
SELECT products.platform, products.product_id,
       (SELECT s.product_name FROM sales s WHERE s.is_test = :real
        AND s.platform = products.platform AND s.product_id = products.product_id
        AND s.product_name IS NOT NULL ORDER BY s.product_name DESC LIMIT 1) AS name
FROM products WHERE products.product_id IS NOT NULL
"""
).bindparams(real=False)


def _seen_products() -> list[tuple[str, str, str | None]]:
    """(platform, product id, its latest-sorting name) of every product of a non-test sale."""
    return [tuple(row) for row in db.session.execute(_SEEN_PRODUCTS)]


def has_items() -> bool:
    return db.session.scalar(select(AccessItem.id).limit(1)) is not None


def unmapped_products() -> list[KnownProduct]:
    """Known products without any rule (their buyers get the product itself only)."""
    mapped = set(db.session.execute(select(AccessRule.platform, AccessRule.product_id)).all())
    return [p for p in known_products() if (p.platform, p.product_id) not in mapped]


# --- The overview's flag, cached per process ------------------------------------------------
#
# ``unmapped_if_catalogue`` runs on every overview load. Its answer changes only when the
# catalogue (items, rules) or the products (synced catalogues, products seen in sales) change,
# so each process keeps it for ``CATALOGUE_CACHE_SECONDS`` like the settings cache
# (``app.services.settings.cached``): a commit in this process that touches those tables drops
# the copy (``app.events``, ``CHANGED_INFO``), other processes see a change within the lifetime.
UNMAPPED_CACHE = "vendas_unmapped_products"
CHANGED_INFO = "vendas_catalogue_changed"  # db.session.info: this transaction changed them
# The tables whose writes change the answer; for an ORM ``Sale``, a new or deleted row or a
# change of SALE_COLUMNS (a status change, the usual update, does not); any bulk statement.
TABLES = frozenset({"access_items", "access_rules", "access_rule_items", "products", "sales"})
SALE_COLUMNS = ("platform", "product_id", "product_name", "is_test")


def unmapped_if_catalogue() -> list[KnownProduct]:
    """For the overview: the unmapped products, once the catalogue has an item (before that,
    every product grants itself and nothing needs flagging). Cached in this process (above)."""
    if db.session.info.get(CHANGED_INFO):  # this transaction changed them: its own view
        return unmapped_products() if has_items() else []
    app = current_app._get_current_object()
    cache = app.extensions.setdefault(UNMAPPED_CACHE, {"generation": 0, "hit": None})
    now = time.monotonic()
    hit = cache["hit"]
    if hit is not None and now - hit[0] < app.config.get("CATALOGUE_CACHE_SECONDS", 30.0):
        return list(hit[1])
    generation = cache["generation"]
    value = unmapped_products() if has_items() else []
    if cache["generation"] == generation:  # no commit dropped it while this ran
        cache["hit"] = (now, value)
    return list(value)


def forget_unmapped(app) -> None:
    """Drop this process's copy (after a change to the catalogue or the products committed)."""
    cache = app.extensions.get(UNMAPPED_CACHE)
    if cache is not None:
        cache["generation"] += 1
        cache["hit"] = None


def mark_changed(session) -> None:
    session.info[CHANGED_INFO] = True


def note_flush(session) -> None:
    """Before a flush: mark the session when it writes what the flag reads."""
    if session.info.get(CHANGED_INFO):
        return
    for obj in (*session.new, *session.deleted):
        if getattr(obj, "__tablename__", None) in TABLES:
            return mark_changed(session)
    for obj in session.dirty:
        name = getattr(obj, "__tablename__", None)
        if name in TABLES and (
            name != "sales"
            or any(inspect(obj).attrs[c].history.has_changes() for c in SALE_COLUMNS)
        ):
            return mark_changed(session)


def note_statement(state) -> None:
    """A bulk INSERT/UPDATE/DELETE run through the session (``session.execute(insert(...))``)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in TABLES:
        mark_changed(state.session)


def rules() -> list[AccessRule]:
    return list(
        db.session.scalars(
            select(AccessRule)
            .options(selectinload(AccessRule.items))
            .order_by(
                AccessRule.product_name, AccessRule.platform, AccessRule.priority.desc(),
                AccessRule.id,
            )
        )
    )  # fmt: skip


def items() -> list[AccessItem]:
    return list(
        db.session.scalars(
            select(AccessItem)
            .options(selectinload(AccessItem.rules))
            .order_by(func.lower(AccessItem.title), AccessItem.id)
        )
    )
