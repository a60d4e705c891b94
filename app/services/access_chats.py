"""Telegram chats of the access catalogue: the contract the Telegram delivery reads.

A sale grants the chats of its product's telegram items (``app.services.access_catalogue``);
a product without a telegram item grants the default chats (``TELEGRAM_CHAT_ID``,
``telegram.chat_ids()``). Revocation computes
``set(chats_for_sale(sale)) - {c.chat_id for c in member_chats(user_id)}`` after the sale's
access is revoked: a chat another active purchase still grants stays.

``configured_chats()`` is every chat the app may hand out (the default chats and the chats of
the telegram items on /acessos, each once): the connection test checks them and the /telegram
page lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, select

from app.extensions import db
from app.models import AccessItem, Sale, TelegramMember
from app.models.access_catalogue import KIND_TELEGRAM
from app.services import access_catalogue, telegram


@dataclass(frozen=True)
class MemberChat:
    chat_id: str
    title: str  # item title, or the chat id when unknown
    product_names: tuple[str, ...]


@dataclass(frozen=True)
class ConfiguredChat:
    chat_id: str
    item_title: str  # the oldest telegram item naming the chat; "" when only a default chat
    default: bool  # listed in TELEGRAM_CHAT_ID


def configured_chats() -> list[ConfiguredChat]:
    """The default chats (``TELEGRAM_CHAT_ID``, in their order), then the chats of the telegram
    access items (oldest item first), each chat id once."""
    titles: dict[str, str] = {}
    rows = db.session.execute(
        select(AccessItem.chat_id, AccessItem.title)
        .where(AccessItem.kind == KIND_TELEGRAM, AccessItem.chat_id.is_not(None))
        .order_by(AccessItem.id)
    ).all()
    for chat_id, title in rows:
        if chat_id.strip():
            titles.setdefault(chat_id.strip(), title or "")
    defaults = telegram.chat_ids()
    return [
        ConfiguredChat(c, titles.get(c, ""), c in defaults)
        for c in dict.fromkeys([*defaults, *titles])
    ]


def _chats(rule) -> list[str]:
    items = rule.items if rule is not None else []
    chats = [i.chat_id for i in items if i.kind == KIND_TELEGRAM and i.chat_id]
    return list(dict.fromkeys(chats)) or list(telegram.chat_ids())


def chats_for_sale(sale: Sale) -> list[str]:
    """Telegram chat ids the sale grants: its product's telegram items; when its product has
    no telegram item, the default chats of telegram.chat_ids() (TELEGRAM_CHAT_ID)."""
    return _chats(access_catalogue.rule_for(sale))


def member_chats(user_id: int) -> list[MemberChat]:
    """Chats the member holds now through any ACTIVE access (same fallback), one per chat id."""
    sales = access_catalogue.active_sales(user_id)
    rules = access_catalogue.rules_for_sales(sales)
    products: dict[str, list[str]] = {}
    for sale in sales:
        for chat_id in _chats(rules[sale.id]):
            names = products.setdefault(chat_id, [])
            name = sale.product_name or sale.product_id or ""
            if name and name not in names:
                names.append(name)
    if not products:
        return []
    titles = dict(
        db.session.execute(
            select(AccessItem.chat_id, AccessItem.title)
            .where(AccessItem.kind == KIND_TELEGRAM, AccessItem.chat_id.in_(products))
            .order_by(AccessItem.id.desc())  # the oldest item's title wins (last in the dict)
        ).all()
    )
    return [
        MemberChat(chat_id=c, title=titles.get(c) or seen_title(c) or c, product_names=tuple(names))
        for c, names in products.items()
    ]


def seen_title(chat_id: str) -> str | None:
    """The title Telegram gave the chat in the last join or leave seen (None: none seen)."""
    return db.session.scalar(
        select(TelegramMember.chat_title)
        .where(cast(TelegramMember.chat_id, String) == str(chat_id))
        .order_by(TelegramMember.updated_at.desc())
        .limit(1)
    )
