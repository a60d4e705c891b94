"""What the operator's Telegram page shows: chats, members who joined, pending removals and
the bot's delivery log (notifications, invite links, removals)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, cast, func, select

from app.extensions import db
from app.models import AutomationDelivery, TelegramInvite, TelegramMember, User
from app.models.automation import DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENDING
from app.models.telegram import INVITE_ACTIVE
from app.services import access_chats
from app.services.telegram_access import STEP_REMOVE, TARGET

TARGETS = ("telegram", TARGET)
LIMIT = 50


@dataclass(frozen=True)
class ChatRow:
    chat_id: str
    title: str
    joined: int  # members who joined through their personal link and were not removed
    open_links: int  # links made, nobody joined through them yet


def chats() -> list[ChatRow]:
    """Every chat the app hands out (``access_chats.configured_chats``: the default chats and
    those of the telegram items on /acessos), titled by its item, else by the title Telegram
    gave it in the last join seen."""
    rows = []
    for chat in access_chats.configured_chats():
        chat_id = chat.chat_id
        title = chat.item_title or access_chats.seen_title(chat_id)
        counts = dict(
            db.session.execute(
                select(TelegramInvite.status, func.count())
                .where(TelegramInvite.chat_id == chat_id)
                .group_by(TelegramInvite.status)
            ).all()
        )
        joined = db.session.scalar(
            select(func.count()).where(
                TelegramInvite.chat_id == chat_id,
                TelegramInvite.joined_at.is_not(None),
                TelegramInvite.removed_at.is_(None),
            )
        )
        rows.append(ChatRow(chat_id, title or "", joined or 0, counts.get(INVITE_ACTIVE, 0)))
    return rows


def chat_titles(rows: list[ChatRow], chat_ids: Iterable[object]) -> dict[str, str]:
    """chat id → the name the Grupos table shows (``chats()``'s rows), for the other tables'
    "Grupo" column; a chat no longer configured is named by the last title seen, if any."""
    titles = {row.chat_id: row.title for row in rows if row.title}
    for chat_id in {str(c) for c in chat_ids if c not in (None, "")} - set(titles):
        title = access_chats.seen_title(chat_id)
        if title:
            titles[chat_id] = title
    return titles


def joined_members(limit: int = LIMIT) -> list[tuple[TelegramInvite, User, TelegramMember | None]]:
    member = TelegramMember
    stmt = (
        select(TelegramInvite, User, member)
        .join(User, User.id == TelegramInvite.user_id)
        .outerjoin(
            member,
            (member.user_id == TelegramInvite.telegram_user_id)
            & (cast(member.chat_id, String) == TelegramInvite.chat_id),
        )
        .where(TelegramInvite.joined_at.is_not(None))
        .order_by(TelegramInvite.joined_at.desc(), TelegramInvite.id.desc())
        .limit(limit)
    )
    return [tuple(r) for r in db.session.execute(stmt).all()]


def pending_removals(limit: int = LIMIT) -> list[AutomationDelivery]:
    return list(
        db.session.scalars(
            select(AutomationDelivery)
            .where(
                AutomationDelivery.target == TARGET,
                AutomationDelivery.step == STEP_REMOVE,
                AutomationDelivery.status.in_(
                    (DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_FAILED)
                ),
            )
            .order_by(AutomationDelivery.next_attempt_at, AutomationDelivery.id)
            .limit(limit)
        )
    )


def delivery_log(limit: int = LIMIT) -> list[AutomationDelivery]:
    return list(
        db.session.scalars(
            select(AutomationDelivery)
            .where(AutomationDelivery.target.in_(TARGETS))
            .order_by(AutomationDelivery.updated_at.desc(), AutomationDelivery.id.desc())
            .limit(limit)
        )
    )
