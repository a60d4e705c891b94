"""Which Telegram chats a sale grants and a member holds.

STUB with the access catalogue's contract (issue 15; the ``access`` slice replaces the bodies):
every product grants the default chats (``TELEGRAM_CHAT_ID``). Telegram access delivery
(``app.services.telegram_access``) calls only these two functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Access, Sale
from app.models.sales import ACCESS_ACTIVE
from app.services import telegram


@dataclass(frozen=True)
class MemberChat:
    chat_id: str
    title: str  # chat title, or the chat id when unknown
    product_names: tuple[str, ...]


def chats_for_sale(sale) -> list[str]:
    """The chats this sale grants (stub: the default chats)."""
    return list(telegram.chat_ids())


def member_chats(user_id: int) -> list[MemberChat]:
    """The chats the member holds through an ACTIVE access (stub: the default chats)."""
    names = db.session.scalars(
        select(Sale.product_name)
        .join(Access, Access.sale_id == Sale.id)
        .where(Access.user_id == user_id, Access.status == ACCESS_ACTIVE)
    ).all()
    if not names:
        return []
    products = tuple(dict.fromkeys(n for n in names if n))
    return [MemberChat(chat, chat, products) for chat in telegram.chat_ids()]
