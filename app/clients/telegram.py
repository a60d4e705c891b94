"""Telegram Bot API client: ``{api_url}/bot<token>/<method>`` with JSON bodies.

Wire format: PLATFORMS-WRITES.md §4. Success is ``{"ok": true, "result": …}``; an error is
``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}`` with the HTTP
status equal to ``error_code`` (401 bad token, 400 "chat not found", 403 bot kicked, 429 flood
control). The token travels in the URL path, so the gateway knows it as a secret: every log
line and error shows ``/bot••••••wxyz/getMe`` (``app.logs.mask``), never the token.

Limits (§4.6, undocumented and dynamic): about 30 requests per second per bot, 1 message per
second per chat and 20 per minute per group. The shared ``telegram`` rate budget paces every
call of one bot (keyed by a hash of the token); a 429 pauses it for every process for
``retry_after`` seconds, and no retry is sent before that.

The connection test (``check_chat``) tells the operator, in pt-BR, whether the bot is an
administrator of each configured chat with the invite and ban rights access delivery needs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .budget import BUDGETS, apply_budget, hashed
from .connection import ConnectionMessages, check_connection
from .errors import (
    APIError,
    ErrorInfo,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    UpstreamError,
    number_of,
    text_of,
)
from .http import HttpGateway
from .results import ConnectionResult

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_THROTTLE_PER_SECOND = BUDGETS["telegram"].pace  # declared in app.registry
# Updates the webhook asks for: chat_member is only sent when listed explicitly (§4.4).
ALLOWED_UPDATES = ("message", "my_chat_member", "chat_member", "chat_join_request")
ADMIN_STATUSES = ("administrator", "creator")

MSG_MISSING = (
    "Token do bot do Telegram não configurado. Crie um bot com o @BotFather e informe o token "
    "em Configurações."
)
MESSAGES = ConnectionMessages(
    invalid=(
        "O Telegram recusou o token do bot (HTTP 401): ele está errado ou foi revogado no "
        "@BotFather. Copie o token de novo e atualize-o em Configurações."
    ),
    permission="O Telegram recusou o acesso (HTTP {status}): {detail}",
    rate_limited="Limite de requisições do Telegram atingido. Aguarde {wait} e tente de novo.",
    timeout="O Telegram não respondeu a tempo ({host}). Tente novamente em alguns minutos.",
    connection=(
        "Não foi possível conectar ao Telegram ({host}). Verifique a conexão com a internet ou "
        "a URL da API configurada."
    ),
    upstream="O Telegram respondeu com erro interno (HTTP {status}). Tente mais tarde.",
    invalid_request="O Telegram recusou a requisição (HTTP {status}): {detail}",
    unexpected="Erro inesperado ao falar com o Telegram: {detail}",
    not_found="O Telegram não encontrou o recurso (HTTP 404): confira a URL da API.",
)
MSG_OK = "Bot @{username} conectado."
MSG_CHAT_NOT_FOUND = (
    "O grupo {chat} não foi encontrado: confira o id (no formato -100…) e se o bot foi "
    "adicionado a ele."
)
MSG_NOT_ADMIN = (
    "O bot não é administrador do grupo “{title}” ({chat}). No Telegram, abra o grupo › "
    "Administradores › Adicionar administrador, escolha @{bot} e ative "
    "“Convidar usuários via link” e “Banir usuários”."
)
MSG_MISSING_RIGHTS = (
    "No grupo “{title}” ({chat}) falta ao bot: {rights}. No Telegram, abra o grupo › "
    "Administradores › @{bot} e ative {switches}."
)
MSG_NAMED = "Item “{name}” de Acessos — {text}"
MSG_NO_CHAT = (
    "Nenhum grupo configurado: informe o grupo em Configurações → Telegram ou crie um item "
    "de Telegram em Acessos."
)
MSG_CHAT_OK = "Grupo “{title}” ({chat}): o bot é administrador e pode convidar e remover membros."
# Each right the bot needs: what it is for, and the switch's name in Telegram's admin screen.
RIGHTS = {
    "can_invite_users": (
        "a permissão de convidar usuários (links de convite)",
        "“Convidar usuários via link”",
    ),
    "can_restrict_members": (
        "a permissão de banir usuários (remover quem teve reembolso, chargeback ou cancelamento)",
        "“Banir usuários”",
    ),
}


def parse_telegram_error(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}``."""
    if not isinstance(body, dict) or body.get("ok") is not False:
        return None
    description = text_of(body.get("description"))
    params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    cls: type[APIError] | None = None
    lowered = (description or "").lower()
    if status == 400 and "not found" in lowered:
        cls = NotFoundError  # "Bad Request: chat not found", "user not found"
    elif status == 400 and ("not enough rights" in lowered or "admin_required" in lowered):
        cls = PermissionDeniedError
    return ErrorInfo(
        code=str(body.get("error_code") or status),
        detail=description,
        error_class=cls,
        retry_after=number_of(params.get("retry_after")),
    )


@dataclass(frozen=True)
class ChatCheck:
    """What the connection test found about one configured chat."""

    chat_id: str
    ok: bool
    message: str
    title: str = ""
    missing: tuple[str, ...] = field(default=())


class TelegramClient:
    """One bot on one ``HttpGateway``. Extra keyword arguments (``timeout``,
    ``retry_attempts``, ``max_retry_after``, ``throttle_per_second``, ``sleep``, ``clock``,
    ``budget_store``…) go to the gateway."""

    def __init__(self, token: str | None, api_url: str | None = None, **gateway_options: Any):
        self.token = (token or "").strip()
        self.api_url = (api_url or DEFAULT_API_URL).strip().rstrip("/")
        gateway_options.setdefault("timeout", (5.0, 15.0))
        gateway_options.setdefault("throttle_per_second", DEFAULT_THROTTLE_PER_SECOND)
        gateway_options.setdefault("error_parser", parse_telegram_error)
        apply_budget("telegram", hashed(self.token), gateway_options)
        secrets = (self.token, *gateway_options.pop("secrets", ()))
        self.gateway = HttpGateway(
            "Telegram",
            f"{self.api_url}/bot{self.token or 'missing'}",
            secrets=secrets,
            **gateway_options,
        )
        self._me: dict | None = None

    @property
    def has_token(self) -> bool:
        return bool(self.token)

    def close(self) -> None:
        self.gateway.close()

    def __enter__(self) -> TelegramClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def call(self, method: str, **params: Any) -> Any:
        """POST ``method`` with the non-None ``params`` as JSON → its ``result``."""
        body = {k: v for k, v in params.items() if v is not None}
        resp = self.gateway.post(method, json=body)
        data = resp.data
        if not isinstance(data, dict) or data.get("ok") is not True:
            info = parse_telegram_error(resp.status, data, resp.headers) or ErrorInfo()
            raise UpstreamError(
                api="Telegram",
                status=resp.status,
                code=info.code,
                detail=info.detail or "resposta sem ok=true",
                method="POST",
                url=resp.url,
                retryable=False,
            )
        return data.get("result")

    # ------------------------------------------------------------------ methods

    def get_me(self) -> dict:
        self._me = self.call("getMe")
        return self._me

    def get_chat(self, chat_id: int | str) -> dict:
        return self.call("getChat", chat_id=chat_id)

    def get_chat_member(self, chat_id: int | str, user_id: int) -> dict:
        return self.call("getChatMember", chat_id=chat_id, user_id=user_id)

    def get_chat_administrators(self, chat_id: int | str) -> list[dict]:
        return self.call("getChatAdministrators", chat_id=chat_id)

    def send_message(self, chat_id: int | str, text: str, **options: Any) -> dict:
        return self.call("sendMessage", chat_id=chat_id, text=text[:4096], **options)

    def set_webhook(
        self,
        url: str,
        secret_token: str | None = None,
        allowed_updates: tuple[str, ...] | list[str] = ALLOWED_UPDATES,
        drop_pending_updates: bool | None = None,
        max_connections: int | None = None,
    ) -> bool:
        return self.call(
            "setWebhook",
            url=url,
            secret_token=secret_token,
            allowed_updates=list(allowed_updates),
            drop_pending_updates=drop_pending_updates,
            max_connections=max_connections,
        )

    def delete_webhook(self, drop_pending_updates: bool | None = None) -> bool:
        return self.call("deleteWebhook", drop_pending_updates=drop_pending_updates)

    def get_webhook_info(self) -> dict:
        return self.call("getWebhookInfo")

    def create_chat_invite_link(
        self,
        chat_id: int | str,
        *,
        name: str | None = None,
        expire_date: int | None = None,
        member_limit: int | None = None,
        creates_join_request: bool | None = None,
    ) -> dict:
        return self.call(
            "createChatInviteLink",
            chat_id=chat_id,
            name=name[:32] if name else None,
            expire_date=expire_date,
            member_limit=member_limit,
            creates_join_request=creates_join_request,
        )

    def revoke_chat_invite_link(self, chat_id: int | str, invite_link: str) -> dict:
        return self.call("revokeChatInviteLink", chat_id=chat_id, invite_link=invite_link)

    def ban_chat_member(
        self, chat_id: int | str, user_id: int, until_date: int | None = None
    ) -> bool:
        return self.call("banChatMember", chat_id=chat_id, user_id=user_id, until_date=until_date)

    def unban_chat_member(
        self, chat_id: int | str, user_id: int, only_if_banned: bool = True
    ) -> bool:
        return self.call(
            "unbanChatMember", chat_id=chat_id, user_id=user_id, only_if_banned=only_if_banned
        )

    # ------------------------------------------------------------------ connection test

    def check_chat(self, chat_id: str) -> ChatCheck:
        """getChat + getChatMember(bot): an admin with invite and ban rights?"""
        me = self._me or self.get_me()
        bot = me.get("username") or me.get("first_name") or "seu bot"
        try:
            chat = self.get_chat(chat_id)
        except (NotFoundError, InvalidRequestError, PermissionDeniedError) as exc:
            if isinstance(exc, PermissionDeniedError) or exc.status == 403:
                text = MSG_NOT_ADMIN.format(title=chat_id, chat=chat_id, bot=bot)
                return ChatCheck(chat_id, False, text)
            return ChatCheck(chat_id, False, MSG_CHAT_NOT_FOUND.format(chat=chat_id))
        title = chat.get("title") or chat.get("username") or str(chat_id)
        member = self.get_chat_member(chat_id, int(me["id"]))
        values = {"title": title, "chat": chat_id, "bot": bot}
        if member.get("status") not in ADMIN_STATUSES:
            return ChatCheck(chat_id, False, MSG_NOT_ADMIN.format(**values), title)
        if member.get("status") == "creator":
            return ChatCheck(chat_id, True, MSG_CHAT_OK.format(**values), title)
        missing = tuple(right for right in RIGHTS if not member.get(right))
        if chat.get("type") == "channel":  # channels: banning is always allowed (§4.5)
            missing = tuple(r for r in missing if r != "can_restrict_members")
        if missing:
            rights = " e ".join(RIGHTS[r][0] for r in missing)
            switches = " e ".join(RIGHTS[r][1] for r in missing)
            text = MSG_MISSING_RIGHTS.format(rights=rights, switches=switches, **values)
            return ChatCheck(chat_id, False, text, title, missing)
        return ChatCheck(chat_id, True, MSG_CHAT_OK.format(**values), title)

    def test_connection(
        self, chat_ids: tuple[str, ...] = (), names: dict[str, str] | None = None
    ) -> ConnectionResult:
        """getMe, then each chat; one ``ConnectionResult`` in pt-BR. Never raises.
        ``names``: chat id → what the operator calls it (an access item), said before it."""
        names = names or {}
        details: dict[str, Any] = {"chats": []}
        if not self.token:
            return ConnectionResult(False, MSG_MISSING, "not_configured", details)

        def probe() -> ConnectionResult:
            me = self.get_me()
            details["bot"] = {"id": me.get("id"), "username": me.get("username")}
            lines = [MSG_OK.format(username=me.get("username") or me.get("first_name"))]
            ok = True
            for chat_id in chat_ids:
                check = self.check_chat(chat_id)
                details["chats"].append(
                    {
                        "chat_id": chat_id,
                        "ok": check.ok,
                        "title": check.title,
                        "missing": list(check.missing),
                        "message": check.message,
                        "name": names.get(chat_id, ""),
                    }
                )
                ok = ok and check.ok
                name = names.get(chat_id)
                lines.append(
                    MSG_NAMED.format(name=name, text=check.message) if name else check.message
                )
            if not chat_ids:
                lines.append(MSG_NO_CHAT)
            code = "ok" if ok else "chat_problem"
            return ConnectionResult(ok, " ".join(lines), code, details, lines=tuple(lines))

        return check_connection(
            probe,
            MESSAGES,
            details,
            host=lambda: self.api_url.split("://", 1)[-1].split("/", 1)[0],
            url=self.api_url,
        )


__all__ = [
    "ALLOWED_UPDATES",
    "ChatCheck",
    "DEFAULT_API_URL",
    "TelegramClient",
    "parse_telegram_error",
]
