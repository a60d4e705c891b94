"""Activation links: issue, open, redeem, resend, revoke, correct e-mail, expire; and access.

The use cases; their building blocks (URLs, lookups, a new link and its e-mail, granting
access) are in ``app.services.activation_links`` and re-exported here.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

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
from app.services.activation_links import (  # noqa: F401 - re-exported
    ActivationError,
    Issued,
    _access_context,
    _has_product_access_or_link,
    _link_days,
    _new_link,
    _pending_link,
    _products_label,
    _purchase_filter,
    _queue_activation_email,
    activation_url,
    find_by_token,
    grant_access,
    purchase_products,
    purchase_sales,
)

log = logging.getLogger(__name__)


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
                    **_access_context(sales, user=user, sale=sale),
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
            _telegram_revoked(access.user_id, sale)
    if until is None or until <= now:
        pending = (ActivationLink.sale_id == sale.id, ActivationLink.status == LINK_PENDING)
        heir = _link_heir(sale)
        if heir is not None:
            # An order bump refunded alone whose approval came first (Hotmart sends one
            # transaction per product, in any order): the purchase's one link now stands for
            # the products still paid, and the buyer keeps it.
            db.session.execute(
                update(ActivationLink)
                .where(*pending)
                .values(sale_id=heir.id, product_id=heir.product_id, product_name=heir.product_name)
            )
        else:
            db.session.execute(
                update(ActivationLink)
                .where(*pending)
                .values(status=LINK_REVOKED, revoked_at=now, revoked_reason=reason)
            )


def _link_heir(sale: Sale) -> Sale | None:
    """For a product bought with a main one (an order bump, a bundle item): the purchase's
    sale that still grants access, the main product first; ``None`` for a main sale (its
    refund revokes the whole purchase) or when nothing of the purchase is paid any more."""
    if not sale.parent_transaction_id:
        return None
    others = [
        other
        for other in purchase_sales(sale)
        if other.id != sale.id
        and other.status in GRANTING_STATUSES
        and other.buyer_email == sale.buyer_email
    ]
    others.sort(key=lambda other: other.parent_transaction_id is not None)
    return others[0] if others else None


def _telegram_revoked(user_id: int, sale: Sale) -> None:
    """Removal from the chats this sale granted that the member no longer holds."""
    from app.services import telegram_access

    telegram_access.access_revoked(user_id, sale)


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
    lapsed = (
        Access.status == ACCESS_ACTIVE,
        Access.access_until.is_not(None),
        Access.access_until <= now,
    )
    ended = db.session.execute(select(Access.user_id, Access.sale_id).where(*lapsed)).all()
    result = db.session.execute(
        update(Access)
        .where(*lapsed)
        .values(status=ACCESS_REVOKED, revoked_at=now, revoked_reason="subscription_ended")
        .execution_options(synchronize_session=False)
    )
    for user_id, sale_id in ended:
        _telegram_revoked(user_id, db.session.get(Sale, sale_id))
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
