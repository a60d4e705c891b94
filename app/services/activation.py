"""Activation links: issue, open, redeem, resend, revoke, correct e-mail, expire; and access.

Size: the use cases of one aggregate (links and the access they grant) stay together; a
little over 400 lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app import crypto
from app.extensions import db
from app.models import ROLE_MEMBER, Access, ActivationLink, Sale, User
from app.models.activation import (
    LINK_EXPIRED,
    LINK_PENDING,
    LINK_REVOKED,
    LINK_USED,
    REASON_EMAIL_CHANGED,
    REASON_REPLACED,
)
from app.models.sales import ACCESS_ACTIVE, ACCESS_REVOKED, GRANTING_STATUSES
from app.models.types import utcnow
from app.services import accounts, outbox

log = logging.getLogger(__name__)


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
    key = sale.purchase_key
    return [
        Sale.platform == sale.platform,
        or_(Sale.transaction_id == key, Sale.parent_transaction_id == key),
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
    if sales is not None:
        products = purchase_products(link.sale or sales[0], sales)
    else:
        products = (
            purchase_products(link.sale) if link.sale else [link.product_name or "sua compra"]
        )
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
        return access, True
    if access.status != ACCESS_ACTIVE or access.access_until is not None:
        # Restored, or a renewal after a subscription cancellation: no end date any more.
        restored = access.status != ACCESS_ACTIVE
        access.status, access.revoked_at, access.revoked_reason = ACCESS_ACTIVE, None, None
        access.access_until = None
        return access, restored
    return access, False


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


def issue_for_sale(
    sale: Sale, *, renewal: bool = False, notify: bool = True, fresh: bool = False
) -> Issued:
    """What an approval does: attach to an existing member or e-mail a signup link.

    A repeated approval reuses the pending link (no second e-mail); a renewal never sends a
    second link for a product the buyer already has. ``notify=False`` mints the link without
    queuing its e-mail (the operator hands it over by another channel). ``fresh``: the sale was
    created in this transaction (no link can point at it yet).
    """
    email = sale.buyer_email
    if not email:
        raise ActivationError("Venda sem e-mail do comprador.")
    user = accounts.find_user(email)
    if user is not None:
        changed = False
        sales = purchase_sales(sale) or [sale]
        for other in sales:
            if other.id == sale.id or (
                other.status in GRANTING_STATUSES and other.buyer_email == email
            ):
                changed = grant_access(user, other)[1] or changed
        if changed and not renewal:
            product = _products_label(purchase_products(sale, sales))
            outbox.queue(
                "purchase_added",
                to=user.email,
                subject=f"Compra adicionada à sua conta: {product}",
                context={
                    "name": user.name or sale.buyer_name or "",
                    "product": product,
                    "login_url": f"{current_app.config['APP_URL']}/login",
                },
                ref_type="sale",
                ref_id=sale.id,
            )
        return Issued(link=None, token=None, attached_to=user)
    sales = purchase_sales(sale) or [sale]  # read once: the pending-link check and the e-mail
    # A sale created in this transaction, alone in its purchase, has no link yet.
    alone_and_new = fresh and [other.id for other in sales] == [sale.id]
    existing = None if alone_and_new else _pending_link(sale, email, sales)
    if existing is not None:
        return Issued(link=existing, token=None, reused=True)
    if renewal and _has_product_access_or_link(sale, email):
        return Issued(link=None, token=None, reused=True)
    link, token = _new_link(sale, email, sale.buyer_name, notify=notify, sales=sales)
    log.info("activation link %s issued for sale %s", link.id, sale.id)
    return Issued(link=link, token=token)


def revoke_for_sale(sale: Sale, reason: str, until: datetime | None = None) -> None:
    """Refund/chargeback/cancellation: revoke access (or end it at ``until``) and links."""
    now = utcnow()
    accesses = db.session.scalars(select(Access).where(Access.sale_id == sale.id)).all()
    for access in accesses:
        if until is not None and until > now:
            access.access_until = until  # paid period still running; a job ends it
        elif access.status == ACCESS_ACTIVE:
            access.status, access.revoked_at, access.revoked_reason = ACCESS_REVOKED, now, reason
    if until is None or until <= now:
        db.session.execute(
            update(ActivationLink)
            .where(ActivationLink.sale_id == sale.id, ActivationLink.status == LINK_PENDING)
            .values(status=LINK_REVOKED, revoked_at=now, revoked_reason=reason)
        )


def register_open(link: ActivationLink) -> None:
    """Record a GET of the form (never consumes the token)."""
    now = utcnow()
    db.session.execute(
        update(ActivationLink)
        .where(ActivationLink.id == link.id)
        .values(
            open_count=ActivationLink.open_count + 1,
            opened_at=db.func.coalesce(ActivationLink.opened_at, now),
        )
    )


def redeem(link: ActivationLink, name: str, password: str) -> tuple[User, bool]:
    """Create the member and mark the link used, atomically (one winner per link).

    Returns the user and whether it was created. When an account with this e-mail already
    exists the purchase is attached to it, but nobody is logged in: the link proves control of
    the mailbox, not knowledge of that account's password.
    """
    name = (name or "").strip()
    if not name:
        raise ActivationError("Informe seu nome.")
    if len(name) > 120:
        raise ActivationError("O nome pode ter no máximo 120 caracteres.")
    now = utcnow()
    # The conditional UPDATE is the lock: a concurrent request finds status != pending.
    claimed = db.session.execute(
        update(ActivationLink)
        .where(
            ActivationLink.id == link.id,
            ActivationLink.status == LINK_PENDING,
            ActivationLink.expires_at > now,
        )
        .values(status=LINK_USED, used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise ActivationError("Este link já foi usado.")
    user = accounts.find_user(link.buyer_email)
    created = user is None
    if user is None:
        try:
            with db.session.begin_nested():
                user = accounts.create_user(link.buyer_email, password, name=name, role=ROLE_MEMBER)
        except accounts.AccountError as exc:
            db.session.rollback()
            raise ActivationError(str(exc)) from exc
        except IntegrityError as exc:  # same e-mail created by another link right now
            db.session.rollback()
            raise ActivationError("Este link já foi usado.") from exc
    db.session.execute(
        update(ActivationLink).where(ActivationLink.id == link.id).values(user_id=user.id)
    )
    # One account covers every approved purchase of this e-mail.
    sales = db.session.scalars(
        select(Sale).where(Sale.buyer_email == link.buyer_email, Sale.status.in_(GRANTING_STATUSES))
    ).all()
    for sale in sales:
        grant_access(user, sale)
    db.session.execute(
        update(ActivationLink)
        .where(
            ActivationLink.buyer_email == link.buyer_email,
            ActivationLink.status == LINK_PENDING,
            ActivationLink.id != link.id,
        )
        .values(status=LINK_USED, used_at=now, user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    return user, created


def reissue(
    link: ActivationLink,
    *,
    new_email: str | None = None,
    reason: str = REASON_REPLACED,
    notify: bool = True,
) -> Issued:
    """A fresh token for the same sale (resend or corrected e-mail); the old link stops working.

    The old link's queued e-mail is not sent any more (the outbox drops messages whose link was
    revoked or replaced).
    """
    sale = link.sale
    if sale.status not in GRANTING_STATUSES:
        raise ActivationError(
            "Esta compra não está mais ativa (reembolso, chargeback ou cancelamento)."
        )
    if link.status == LINK_USED and not new_email:
        raise ActivationError("Este link já foi usado: entre com sua conta.")
    email = accounts.normalize_email(new_email) if new_email else link.buyer_email
    now = utcnow()
    if link.status in (LINK_PENDING, LINK_EXPIRED):
        link.status, link.revoked_at, link.revoked_reason = LINK_REVOKED, now, reason
    if new_email:
        sale.buyer_email = email
    db.session.flush()
    issued = issue_for_sale(sale, notify=notify)
    if issued.link is not None and issued.link.id != link.id:
        link.replaced_by_id = issued.link.id
    return issued


def fresh_link(link: ActivationLink) -> Issued:
    """A new token for the operator to copy and send by hand (WhatsApp, when e-mail fails).

    Same rules as a resend (the old link stops working, a refunded purchase gets none, a buyer
    who already has an account gets the purchase on it instead), but nothing is e-mailed.
    """
    return reissue(link, notify=False)


# Revocations the buyer cannot undo with the "reenviar" button.
FINAL_REVOKE_REASONS = frozenset(
    {"refunded", "chargeback", "canceled", "subscription_canceled", "operator"}
)


def buyer_can_resend(link: ActivationLink) -> bool:
    return link.sale.status in GRANTING_STATUSES and link.revoked_reason not in (
        FINAL_REVOKE_REASONS
    )


def revoke(link: ActivationLink, reason: str = "operator") -> None:
    if link.status != LINK_PENDING:
        raise ActivationError("Só links pendentes podem ser revogados.")
    link.status, link.revoked_at, link.revoked_reason = LINK_REVOKED, utcnow(), reason


def change_email(link: ActivationLink, new_email: str) -> Issued:
    try:
        return reissue(link, new_email=new_email, reason=REASON_EMAIL_CHANGED)
    except accounts.AccountError as exc:
        raise ActivationError(str(exc)) from exc


def expire_links() -> int:
    """Mark pending links past their expiry as expired; returns how many."""
    now = utcnow()
    result = db.session.execute(
        update(ActivationLink)
        .where(ActivationLink.status == LINK_PENDING, ActivationLink.expires_at <= now)
        .values(status=LINK_EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def end_lapsed_access() -> int:
    """Revoke accesses whose paid period (after a subscription cancellation) has ended."""
    now = utcnow()
    result = db.session.execute(
        update(Access)
        .where(
            Access.status == ACCESS_ACTIVE,
            Access.access_until.is_not(None),
            Access.access_until <= now,
        )
        .values(status=ACCESS_REVOKED, revoked_at=now, revoked_reason="subscription_ended")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def member_purchases(user: User) -> list[tuple[Access, Sale]]:
    rows = db.session.execute(
        select(Access, Sale)
        .join(Sale, Access.sale_id == Sale.id)
        .where(Access.user_id == user.id)
        .order_by(Sale.created_at.desc())
    ).all()
    return [(a, s) for a, s in rows]


def search_filter(query: str):
    like = f"%{query.strip().lower()}%"
    return or_(
        db.func.lower(ActivationLink.buyer_email).like(like),
        db.func.lower(ActivationLink.buyer_name).like(like),
        ActivationLink.sale_id.in_(
            select(Sale.id).where(db.func.lower(Sale.transaction_id).like(like))
        ),
    )
