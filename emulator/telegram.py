"""An emulated Telegram Bot API (PLATFORMS-WRITES §4) in the real wire format.

* ``/telegram/bot<token>/<method>`` (GET or POST; JSON, form or query parameters; method names
  case-insensitive): ``getMe``, ``getChat``, ``getChatMember``, ``getChatAdministrators``,
  ``sendMessage``, ``setWebhook``, ``deleteWebhook``, ``getWebhookInfo``,
  ``createChatInviteLink``, ``revokeChatInviteLink``, ``banChatMember``, ``unbanChatMember``.
  Answers ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
  "parameters"?}`` with the HTTP status equal to ``error_code``: 401 ``Unauthorized`` for a
  wrong token, 400 ``Bad Request: chat not found``, 400 ``not enough rights …`` when the bot
  lacks ``can_invite_users`` / ``can_restrict_members``, 429 ``Too Many Requests: retry after
  N`` with ``parameters.retry_after`` over 30 requests/s per bot, 1 message/s per chat or 20
  per minute per group (``rate_limit``), or when a flood is forced.
* Control (``/_emulator/telegram``): ``GET`` the state (webhook, chats, links, sent messages,
  calls with their monotonic times and HTTP status); ``POST /config`` ``{"rate_limit": bool,
  "flood": {"count", "retry_after"}, "token"}``; ``POST /chats`` ``{"id", "title", "type", "bot":
  {"status", "can_invite_users", "can_restrict_members"}}`` adds or changes a chat;
  ``POST /join`` ``{"invite_link", "user": {"id", "first_name", "username"}}`` makes a user join
  through a link and POSTs the ``chat_member`` update to the registered webhook with the
  ``X-Telegram-Bot-Api-Secret-Token`` header (answer: the update and the webhook's status);
  ``POST /leave`` ``{"chat_id", "user_id"}`` makes a member leave (a ``left`` update, posted
  the same way); ``POST /reset``.
* ``banChatMember`` and ``unbanChatMember`` that change a member's status post the
  ``chat_member`` update Telegram sends (``kicked``, then ``left``; ``from`` the bot) to the
  registered webhook after answering, in order, from a background thread, as Telegram does;
  the state's ``deliveries`` lists how each went.
* ``python -m emulator telegram-join URL LINK --user-id N`` calls ``/join`` (``__main__``).

Unverified and simplified: setWebhook accepts http:// URLs (local tests); getChat of a chat the
bot is not in answers "chat not found" as Telegram does.
"""

from __future__ import annotations

import queue
import re
import secrets
import threading
import time
from collections import deque
from typing import Any

import requests
from flask import Blueprint, Flask, Response, current_app, request

from .wire import json_response

EXTENSION = "emulator_telegram"
DEFAULT_TOKEN = "7000000001:AAHtestEmulatorTelegramToken_0123456789"
BOT = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "VendasHub",
    "username": "vendashub_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
DEFAULT_CHAT_ID = -1001234567890
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_restrict_members",
    "can_invite_users",
    "can_pin_messages",
)
UPDATE_TIMEOUT = 10.0

bp = Blueprint("telegram", __name__, url_prefix="/telegram")
control = Blueprint("telegram_control", __name__, url_prefix="/_emulator/telegram")


class BotError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # Updates the bot's own calls cause, posted after the call answered, one at a time.
        self.outgoing: queue.Queue = queue.Queue()
        self.sender: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        self.token = DEFAULT_TOKEN
        self.rate_limit = True
        self.flood: dict[str, int] = {"count": 0, "retry_after": 0}
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None, "allowed_updates": None}
        self.chats: dict[int, dict] = {}
        self.links: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        self.updates: list[dict] = []
        self.deliveries: list[dict] = []
        self.update_id = 801018000
        self.message_id = 0
        self.windows: dict[str, deque] = {}
        self.add_chat({"id": DEFAULT_CHAT_ID, "title": "Curso X — VIP"})

    def add_chat(self, spec: dict) -> dict:
        chat_id = int(spec["id"])
        chat = self.chats.get(chat_id) or {
            "id": chat_id,
            "title": "Grupo",
            "type": "supergroup",
            "bot": {"status": "administrator", **{r: True for r in ADMIN_RIGHTS}},
            "members": {},
        }
        chat["title"] = spec.get("title", chat["title"])
        chat["type"] = spec.get("type", chat["type"])
        if isinstance(spec.get("bot"), dict):
            chat["bot"] = {**chat["bot"], **spec["bot"]}
        self.chats[chat_id] = chat
        return chat

    def limited(self, key: str, limit: int, window: float, now: float) -> int | None:
        """Seconds to wait when ``key`` had ``limit`` requests within ``window``."""
        times = self.windows.setdefault(key, deque())
        while times and now - times[0] >= window:
            times.popleft()
        if len(times) >= limit:
            return max(1, int(window - (now - times[0]) + 0.999))
        times.append(now)
        return None


def state() -> State:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = State()
    app.register_blueprint(bp)
    app.register_blueprint(control)


def _answer(result: Any) -> Response:
    return json_response({"ok": True, "result": result})


def _error(exc: BotError) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return json_response(body, exc.code)


def _params() -> dict[str, Any]:
    params: dict[str, Any] = dict(request.args.items())
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BotError(400, "Bad Request: can't parse JSON object")
        params.update(body)
    else:
        params.update(request.form.items())
    return params


def _chat(st: State, params: dict) -> dict:
    raw = params.get("chat_id")
    try:
        chat = st.chats.get(int(raw))
    except (TypeError, ValueError):
        chat = None
    if chat is None or chat["bot"].get("status") in ("left", "kicked"):
        raise BotError(400, "Bad Request: chat not found")
    return chat


def _user_id(params: dict) -> int:
    try:
        return int(params.get("user_id"))
    except (TypeError, ValueError):
        raise BotError(400, "Bad Request: invalid user_id specified") from None


def _require(chat: dict, right: str, what: str) -> None:
    bot = chat["bot"]
    if bot.get("status") == "creator":
        return
    if bot.get("status") != "administrator" or not bot.get(right):
        raise BotError(400, f"Bad Request: not enough rights to {what}")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _user(user_id: int, chat: dict) -> dict:
    known = chat["members"].get(user_id, {}).get("user")
    return known or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}


def _member(chat: dict, user_id: int) -> dict:
    if user_id == BOT["id"]:
        bot = chat["bot"]
        info = {"user": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")}}
        info["status"] = bot.get("status", "member")
        if info["status"] == "administrator":
            info["can_be_edited"] = False
            info.update({r: bool(bot.get(r)) for r in ADMIN_RIGHTS})
        return info
    entry = chat["members"].get(user_id)
    status = entry["status"] if entry else "left"
    info = {"user": _user(user_id, chat), "status": status}
    if status == "kicked":
        info["until_date"] = 0
    return info


def _public_chat(chat: dict) -> dict:
    return {"id": chat["id"], "title": chat["title"], "type": chat["type"]}


def _rate(st: State, method: str, params: dict) -> None:
    if st.flood["count"] > 0:
        st.flood["count"] -= 1
        wait = st.flood["retry_after"]
        raise BotError(429, f"Too Many Requests: retry after {wait}", wait)
    if not st.rate_limit:
        return
    now = time.monotonic()
    checks = [("bot", 30, 1.0)]
    if method == "sendmessage":
        chat = str(params.get("chat_id"))
        checks.append((f"chat:{chat}", 1, 1.0))
        if chat.startswith("-"):
            checks.append((f"group:{chat}", 20, 60.0))
    for key, limit, window in checks:
        wait = st.limited(key, limit, window, now)
        if wait is not None:
            raise BotError(429, f"Too Many Requests: retry after {wait}", wait)


# ---------------------------------------------------------------------------- methods


def get_me(st: State, p: dict) -> Any:
    return dict(BOT)


def get_chat(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    return {**_public_chat(chat), "accent_color_id": 0, "max_reaction_count": 11}


def get_chat_member(st: State, p: dict) -> Any:
    return _member(_chat(st, p), _user_id(p))


def get_chat_administrators(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    admins = [_member(chat, BOT["id"])] if chat["bot"].get("status") == "administrator" else []
    for uid, entry in chat["members"].items():
        if entry["status"] in ("administrator", "creator"):
            admins.append(_member(chat, uid))
    return admins


def send_message(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    text = str(p.get("text") or "")
    if not text.strip():
        raise BotError(400, "Bad Request: message text is empty")
    if len(text) > 4096:
        raise BotError(400, "Bad Request: message is too long")
    st.message_id += 1
    message = {
        "message_id": st.message_id,
        "from": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")},
        "chat": _public_chat(chat),
        "date": int(time.time()),
        "text": text,
    }
    st.messages.append(message)
    return message


def set_webhook(st: State, p: dict) -> Any:
    url = str(p.get("url") or "")
    token = p.get("secret_token")
    if token is not None and not SECRET_RE.match(str(token)):
        raise BotError(400, "Bad Request: secret token contains unallowed characters")
    if url and not url.startswith(("https://", "http://")):
        raise BotError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    allowed = p.get("allowed_updates")
    if isinstance(allowed, str):
        import json

        allowed = json.loads(allowed)
    st.webhook = {
        "url": url,
        "secret_token": token,
        "allowed_updates": allowed if allowed is not None else st.webhook.get("allowed_updates"),
        "max_connections": int(p.get("max_connections") or 40),
    }
    return True


def delete_webhook(st: State, p: dict) -> Any:
    st.webhook = {**st.webhook, "url": "", "secret_token": None}
    return True


def get_webhook_info(st: State, p: dict) -> Any:
    info = {"url": st.webhook["url"], "has_custom_certificate": False, "pending_update_count": 0}
    if st.webhook["url"]:
        info["max_connections"] = st.webhook.get("max_connections", 40)
        if st.webhook.get("allowed_updates"):
            info["allowed_updates"] = st.webhook["allowed_updates"]
    return info


def create_chat_invite_link(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    _require(chat, "can_invite_users", "manage chat invite link")
    name = p.get("name")
    if name is not None and len(str(name)) > 32:
        raise BotError(400, "Bad Request: invite link name is too long")
    limit = p.get("member_limit")
    join_request = _truthy(p.get("creates_join_request"))
    if limit is not None and join_request:
        raise BotError(
            400, "Bad Request: member limit can't be specified for links requiring approval"
        )
    if limit is not None and not 1 <= int(limit) <= 99999:
        raise BotError(400, "Bad Request: invalid member limit specified")
    link = {
        "invite_link": f"https://t.me/+{secrets.token_urlsafe(12)}",
        "creator": {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")},
        "creates_join_request": join_request,
        "is_primary": False,
        "is_revoked": False,
    }
    if name is not None:
        link["name"] = str(name)
    if p.get("expire_date") is not None:
        link["expire_date"] = int(p["expire_date"])
    if limit is not None:
        link["member_limit"] = int(limit)
    st.links[link["invite_link"]] = {"chat_id": chat["id"], "link": link, "joined": 0}
    return link


def revoke_chat_invite_link(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    _require(chat, "can_invite_users", "manage chat invite link")
    entry = st.links.get(str(p.get("invite_link") or ""))
    if entry is None or entry["chat_id"] != chat["id"]:
        raise BotError(400, "Bad Request: INVITE_HASH_EXPIRED")
    entry["link"]["is_revoked"] = True
    return entry["link"]


def _member_update(st: State, chat: dict, user: dict, actor: dict, old: str, new: str) -> dict:
    """A ``chat_member`` update (under the lock), kept in ``st.updates``."""
    st.update_id += 1
    update = {
        "update_id": st.update_id,
        "chat_member": {
            "chat": _public_chat(chat),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": user},
            "new_chat_member": {"status": new, "user": user},
        },
    }
    if new == "kicked":
        update["chat_member"]["new_chat_member"]["until_date"] = 0
    st.updates.append(update)
    return update


def _bot_user() -> dict:
    return {k: BOT[k] for k in ("id", "is_bot", "first_name", "username")}


def _post_later(st: State, update: dict) -> None:
    """Queue ``update`` for the registered webhook (under the lock): sent after the call that
    caused it answered, by one sender thread, in order."""
    st.outgoing.put((update, dict(st.webhook)))
    if st.sender is None or not st.sender.is_alive():
        st.sender = threading.Thread(target=_send_loop, args=(st,), daemon=True)
        st.sender.start()


def _send_loop(st: State) -> None:
    while True:
        update, hook = st.outgoing.get()
        result = deliver(update, hook)
        with st.lock:
            st.deliveries.append({"update_id": update["update_id"], **result})


def _set_status(st: State, chat: dict, entry: dict, new: str) -> None:
    old = entry["status"]
    entry["status"] = new
    if old != new:
        _post_later(st, _member_update(st, chat, entry["user"], _bot_user(), old, new))


def ban_chat_member(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    _require(chat, "can_restrict_members", "restrict/unrestrict chat member")
    uid = _user_id(p)
    entry = chat["members"].setdefault(uid, {"user": _user(uid, chat), "status": "left"})
    _set_status(st, chat, entry, "kicked")
    return True


def unban_chat_member(st: State, p: dict) -> Any:
    chat = _chat(st, p)
    _require(chat, "can_restrict_members", "restrict/unrestrict chat member")
    uid = _user_id(p)
    entry = chat["members"].get(uid)
    if entry is None:
        return True
    if entry["status"] == "kicked":
        _set_status(st, chat, entry, "left")
    elif not _truthy(p.get("only_if_banned")) and entry["status"] in ("member", "restricted"):
        _set_status(st, chat, entry, "left")  # by default unban also removes a current member
    return True


METHODS = {
    name.lower(): fn
    for name, fn in {
        "getMe": get_me,
        "getChat": get_chat,
        "getChatMember": get_chat_member,
        "getChatAdministrators": get_chat_administrators,
        "sendMessage": send_message,
        "setWebhook": set_webhook,
        "deleteWebhook": delete_webhook,
        "getWebhookInfo": get_webhook_info,
        "createChatInviteLink": create_chat_invite_link,
        "revokeChatInviteLink": revoke_chat_invite_link,
        "banChatMember": ban_chat_member,
        "unbanChatMember": unban_chat_member,
    }.items()
}


@bp.route("/bot<path:token>/<method>", methods=["GET", "POST"])
def call(token: str, method: str) -> Response:
    st = state()
    with st.lock:
        call: dict | None = None
        try:
            if not secrets.compare_digest(token.encode(), st.token.encode()):
                raise BotError(401, "Unauthorized")
            fn = METHODS.get(method.lower())
            if fn is None:
                raise BotError(404, "Not Found")
            params = _params()
            call = {"method": fn.__name__, "params": params, "at": time.monotonic(), "status": 200}
            st.calls.append(call)
            _rate(st, method.lower(), params)
            return _answer(fn(st, params))
        except BotError as exc:
            if call is not None:
                call["status"] = exc.code  # refused calls stay listed, with their error code
            return _error(exc)


# ---------------------------------------------------------------------------- control


@control.get("")
def show() -> Response:
    st = state()
    with st.lock:
        return json_response(
            {
                "webhook": st.webhook,
                "chats": [
                    {
                        **_public_chat(c),
                        "bot": c["bot"],
                        "members": {str(k): v for k, v in c["members"].items()},
                    }
                    for c in st.chats.values()
                ],
                "links": [e["link"] | {"joined": e["joined"]} for e in st.links.values()],
                "messages": st.messages,
                "calls": st.calls,
                "updates": st.updates,
                "deliveries": st.deliveries,
                "token": st.token,
            }
        )


@control.post("/config")
def configure() -> Response:
    st, body = state(), request.get_json(silent=True) or {}
    with st.lock:
        if "rate_limit" in body:
            st.rate_limit = bool(body["rate_limit"])
        if isinstance(body.get("flood"), dict):
            st.flood = {
                "count": int(body["flood"].get("count", 1)),
                "retry_after": int(body["flood"].get("retry_after", 1)),
            }
        if body.get("token"):
            st.token = str(body["token"])
        return json_response({"rate_limit": st.rate_limit, "flood": st.flood})


@control.post("/chats")
def add_chat() -> Response:
    st, body = state(), request.get_json(silent=True) or {}
    if "id" not in body:
        return json_response({"error": "id is required"}, 400)
    with st.lock:
        chat = st.add_chat(body)
        return json_response({**_public_chat(chat), "bot": chat["bot"]}, 201)


@control.post("/reset")
def reset() -> Response:
    st = state()
    with st.lock:
        st.reset()
    return json_response({"status": "reset"})


@control.post("/join")
def join() -> Response:
    """A user joins through ``invite_link``: member status, then the chat_member update."""
    st, body = state(), request.get_json(silent=True) or {}
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    if not user.get("id"):
        return json_response({"error": "user.id is required"}, 400)
    user = {"is_bot": False, "first_name": "Membro", **user, "id": int(user["id"])}
    with st.lock:
        entry = st.links.get(str(body.get("invite_link") or ""))
        if entry is None:
            return json_response({"error": "unknown invite link"}, 404)
        link = entry["link"]
        expired = link.get("expire_date") and link["expire_date"] < time.time()
        if link["is_revoked"] or expired:
            return json_response({"error": "link revoked or expired"}, 409)
        if link.get("member_limit") and entry["joined"] >= link["member_limit"]:
            return json_response({"error": "link member limit reached"}, 409)
        chat = st.chats[entry["chat_id"]]
        old = chat["members"].get(user["id"], {}).get("status", "left")
        if old == "kicked":
            return json_response({"error": "user is banned from the chat"}, 409)
        chat["members"][user["id"]] = {"user": user, "status": "member"}
        entry["joined"] += 1
        st.update_id += 1
        shown = {k: v for k, v in link.items()}
        update = {
            "update_id": st.update_id,
            "chat_member": {
                "chat": _public_chat(chat),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": user},
                "new_chat_member": {"status": "member", "user": user},
                "invite_link": shown,
            },
        }
        st.updates.append(update)
        hook = dict(st.webhook)
    delivered = deliver(update, hook)
    return json_response({"update": update, "webhook": delivered})


@control.post("/leave")
def leave() -> Response:
    """A member leaves the chat: status ``left``, then the chat_member update (from them)."""
    st, body = state(), request.get_json(silent=True) or {}
    try:
        chat_id, user_id = int(body["chat_id"]), int(body["user_id"])
    except (KeyError, TypeError, ValueError):
        return json_response({"error": "chat_id and user_id (numbers) are required"}, 400)
    with st.lock:
        chat = st.chats.get(chat_id)
        if chat is None:
            return json_response({"error": "unknown chat"}, 404)
        entry = chat["members"].get(user_id)
        if entry is None or entry["status"] not in ("member", "restricted", "administrator"):
            return json_response({"error": "user is not in the chat"}, 409)
        old, entry["status"] = entry["status"], "left"
        update = _member_update(st, chat, entry["user"], entry["user"], old, "left")
        hook = dict(st.webhook)
    delivered = deliver(update, hook)
    return json_response({"update": update, "webhook": delivered})


def deliver(update: dict, hook: dict) -> dict:
    """POST ``update`` to the registered webhook as Telegram does (only if chat_member is
    among its allowed_updates)."""
    if not hook.get("url"):
        return {"delivered": False, "reason": "no webhook set"}
    if "chat_member" not in (hook.get("allowed_updates") or []):
        return {"delivered": False, "reason": "chat_member not in allowed_updates"}
    headers = {"Content-Type": "application/json"}
    if hook.get("secret_token"):
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
    try:
        resp = requests.post(hook["url"], json=update, headers=headers, timeout=UPDATE_TIMEOUT)
    except requests.RequestException as exc:
        return {"delivered": False, "reason": type(exc).__name__}
    return {"delivered": resp.status_code < 300, "status": resp.status_code}


__all__ = ["BOT", "DEFAULT_CHAT_ID", "DEFAULT_TOKEN", "init_app"]


def cmd_join(argv: list[str]) -> int:
    """``python -m emulator telegram-join EMULATOR_URL INVITE_LINK --user-id N [--username U]
    [--first-name F]``: a user joins through the link; the emulator posts the chat_member
    update to the registered webhook."""
    import argparse
    import json as json_module

    parser = argparse.ArgumentParser(prog="python -m emulator telegram-join")
    parser.add_argument("emulator", help="the emulator's base URL, e.g. http://127.0.0.1:8099")
    parser.add_argument("invite_link")
    parser.add_argument("--user-id", type=int, required=True)
    parser.add_argument("--username")
    parser.add_argument("--first-name", default="Membro")
    args = parser.parse_args(argv)
    user = {"id": args.user_id, "first_name": args.first_name}
    if args.username:
        user["username"] = args.username
    try:
        resp = requests.post(
            f"{args.emulator.rstrip('/')}/_emulator/telegram/join",
            json={"invite_link": args.invite_link, "user": user},
            timeout=UPDATE_TIMEOUT + 5,
        )
    except requests.RequestException as exc:
        print(f"error: {exc}")
        return 1
    print(f"HTTP {resp.status_code}")
    try:
        print(json_module.dumps(resp.json(), ensure_ascii=False, indent=2))
    except ValueError:
        print(resp.text)
    return 0 if resp.ok else 1
