"""What each sale grants from the access catalogue, told to the buyer and to the operator.

* **E-mails** (``email_context``): the activation and "compra adicionada" e-mails list the
  items of the purchase's sales that still give access (a bump's items too), each once:
  member-area links with their instructions, downloads, and Telegram groups with the member's
  personal link when one is already made, else where to find it (Minha conta). Sales whose
  product is not mapped add nothing (the e-mail names the product, as before the catalogue).
* **Operator pages** (``sale_grants``): per sale, the items it granted and whether they are
  still held — active, revoked with the sale's refund, or kept through another purchase of
  the same member (``access_catalogue.items_lost``'s rule), or waiting for the buyer's signup.

Items come from the sale's rule as it is now (``access_catalogue.rules_for_sales``), the same
source the revocation reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Access, AccessItem, Sale
from app.models.access_catalogue import KIND_TELEGRAM
from app.models.sales import ACCESS_ACTIVE, GRANTING_STATUSES
from app.models.types import utcnow
from app.services import access_catalogue

# --- E-mails ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailItem:
    """One line of "o que a sua compra inclui"."""

    kind: str
    title: str
    url: str | None  # http(s) only (anything else is not linked)
    instructions: str
    invite_link: str | None = None  # telegram: the member's personal link, when made
    joined: bool = False  # telegram: the member already joined through their link


def _safe_url(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def purchase_items(sales: list[Sale]) -> list[AccessItem]:
    """The items the purchase's granting sales give, each once, in the sales' order."""
    granting = [s for s in sales if s.status in GRANTING_STATUSES]
    rules = access_catalogue.rules_for_sales(granting)
    found: dict[int, AccessItem] = {}
    for sale in granting:
        rule = rules[sale.id]
        for item in rule.items if rule is not None else ():
            found.setdefault(item.id, item)
    return list(found.values())


def email_context(sales: list[Sale], user=None, sale: Sale | None = None) -> dict:
    """``access_items`` for email/_access_items.*, and the Telegram lines of the chats these
    items do not already name (email/_telegram.*: the default chats of unmapped products)."""
    from app.services import telegram_access

    items = purchase_items(sales)
    links = telegram_access.member_links(user.id) if user is not None else {}
    mail_items = [
        MailItem(
            kind=item.kind,
            title=item.title,
            url=_safe_url(item.url),
            instructions=(item.instructions or "").strip(),
            invite_link=links.get(item.chat_id) if item.kind == KIND_TELEGRAM else None,
            joined=item.kind == KIND_TELEGRAM and item.chat_id in links and not links[item.chat_id],
        )
        for item in items
    ]
    shown = {item.chat_id for item in items if item.kind == KIND_TELEGRAM and item.chat_id}
    return {
        "access_items": mail_items,
        **telegram_access.email_context(user=user, sale=sale, shown=shown),
    }


# --- Operator pages ---------------------------------------------------------------------------

HELD = "held"  # the sale's access is active
KEPT = "kept"  # revoked with this sale, still held through another purchase
REVOKED = "revoked"  # revoked with this sale and held no more
WAITING = "waiting"  # the buyer has not created the account yet (no access)
NOT_GRANTED = "not_granted"  # no access and the sale no longer grants (refunded first)


@dataclass
class GrantedItem:
    item: AccessItem
    state: str
    reason: str | None = None  # the access's revoked_reason (refunded, chargeback…)
    when: datetime | None = None  # revoked at
    until: datetime | None = None  # a canceled subscription's paid period


@dataclass
class SaleGrants:
    mapped: bool  # False: the product has no rule (it grants the product itself)
    items: list[GrantedItem] = field(default_factory=list)


def sale_grants(sales: list[Sale]) -> dict[int, SaleGrants]:
    """The items each sale granted and their state, in a few queries for the whole list."""
    sales = list(sales)
    if not sales:
        return {}
    rules = access_catalogue.rules_for_sales(sales)
    accesses: dict[int, list[Access]] = {}
    for access in db.session.scalars(
        select(Access).where(Access.sale_id.in_([s.id for s in sales])).order_by(Access.id)
    ):
        accesses.setdefault(access.sale_id, []).append(access)
    held_by: dict[int, set[int]] = {}  # user id → item ids held now (read once per member)
    now = utcnow()
    result = {}
    for sale in sales:
        rule = rules[sale.id]
        if rule is None:
            result[sale.id] = SaleGrants(mapped=False)
            continue
        mine = accesses.get(sale.id, [])
        active = next((a for a in mine if _active(a, now)), None)
        ended = next((a for a in mine if not _active(a, now)), None)
        grants = SaleGrants(mapped=True)
        for item in rule.items:
            if active is not None:
                grants.items.append(GrantedItem(item, HELD, until=active.access_until))
            elif ended is not None:
                if ended.user_id not in held_by:
                    held_by[ended.user_id] = {
                        i.id for i in access_catalogue.member_items(ended.user_id)
                    }
                state = KEPT if item.id in held_by[ended.user_id] else REVOKED
                reason = ended.revoked_reason or sale.status
                when = ended.revoked_at or ended.access_until
                grants.items.append(GrantedItem(item, state, reason=reason, when=when))
            elif sale.status in GRANTING_STATUSES:
                grants.items.append(GrantedItem(item, WAITING))
            else:
                grants.items.append(GrantedItem(item, NOT_GRANTED, reason=sale.status))
        result[sale.id] = grants
    return result


def _active(access: Access, now: datetime) -> bool:
    return access.status == ACCESS_ACTIVE and (
        access.access_until is None or access.access_until > now
    )
