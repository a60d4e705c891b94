"""Builders for the access-catalogue tests: sales, members, items and rules in the database."""

from __future__ import annotations

from app.extensions import db
from app.models import AccessItem, AccessRule, Sale
from app.services import accounts
from app.services.activation_links import grant_access


def make_sale(platform, tx, product_id, name, email="bia@example.com", **fields) -> Sale:
    sale = Sale(
        platform=platform,
        transaction_id=tx,
        status=fields.pop("status", "approved"),
        buyer_email=email,
        product_id=product_id,
        product_name=name,
        amount_cents=fields.pop("amount_cents", 9700),
        currency="BRL",
        **fields,
    )
    db.session.add(sale)
    db.session.flush()
    return sale


def make_member(email="bia@example.com", name="Bia"):
    user = accounts.create_user(email, "senha-segura-123", name=name, role="member")
    db.session.flush()
    return user


def make_item(title, kind="url", url=None, chat_id=None, instructions=None) -> AccessItem:
    if kind != "telegram" and url is None:
        url = f"https://membros.example.com/{title.lower().replace(' ', '-')}"
    item = AccessItem(kind=kind, title=title, url=url, chat_id=chat_id, instructions=instructions)
    db.session.add(item)
    db.session.flush()
    return item


def make_rule(platform, product_id, *items, offer_code="", priority=0, name=None) -> AccessRule:
    rule = AccessRule(
        platform=platform,
        product_id=product_id,
        product_name=name or product_id,
        offer_code=offer_code,
        priority=priority,
        items=list(items),
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def buy(user, *sales) -> None:
    for sale in sales:
        grant_access(user, sale)
    db.session.commit()
