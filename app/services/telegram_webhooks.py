"""Telegram Bot API updates in: ``POST /webhook/telegram`` stored, then applied locally.

Telegram signs nothing: ``setWebhook``'s ``secret_token`` comes back in the
``X-Telegram-Bot-Api-Secret-Token`` header, compared in constant time with
``TELEGRAM_WEBHOOK_SECRET`` (missing or wrong → 401). An update is stored in the webhook inbox
(``webhook_events``, platform ``telegram``, kind ``bot``; deduplicated by ``update_id``) in one
short transaction before the 200, so it is visible and replayable on ``/webhooks``, and
applied like any event (``app.services.webhooks._outcome_values`` hands ``telegram`` rows
here): a ``chat_member`` update records the member (chat, user, names, status and the invite
link used) in ``telegram_members``; every other update is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import TelegramMember, WebhookEvent
from app.models.types import utcnow
from app.models.webhooks import EVENT_FAILED, EVENT_IGNORED, EVENT_PROCESSED, EVENT_RECEIVED
from app.services import settings as settings_service
from app.services import webhook_rows
from app.services import webhooks as inbox
from app.services.webhooks import Received
from app.sources.events import MalformedPayload
from app.sources.jsonbody import parse_json
from app.sources.values import as_int

log = logging.getLogger(__name__)

PLATFORM = "telegram"
KIND = "bot"
SECRET_KEY = "TELEGRAM_WEBHOOK_SECRET"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
NO_SECRET = (
    "TELEGRAM_WEBHOOK_SECRET não está configurado: toda entrega do Telegram é recusada. "
    "Registre o webhook com “flask --app wsgi telegram set-webhook” (gera o segredo)."
)
BAD_SECRET = "Segredo do webhook do Telegram inválido ou ausente."
JOINED = ("member", "administrator", "creator")
OUTSIDE = ("left", "kicked")


def secret_ok(given: str) -> tuple[bool, str]:
    """(accepted, reason): the header against the secret, constant time; a mismatch is
    checked once more against a fresh read (changed in another process)."""
    expected = settings_service.cached(SECRET_KEY)
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        return True, ""
    fresh = settings_service.cached(SECRET_KEY, fresh=True)
    if not fresh:
        return False, NO_SECRET
    return hmac.compare_digest(given.encode(), fresh.encode()), BAD_SECRET


def _parse(raw: bytes) -> dict[str, Any]:
    try:  # the receivers' decoder: no NaN/Infinity, nesting past the stack refused
        body = parse_json(raw)
    except MalformedPayload:
        raise ValueError("corpo não é JSON válido") from None
    update_id = body.get("update_id")
    if not isinstance(update_id, int) or as_int(update_id) is None:  # a 64-bit integer
        raise ValueError("atualização sem update_id")
    return body


def update_type(body: dict[str, Any]) -> str:
    return next((k for k in body if k != "update_id"), "unknown")[:64]


def receive(raw: bytes, headers: Mapping[str, str], remote_addr: str | None = None) -> Received:
    """Check the secret header, store the update (one short transaction), apply it inline or
    hand it to a worker. A malformed body is stored as failed and answered 400."""
    given = headers.get(HEADER) or ""
    answer = inbox.refused(PLATFORM, lambda: secret_ok(given[:300]), headers, remote_addr, log)
    if answer is not None:
        return answer
    text = raw.decode("utf-8", errors="replace")
    try:
        body: dict[str, Any] | None = _parse(raw)
        error = None
    except ValueError as exc:
        body, error = None, str(exc)
    key = (
        f"telegram:update:{body['update_id']}"
        if body
        else (f"telegram:sha256:{hashlib.sha256(raw).hexdigest()}")
    )
    member = _obj(body, "chat_member")
    values = {
        "platform": PLATFORM,
        "dedupe_key": key,
        "event_type": update_type(body) if body else "invalid",
        "kind": KIND if body else None,  # None: failed at receipt, replayed by hand only
        "transaction_id": str(_obj(member, "chat").get("id") or "")[:64] or None,
        "raw_body": text,
        "headers": inbox._kept_headers(headers),
        "auth_location": "header",
        "remote_addr": (remote_addr or "")[:64] or None,
        "status": EVENT_RECEIVED if body else EVENT_FAILED,
        "last_error": error,
    }
    return webhook_rows.store_and_dispatch(values, body is not None, error)


# ---------------------------------------------------------------------------- applying


def apply_row(row: WebhookEvent) -> str:
    """Record a ``chat_member`` update on ``telegram_members`` (no commit); others ignored."""
    from app.sources.base import MalformedPayload

    try:
        body = _parse(row.raw_body.encode("utf-8"))
    except ValueError as exc:
        raise MalformedPayload(str(exc)) from None
    update = body.get("chat_member")
    row.processed_at = utcnow()
    if not isinstance(update, dict):
        row.status, row.last_error = EVENT_IGNORED, f"atualização {update_type(body)} ignorada"
        return row.status
    note = record_member(update, row.id)
    row.status, row.last_error = (EVENT_PROCESSED, None) if note is None else (EVENT_IGNORED, note)
    return row.status


def _obj(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` when both are JSON objects, else ``{}`` (a hostile update may put a
    list, a string or a number anywhere)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _clip(value: Any, size: int) -> str | None:
    return str(value)[:size] if value not in (None, "") else None


def record_member(update: dict[str, Any], webhook_event_id: int | None) -> str | None:
    """Upsert the member of a ``ChatMemberUpdated`` → None, or why nothing was recorded."""
    chat = _obj(update, "chat")
    new = _obj(update, "new_chat_member")
    old = _obj(update, "old_chat_member")
    user = _obj(new, "user")
    chat_id, user_id = as_int(chat.get("id")), as_int(user.get("id"))  # 64-bit columns
    if chat_id is None or user_id is None:
        return "atualização sem chat ou usuário"
    status = str(new.get("status") or "member")[:16]
    member = db.session.scalar(
        select(TelegramMember).where(
            TelegramMember.chat_id == chat_id, TelegramMember.user_id == user_id
        )
    )
    if member is None:
        member = TelegramMember(chat_id=chat_id, user_id=user_id, status=status)
        db.session.add(member)
    member.chat_title = _clip(chat.get("title"), 255) or member.chat_title
    member.username = _clip(user.get("username"), 64) or member.username
    member.first_name = _clip(user.get("first_name"), 255) or member.first_name
    member.last_name = _clip(user.get("last_name"), 255) or member.last_name
    member.status = status
    member.webhook_event_id = webhook_event_id
    joined = status in JOINED or (status == "restricted" and new.get("is_member"))
    if joined and old.get("status", "left") in OUTSIDE:
        link = _obj(update, "invite_link")
        member.invite_link = _clip(link.get("invite_link"), 255)
        member.invite_link_name = _clip(link.get("name"), 64)
        try:
            member.joined_at = datetime.fromtimestamp(as_int(update.get("date")), UTC)
        except (TypeError, ValueError, OverflowError, OSError):  # absent, or past year 9999
            member.joined_at = utcnow()
        from app.services import telegram_access

        telegram_access.record_joined(member.invite_link, user_id, member.joined_at)
    return None
