"""Telegram access: each member's personal invite link, and removal when access ends.

SPEC §10, issue 15. Which chats a sale grants and a member holds come from the access
catalogue (``app.services.access_chats``: ``chats_for_sale``, ``member_chats``).

* **Links.** A member holding a chat gets one ``telegram_invites`` row per chat: a link made
  with ``createChatInviteLink`` (``member_limit`` 1, an expiry of ``TELEGRAM_INVITE_DAYS``,
  named after the member). Granting access (signup, a purchase added to an account) queues
  its creation on the automation outbox (target ``telegram_access``, step ``invite``), sent
  right after the commit; /conta also creates it on demand when none exists or when it
  expired unused (the member just sees a fresh link, no button to press), and "Gerar novo
  link" re-issues it once the member who joined has left (never while they are in: a second
  account would escape a removal). A usable link stays the same on every reload.
* **Joins.** A ``chat_member`` update through one of these links (``record_joined``, called by
  ``app.services.telegram_webhooks``) records the member's Telegram user.
* **Removal.** When an access is revoked (refund, chargeback, cancellation, a subscription's
  paid period over), every chat the member no longer holds through another purchase — the
  sale's, and any they have a link to — gets one ``remove`` delivery (one per member and chat
  while waiting):
  the unused link revoked (``revokeChatInviteLink``), then ``banChatMember`` and
  ``unbanChatMember`` with ``only_if_banned`` for the Telegram user who joined, each step
  recorded on the row as it succeeds so a retry never repeats it. A 429 defers the row by
  ``retry_after`` (``app.services.automation_sender``); nothing is sent before it passes.

Size: one job (a member's links and their removal, with the outbox pusher that sends both)
in ~500 lines; the pusher is the part to move to ``telegram_access_sender.py`` when it grows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.clients.errors import APIError, InvalidRequestError, NotFoundError, RateLimitError
from app.extensions import db
from app.models import TelegramInvite, TelegramMember, User
from app.models.telegram import INVITE_ACTIVE, INVITE_PENDING, INVITE_REVOKED, INVITE_USED
from app.models.types import utcnow
from app.services import access_chats, telegram

log = logging.getLogger(__name__)

TARGET = "telegram_access"
STEP_INVITE = "invite"
STEP_REMOVE = "remove"
MAX_WAIT = 5.0  # a sender waits this long for Telegram's limits; longer: the row is deferred
DEFAULT_DAYS = 7
MSG_UNAVAILABLE = (
    "Não conseguimos gerar seu link de entrada agora (o Telegram não respondeu). "
    "Ele será criado automaticamente: recarregue esta página em alguns minutos."
)
MSG_STILL_VALID = "Seu link atual ainda vale: use-o para entrar no grupo."
MSG_NEW_LINK = "Novo link gerado. Ele é pessoal e vale para uma única entrada."
MSG_NO_CHAT = "Você não tem acesso a este grupo."
MSG_STILL_IN = (
    "Você já está no grupo. Um link novo só pode ser gerado depois que você sair dele "
    "(ele vale para uma única pessoa)."
)


def enabled() -> bool:
    return telegram.configured()


def invite_days() -> int:
    try:
        return max(1, int(current_app.config.get("TELEGRAM_INVITE_DAYS") or DEFAULT_DAYS))
    except (TypeError, ValueError):
        return DEFAULT_DAYS


def link_name(user: User) -> str:
    """Up to 32 characters (Telegram's limit) naming the member: "Maria Souza #12"."""
    suffix = f" #{user.id}"
    who = (user.name or user.email.split("@", 1)[0] or "membro").strip()
    return who[: 32 - len(suffix)].rstrip() + suffix


def _row(user_id: int, chat_id: str) -> TelegramInvite | None:
    return db.session.scalar(
        select(TelegramInvite).where(
            TelegramInvite.user_id == user_id, TelegramInvite.chat_id == chat_id
        )
    )


def _held(user_id: int) -> set[str]:
    return {c.chat_id for c in access_chats.member_chats(user_id)}


def _ensure(user_id: int, chat_id: str) -> tuple[TelegramInvite, bool]:
    """The member's row for ``chat_id`` → (row, a link must be made). A new purchase after a
    removal, or an expired link, starts a new generation."""
    row = _row(user_id, chat_id)
    if row is None:
        row = TelegramInvite(user_id=user_id, chat_id=chat_id, status=INVITE_PENDING)
        db.session.add(row)
        db.session.flush()
        return row, True
    if row.status == INVITE_PENDING:
        return row, True
    if row.status == INVITE_REVOKED or (row.status == INVITE_ACTIVE and not row.usable()):
        _new_generation(row)
        return row, True
    return row, False  # a usable link, or the member already joined through it


def _new_generation(row: TelegramInvite) -> None:
    row.generation += 1
    row.status, row.invite_link, row.expires_at, row.last_error = INVITE_PENDING, None, None, None
    row.link_created_at = row.revoked_at = row.removed_at = None
    if row.joined_at is None:
        row.telegram_user_id = None
    db.session.flush()


def _queue(step: str, subject: str, payload: dict) -> None:
    from app.services import automations

    automations._queue(step, subject, payload, target=TARGET)


def _queue_invite(row: TelegramInvite, email: str | None) -> None:
    payload = {
        "buyer_email": email,
        "user_id": row.user_id,
        "chat_id": row.chat_id,
        "invite_id": row.id,
        "generation": row.generation,
    }
    _queue(STEP_INVITE, f"{row.id}:{row.generation}", payload)


# ---------------------------------------------------------------------------- hooks


def access_granted(user: User) -> None:
    """An access was created or restored: a link for every chat still without one, made
    right after the commit (app.services.activation_links.grant_access calls this)."""
    if not enabled():
        return
    for chat in access_chats.member_chats(user.id):
        row, needed = _ensure(user.id, chat.chat_id)
        if needed:
            _queue_invite(row, user.email)


def access_revoked(user_id: int, sale) -> None:
    """An access of ``user_id`` to ``sale`` was revoked (this transaction): one removal per
    chat the sale granted that the member no longer holds."""
    if not enabled():
        return
    # The chats this sale grants under today's catalogue, and every chat the member has a
    # link or joined through one: an item edited or deleted since the purchase must not
    # keep a refunded member in the old group.
    invited = set(
        db.session.scalars(
            select(TelegramInvite.chat_id).where(
                TelegramInvite.user_id == user_id, TelegramInvite.status != INVITE_REVOKED
            )
        )
    )
    lost = (set(access_chats.chats_for_sale(sale)) | invited) - _held(user_id)
    for chat_id in sorted(lost):
        row = _row(user_id, chat_id)
        if row is None or row.status == INVITE_REVOKED:
            continue  # never had a link (or already removed): nothing to take back
        if row.status == INVITE_PENDING:  # no link made yet: none will be
            row.status, row.revoked_at = INVITE_REVOKED, utcnow()
            continue
        if _removal_waiting(user_id, chat_id):
            continue  # another purchase's revocation (same moment) already removes them
        payload = {
            "buyer_email": _email(user_id),
            "user_id": user_id,
            "chat_id": chat_id,
            "sale_id": sale.id,
            "reason": sale.status,
        }
        _queue(STEP_REMOVE, f"{sale.id}:{user_id}:{chat_id}", payload)


def _email(user_id: int) -> str | None:
    return db.session.scalar(select(User.email).where(User.id == user_id))


def record_joined(invite_link: str | None, telegram_user_id: int, when: datetime) -> None:
    """A join through ``invite_link``: the member's Telegram user, when it is one of ours.
    A join through a link whose access already ended is removed again."""
    if not invite_link:
        return
    row = db.session.scalar(select(TelegramInvite).where(TelegramInvite.invite_link == invite_link))
    if row is None:
        return
    row.telegram_user_id, row.joined_at = telegram_user_id, when
    if row.status == INVITE_ACTIVE:
        row.status = INVITE_USED
    if row.status == INVITE_REVOKED or row.chat_id not in _held(row.user_id):
        if _removal_waiting(row.user_id, row.chat_id):
            return  # the refund's removal, not sent yet, takes this user
        payload = {
            "buyer_email": _email(row.user_id),
            "user_id": row.user_id,
            "chat_id": row.chat_id,
            "telegram_user_id": telegram_user_id,
            "reason": "late_join",
        }
        _queue(STEP_REMOVE, f"late:{row.id}:{row.generation}:{telegram_user_id}", payload)


def _removal_waiting(user_id: int, chat_id: str) -> bool:
    from app.models.automation import DELIVERY_PENDING, DELIVERY_SENDING, AutomationDelivery

    escaped = str(chat_id).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    suffix = f"%:{user_id}:{escaped}"
    return (
        db.session.scalar(
            select(AutomationDelivery.id).where(
                AutomationDelivery.target == TARGET,
                AutomationDelivery.step == STEP_REMOVE,
                AutomationDelivery.status.in_((DELIVERY_PENDING, DELIVERY_SENDING)),
                AutomationDelivery.dedupe_key.like(suffix, escape="\\"),
            )
        )
        is not None
    )


def email_context(user: User | None = None, sale=None, shown=frozenset()) -> dict:
    """For the activation / "compra adicionada" e-mails: does the purchase include a
    Telegram group, and the member's links already made (``shown``: chats the e-mail's list
    of access items already names, left out here)."""
    if not enabled():
        return {"telegram_group": False, "telegram_links": []}
    chats = set(access_chats.chats_for_sale(sale)) if sale is not None else set()
    links = []
    if user is not None:
        held = [c for c in access_chats.member_chats(user.id) if c.chat_id not in shown]
        chats |= {c.chat_id for c in held}
        for chat in held:
            row = _row(user.id, chat.chat_id)
            if row is not None and row.usable():
                links.append({"title": _title(chat), "link": row.invite_link})
    return {"telegram_group": bool(chats - set(shown)), "telegram_links": links}


def member_links(user_id: int) -> dict[str, str | None]:
    """By chat id, the member's invite link that still works, or ``None`` when they already
    joined through theirs (chats with neither are left out; nothing without the bot)."""
    if not enabled():
        return {}
    rows = db.session.scalars(select(TelegramInvite).where(TelegramInvite.user_id == user_id))
    found: dict[str, str | None] = {}
    for row in rows:
        if row.usable():
            found[row.chat_id] = row.invite_link
        elif row.status == INVITE_USED:
            found[row.chat_id] = None
    return found


# ---------------------------------------------------------------------------- making links


def _create(bot, row: TelegramInvite, user: User) -> bool:
    """``createChatInviteLink`` for this generation; True when this call's link was kept.
    A twin made at the same moment (the outbox and /conta) loses and is revoked."""
    generation = row.generation
    expires = utcnow() + timedelta(days=invite_days())
    name = link_name(user)
    link = bot.create_chat_invite_link(
        row.chat_id, name=name, expire_date=int(expires.timestamp()), member_limit=1
    )
    url = str(link.get("invite_link") or "")
    if not url.startswith(("https://", "http://")):
        raise APIError("O Telegram não devolveu o link do convite.")
    kept = db.session.execute(
        update(TelegramInvite)
        .where(
            TelegramInvite.id == row.id,
            TelegramInvite.generation == generation,
            TelegramInvite.status == INVITE_PENDING,
        )
        .values(
            status=INVITE_ACTIVE,
            invite_link=url,
            name=name,
            expires_at=expires,
            link_created_at=utcnow(),
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(row)
    if kept != 1:
        try:
            bot.revoke_chat_invite_link(row.chat_id, url)
        except APIError:
            log.warning("could not revoke the surplus invite link of invite %s", row.id)
        return False
    log.info("telegram invite %s (user %s, chat %s) created", row.id, row.user_id, row.chat_id)
    return True


@dataclass
class ChatAccess:
    """One chat on /conta: the member's link (or why there is none yet)."""

    chat: access_chats.MemberChat
    invite: TelegramInvite
    error: str | None = None

    @property
    def title(self) -> str:
        return _title(self.chat)

    @property
    def state(self) -> str:
        """link (join through it), joined, waiting (not made yet, or Telegram unavailable).
        There is no "expired": ``member_chats`` replaces an expired unused link before the
        page is drawn, and while that fails the member reads why (``error``)."""
        if self.invite.usable():
            return "link"
        if self.invite.status == INVITE_USED:
            return "joined"
        return "waiting"

    @property
    def can_renew(self) -> bool:
        """ "Gerar novo link" is offered: the member joined and has since left."""
        return self.state == "joined" and not still_in_chat(self.invite)


def _title(chat: access_chats.MemberChat) -> str:
    return chat.title if chat.title and chat.title != chat.chat_id else "Grupo no Telegram"


# On-demand tries that failed (invite row and generation → monotonic time): /conta reloaded
# while Telegram is down or slow (timeouts, 5xx; a 429 already pauses the shared budget)
# waits this long before asking again (the outbox keeps trying meanwhile), so a member's
# reloads never spend the bot's budget that removals need.
ON_DEMAND_PAUSE = 60.0
_failed_on_demand: dict[tuple, float] = {}


def _attempt_key(row: TelegramInvite) -> tuple:
    return row.id, row.generation, row.created_at


def _create_now(row: TelegramInvite, user: User) -> str | None:
    """Make the link inside this request; on failure the outbox keeps trying → a message."""
    key = _attempt_key(row)
    failed = _failed_on_demand.get(key)
    if failed is not None and time.monotonic() - failed < ON_DEMAND_PAUSE:
        return MSG_UNAVAILABLE
    try:
        with telegram.client(retry_attempts=0, max_retry_after=1.0, timeout=(2.0, 5.0)) as bot:
            _create(bot, row, user)
        _failed_on_demand.pop(key, None)
        return None
    except APIError as exc:
        if not isinstance(exc, RateLimitError):  # a 429 pauses the shared budget already
            _failed_on_demand[key] = time.monotonic()
        db.session.rollback()
        row = db.session.get(TelegramInvite, row.id)
        row.last_error = exc.message[:500]
        _queue_invite(row, user.email)
        db.session.commit()
        log.warning("telegram invite %s not created on demand: %s", row.id, exc.message)
        return MSG_UNAVAILABLE


def member_chats(user: User) -> list[ChatAccess]:
    """/conta: each chat the member holds with its link, made now when none exists."""
    if not enabled():
        return []
    shown = []
    for chat in access_chats.member_chats(user.id):
        row, needed = _ensure(user.id, chat.chat_id)
        error = None
        if needed and row.status == INVITE_PENDING:
            db.session.commit()
            error = _create_now(row, user)
            row = db.session.get(TelegramInvite, row.id)
        shown.append(ChatAccess(chat, row, error))
    db.session.commit()
    return shown


def still_in_chat(row: TelegramInvite) -> bool:
    """The Telegram user who joined through this row's link is still in the chat (no
    ``left``/``kicked`` update since). A new link then would let a second account in while
    a removal would only know one of them: it is refused until they leave."""
    if row.status != INVITE_USED or row.telegram_user_id is None:
        return False
    try:
        chat = int(row.chat_id)
    except ValueError:
        return True  # an @username chat: updates name it by number; assume still in
    status = db.session.scalar(
        select(TelegramMember.status).where(
            TelegramMember.chat_id == chat, TelegramMember.user_id == row.telegram_user_id
        )
    )
    return status not in ("left", "kicked")


def regenerate(user: User, chat_id: str) -> tuple[bool, str]:
    """ "Gerar novo link": a new link once the member who joined through the current one
    has left the chat (an expired unused link is already replaced by ``member_chats``)."""
    if not enabled() or chat_id not in _held(user.id):
        return False, MSG_NO_CHAT
    row, _ = _ensure(user.id, chat_id)
    if row.usable():
        return False, MSG_STILL_VALID
    if still_in_chat(row):
        return False, MSG_STILL_IN
    if row.status != INVITE_PENDING:
        _new_generation(row)
    db.session.commit()
    error = _create_now(row, user)
    return (False, error) if error else (True, MSG_NEW_LINK)


# ---------------------------------------------------------------------------- sender


def stale_reason(d) -> str | None:
    """Why a claimed ``telegram_access`` delivery must not be sent any more (shown in its
    delivery log), or ``None``; run by the automation sender in the claiming transaction. An
    invite for a purchase refunded or revoked, or replaced by a newer link, is never made; a
    removal of a member who holds the chat again through another purchase is dropped."""
    p = d.payload or {}
    if d.step == STEP_INVITE:
        row = db.session.get(TelegramInvite, p.get("invite_id")) if p.get("invite_id") else None
        if row is None or row.generation != p.get("generation"):
            return "Link substituído por um mais novo."
        if row.chat_id not in _held(row.user_id):
            return "Compra reembolsada ou acesso revogado antes do envio: nenhum link criado."
        if row.status != INVITE_PENDING:
            return "O link já existe."
        return None
    if p.get("chat_id") in _held(p.get("user_id")):
        return "O membro voltou a ter acesso a este grupo por outra compra."
    return None


class TelegramAccessPusher:
    """The automation sender's pusher for target ``telegram_access``."""

    def __init__(self) -> None:
        # A long 429 is not slept here: the row is deferred by retry_after instead.
        self.client = telegram.client(max_retry_after=MAX_WAIT)

    def close(self) -> None:
        self.client.close()

    def pause(self, seconds: float) -> None:
        try:
            self.client.gateway.throttle.pause_for(seconds)
        except Exception:  # a budget store down must not lose the delivery's state
            log.exception("could not pause the Telegram budget")

    def deliver(self, d):
        if d.step == STEP_INVITE:
            return self._invite(d)
        return self._remove(d)

    def _invite(self, d):
        # Still worth making: checked by ``stale_reason`` in the claiming transaction.
        row = db.session.get(TelegramInvite, (d.payload or {}).get("invite_id"))
        user = db.session.get(User, row.user_id)
        _create(self.client, row, user)
        return None

    def _remove(self, d):
        p = dict(d.payload or {})
        user_id, chat_id = p["user_id"], p["chat_id"]
        row = _row(user_id, chat_id)
        if row is not None and not p.get("link_revoked"):
            if row.invite_link and row.status == INVITE_ACTIVE:
                try:
                    self.client.revoke_chat_invite_link(chat_id, row.invite_link)
                except (InvalidRequestError, NotFoundError) as exc:  # expired or gone already
                    log.info("invite %s already unusable: %s", row.id, exc.message)
            if row.status != INVITE_REVOKED:
                row.status, row.revoked_at = INVITE_REVOKED, utcnow()
            p["link_revoked"] = True
            self._record(d, p)
        who = p.get("telegram_user_id") or (row.telegram_user_id if row is not None else None)
        if not who:
            return None  # never joined: revoking the link was all there was to do
        p["telegram_user_id"] = int(who)
        if not p.get("banned"):
            self.client.ban_chat_member(chat_id, int(who))
            p["banned"] = True
            self._record(d, p)
        if not p.get("unbanned"):
            self.client.unban_chat_member(chat_id, int(who), only_if_banned=True)
            p["unbanned"] = True
            if row is not None:
                row.removed_at = utcnow()
            self._record(d, p)
        log.info("telegram user of member %s removed from chat %s", user_id, chat_id)
        return None

    @staticmethod
    def _record(d, payload: dict) -> None:
        """Keep each step done before the next can fail (the row stays leased)."""
        d.payload = dict(payload)
        db.session.commit()
