"""Activation links' building blocks: the link URL and lookup, a purchase's sales and
products, a new link and its e-mail, a pending link to reuse, and the access a link grants.
``app.services.activation`` holds the use cases built from them (and re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, union_all

from app import crypto
from app.extensions import db
from app.models import Access, ActivationLink, Sale, User
from app.models.activation import (
    LINK_PENDING,
    LINK_USED,
)
from app.models.sales import ACCESS_ACTIVE, GRANTING_STATUSES
from app.models.types import utcnow
from app.services import outbox


class ActivationError(ValueError):
    """A readable pt-BR message for the buyer or the operator."""


@dataclass
class Issued:
    link: ActivationLink | None
    token: str | None  # only when a new token was minted (to build the e-mail)
    reused: bool = False
    attached_to: User | None = None  # the buyer already had an account


def _link_days() -> int:
    return int(current_app.config.get("ACTIVATION_LINK_DAYS", 7))


def activation_url(token: str) -> str:
    return f"{current_app.config['APP_URL']}/ativar/{token}"


def find_by_token(token: str) -> ActivationLink | None:
    if not token or len(token) > 128:
        return None
    return db.session.scalar(
        select(ActivationLink).where(ActivationLink.token_hash == crypto.token_hash(token))
    )


def purchase_sales(sale: Sale) -> list[Sale]:
    """Every sale of the purchase ``sale`` belongs to: the main product and the ones bought
    with it (order bumps, bundle items), oldest first."""
    return list(db.session.scalars(select(Sale).where(*_purchase_filter(sale)).order_by(Sale.id)))


def purchase_products(sale: Sale, sales: list[Sale] | None = None) -> list[str]:
    """The names of the products of the purchase that still give access (``sales``: the
    purchase's sales when the caller already loaded them)."""
    names = [
        other.product_name or "sua compra"
        for other in (purchase_sales(sale) if sales is None else sales)
        if other.status in GRANTING_STATUSES
    ]
    return list(dict.fromkeys(names)) or [sale.product_name or "sua compra"]


def _products_label(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " e " + names[-1]


def _pending_link(sale: Sale, email: str, sales: list[Sale] | None = None) -> ActivationLink | None:
    """A pending link of this buyer for this purchase (any of its products; ``sales``: the
    purchase's sales when the caller already loaded them)."""
    ids = (
        [other.id for other in sales]
        if sales is not None
        else select(Sale.id).where(*_purchase_filter(sale))
    )
    return db.session.scalar(
        select(ActivationLink)
        .where(
            ActivationLink.sale_id.in_(ids),
            ActivationLink.buyer_email == email,
            ActivationLink.status == LINK_PENDING,
            ActivationLink.expires_at > utcnow(),
        )
        .order_by(ActivationLink.id.desc())
    )


def _purchase_filter(sale: Sale) -> list:
    """The purchase's sales: its main sale and the ones naming it as their parent, as two
    index seeks. (``platform = ? AND (transaction_id = ? OR parent_transaction_id = ?)`` is
    one condition SQLite cannot split over its two indexes: it walked every sale of the
    platform, so each approval cost more the more sales there were.)"""
    key = sale.purchase_key
    return [
        Sale.id.in_(
            union_all(
                select(Sale.id).where(Sale.platform == sale.platform, Sale.transaction_id == key),
                select(Sale.id).where(
                    Sale.platform == sale.platform, Sale.parent_transaction_id == key
                ),
            )
        )
    ]


def _new_link(
    sale: Sale,
    email: str,
    name: str | None,
    *,
    notify: bool = True,
    sales: list[Sale] | None = None,
) -> tuple[ActivationLink, str]:
    token = crypto.new_token(32)  # 256 bits
    link = ActivationLink(
        token_hash=crypto.token_hash(token),
        sale_id=sale.id,
        buyer_email=email,
        buyer_name=name,
        platform=sale.platform,
        product_id=sale.product_id,
        product_name=sale.product_name,
        is_test=bool(sale.is_test),
        expires_at=utcnow() + timedelta(days=_link_days()),
    )
    db.session.add(link)
    db.session.flush()
    if notify:
        _queue_activation_email(link, token, sales)
    return link, token


def _queue_activation_email(
    link: ActivationLink, token: str, sales: list[Sale] | None = None
) -> None:
    if sales is None:
        sales = purchase_sales(link.sale) if link.sale else []
    if sales:
        products = purchase_products(link.sale or sales[0], sales)
    else:
        products = [link.product_name or "sua compra"]
    product = _products_label(products)
    outbox.queue(
        "activation",
        to=link.buyer_email,
        subject=f"Ative seu acesso: {product}",
        context={
            "name": link.buyer_name or "",
            "product": product,
            "products": products,
            "link": activation_url(token),
            "days": _link_days(),
            "expires_at": link.expires_at,
            "signup": True,  # the items' "Minha conta" exists once the buyer signs up
            **_access_context(sales, sale=link.sale),
        },
        ref_type="activation_link",
        ref_id=link.id,
    )


def grant_access(user: User, sale: Sale) -> tuple[Access, bool]:
    """Active access of ``user`` to ``sale``; True when it was created or restored."""
    access = db.session.scalar(
        select(Access).where(Access.user_id == user.id, Access.sale_id == sale.id)
    )
    if access is None:
        access = Access(user_id=user.id, sale_id=sale.id, status=ACCESS_ACTIVE)
        db.session.add(access)
        db.session.flush()
        _telegram_granted(user)
        return access, True
    if access.status != ACCESS_ACTIVE or access.access_until is not None:
        # Restored, or a renewal after a subscription cancellation: no end date any more.
        restored = access.status != ACCESS_ACTIVE
        access.status, access.revoked_at, access.revoked_reason = ACCESS_ACTIVE, None, None
        access.access_until = None
        if restored:
            _telegram_granted(user)
        return access, restored
    return access, False


def _access_context(sales: list[Sale], **kwargs) -> dict:
    """The e-mail's access lines: the purchase's catalogue items, and the Telegram group of
    the chats they do not name, with the member's links already made."""
    from app.services import access_grants

    return access_grants.email_context(sales, **kwargs)


def _telegram_granted(user: User) -> None:
    """The member's Telegram invite links, made right after the commit."""
    from app.services import telegram_access

    telegram_access.access_granted(user)


def _has_product_access_or_link(sale: Sale, email: str) -> bool:
    """For renewals: does this buyer already hold this product (a link or an access)?"""
    same_product = select(Sale.id).where(
        Sale.platform == sale.platform,
        Sale.product_id == sale.product_id,
        Sale.buyer_email == email,
        Sale.id != sale.id,
    )
    link = db.session.scalar(
        select(ActivationLink.id).where(
            ActivationLink.sale_id.in_(same_product),
            ActivationLink.status.in_((LINK_PENDING, LINK_USED)),
        )
    )
    return link is not None
