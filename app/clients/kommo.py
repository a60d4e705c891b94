"""Kommo API v4 client: long-lived token, account, contacts, leads, pipelines.

Wire format: PLATFORMS.md §6. Every path is under ``/api/v4`` of the account host: the
configured URL (``KOMMO_API_URL``, e.g. ``https://suaempresa.kommo.com``) or, without it, the
token's ``api_domain`` claim. The long-lived token is an RS256 JWT whose key is not published,
so its claims are only *read* (never verified) to find the host and warn before ``exp``.

There is **no** ``/deals`` endpoint: deals are ``/leads``. Lists page with ``page`` + ``limit``
(≤ 250) until a ``204 No Content`` or a page without ``_links.next``. Kommo allows 7 requests
per second and blocks (403 on everything) accounts that keep getting 429s, so the gateway is
throttled to ~5 per second, honours ``retry_after`` and never retries 401/402/403.

Size: one API's endpoints and their paging (a little over 400 lines); token helpers are in
``kommo_token.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .budget import BUDGETS, apply_budget
from .connection import ConnectionMessages, check_connection
from .errors import (
    AuthenticationError,
    ErrorInfo,
    InvalidRequestError,
    NotFoundError,
    number_of,
    text_of,
)
from .http import GatewayClient, HttpGateway
from .kommo_token import (
    API_PREFIX,
    DEFAULT_BASE_DOMAIN,
    EXPIRY_WARNING_DAYS,
    _date_br,
    base_url_for,
    expiry_status,
    jwt_claims,
    normalize_api_url,
    token_account,
    token_expiry,
)
from .results import ConnectionResult

log = logging.getLogger(__name__)

MAX_LIMIT = 250
DEFAULT_THROTTLE_PER_SECOND = BUDGETS["kommo"].pace  # declared in app.registry
WON_STATUS_ID = 142
LOST_STATUS_ID = 143

MSG_MISSING = (
    "Token do Kommo não configurado. Gere um token de longa duração (Configurações da conta → "
    "Integrações → sua integração privada → Chaves e escopos) e informe-o em Configurações."
)
MSG_NO_URL = (
    "Não foi possível descobrir a URL da conta Kommo: o token não traz o campo api_domain. "
    "Informe a URL da conta (ex.: https://suaempresa.kommo.com) em Configurações."
)
MSG_INVALID = (
    "O Kommo recusou o token (HTTP 401): ele é inválido, foi revogado ou pertence a outra conta. "
    "Gere um novo token de longa duração e atualize-o em Configurações."
)
MSG_EXPIRED = (
    "O token do Kommo expirou em {date} (HTTP 401). Gere um novo token de longa duração e "
    "atualize-o em Configurações."
)
MSG_PAYMENT = (
    "A assinatura da conta Kommo terminou (HTTP 402): a API fica indisponível até o plano ser "
    "renovado."
)
MSG_BLOCKED = (
    "O Kommo recusou o acesso (HTTP 403): a conta ou o IP foi bloqueado por excesso de "
    "requisições, ou o usuário dono do token não tem permissão de administrador. Aguarde antes "
    "de tentar de novo e confira as permissões da integração."
)
MSG_RATE_LIMITED = (
    "Limite de requisições do Kommo atingido (7 por segundo). Aguarde {wait} e tente de novo."
)
MSG_TIMEOUT = (
    "O Kommo não respondeu a tempo ({host}). Tente novamente em alguns minutos; se persistir, "
    "verifique o status do Kommo."
)
MSG_CONNECTION = (
    "Não foi possível conectar ao Kommo ({host}). Verifique a conexão com a internet, o DNS ou "
    "a URL da conta configurada."
)
MSG_UPSTREAM = (
    "O Kommo respondeu com erro interno (HTTP {status}). Tente novamente em alguns minutos."
)
MSG_INVALID_REQUEST = "O Kommo recusou a requisição (HTTP {status}): {detail}"
MSG_UNEXPECTED = "Erro inesperado ao falar com o Kommo: {detail}"
MESSAGES = ConnectionMessages(
    invalid=MSG_INVALID,
    payment=MSG_PAYMENT,
    permission=MSG_BLOCKED,
    rate_limited=MSG_RATE_LIMITED,
    timeout=MSG_TIMEOUT,
    connection=MSG_CONNECTION,
    upstream=MSG_UPSTREAM,
    invalid_request=MSG_INVALID_REQUEST,
    unexpected=MSG_UNEXPECTED,
)
MSG_OK = "Conexão com o Kommo funcionando: conta “{name}” ({subdomain})."
MSG_EXPIRES_SOON = " Atenção: o token expira em {date}; gere um novo antes disso."
MSG_EXPIRED_LOCAL = " Atenção: pela data do token, ele expirou em {date}."


# ---------------------------------------------------------------------------- error bodies


def parse_kommo_error(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """Kommo problem+json: ``{title, type, status, detail}`` (+ ``retry_after`` on 429,
    ``validation-errors`` on 400), PLATFORMS §6.6."""
    if not isinstance(body, dict) or not ("title" in body or "detail" in body):
        return None
    detail = text_of(body.get("detail")) or text_of(body.get("title"))
    problems = body.get("validation-errors")
    if isinstance(problems, list) and problems:
        parts = []
        for group in problems:
            for err in (group or {}).get("errors", []) if isinstance(group, dict) else []:
                if isinstance(err, dict):
                    parts.append(f"{err.get('path', '?')}: {err.get('detail', err.get('code'))}")
        if parts:
            detail = f"{detail}: {'; '.join(parts[:5])}"
    title = body.get("title")
    return ErrorInfo(
        code=title if isinstance(title, str) else None,
        detail=detail,
        retry_after=number_of(body.get("retry_after")),
    )


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Page:
    """One page of a Kommo list (Kommo sends no total count)."""

    items: list[dict[str, Any]]
    number: int  # 1-based
    has_next: bool


# ---------------------------------------------------------------------------- client


class KommoClient(GatewayClient):
    """Kommo API v4 client on one ``HttpGateway``.

    ``api_url`` is the account URL (``/api/v4`` appended when missing); without it the token's
    ``api_domain`` is used. Extra keyword arguments (``timeout``, ``retry_attempts``,
    ``retry_delay``, ``max_retry_after``, ``throttle_per_second``, ``session``, ``sleep``,
    ``clock``…) go to ``HttpGateway``. ``wall_clock`` (Unix seconds) dates token expiry.
    """

    def __init__(
        self,
        token: str | None,
        api_url: str | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        expiry_warning_days: int = EXPIRY_WARNING_DAYS,
        base_domain: str | None = None,
        **gateway_options: Any,
    ):
        token = (token or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        self.token = token
        self.claims = jwt_claims(token)
        self.expires_at = token_expiry(self.claims)
        self.wall_clock = wall_clock
        self.expiry_warning_days = expiry_warning_days
        self.base_domain = base_domain
        self.api_url = base_url_for(token, api_url, base_domain)  # needed by budget_account
        gateway_options.setdefault("timeout", (5.0, 30.0))
        gateway_options.setdefault("throttle_per_second", DEFAULT_THROTTLE_PER_SECOND)
        gateway_options.setdefault("error_parser", parse_kommo_error)
        apply_budget("kommo", self.budget_account, gateway_options)
        headers = dict(gateway_options.pop("default_headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        secrets = (token, *gateway_options.pop("secrets", ()))
        self.gateway = HttpGateway(
            "Kommo",
            self.api_url or "https://invalid.kommo.invalid/api/v4",
            default_headers=headers,
            secrets=secrets,
            **gateway_options,
        )
        status = self.expiry_status
        if status in ("soon", "expired"):
            log.warning(
                "Kommo long-lived token %s on %s",
                "expired" if status == "expired" else "expires soon",
                self.expires_at.date().isoformat() if self.expires_at else "?",
            )

    # ------------------------------------------------------------------ lifecycle

    @property
    def has_token(self) -> bool:
        return bool(self.token)

    @property
    def expiry_status(self) -> str | None:
        return expiry_status(self.expires_at, self.wall_clock(), self.expiry_warning_days)

    @property
    def budget_account(self) -> str:
        """The account the 7 req/s budget belongs to: the subdomain of a ``*.kommo.com`` (or
        amoCRM) URL, else the token's ``account_id``, else the host. Never the token."""
        host = urlsplit(self.api_url or "").hostname or ""
        domains = {DEFAULT_BASE_DOMAIN, "amocrm.com", "amocrm.ru", self.base_domain or ""}
        for domain in filter(None, domains):
            if host.endswith("." + domain) and not host.startswith("api-"):
                return host[: -len(domain) - 1]
        if isinstance(self.claims.get("account_id"), int):
            return f"account-{self.claims['account_id']}"
        return host or "unknown"

    @property
    def host(self) -> str:
        return urlsplit(self.api_url or "").netloc or "?"

    # ------------------------------------------------------------------ calls

    def _require(self) -> None:
        if not self.token:
            raise AuthenticationError(MSG_MISSING, code="missing_token", api="Kommo")
        if not self.api_url:
            raise InvalidRequestError(MSG_NO_URL, code="missing_url", api="Kommo")

    def get(self, path: str, params: Any = None) -> Any:
        """GET ``/api/v4{path}`` → parsed body, or None for ``204 No Content``."""
        self._require()
        return self.gateway.get(path, params=params).data

    def iter_pages(
        self, path: str, kind: str, params: Mapping[str, Any] | None = None, limit: int = MAX_LIMIT
    ) -> Iterator[Page]:
        """Every page of ``path`` (``_embedded[kind]``) until a 204 or no ``_links.next``."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        base = {k: v for k, v in (params or {}).items() if v is not None and k != "page"}
        base["limit"] = limit
        number = 0
        while True:
            number += 1
            data = self.get(path, {**base, "page": number})
            if not isinstance(data, dict):  # 204: empty list or past the last page
                return
            embedded = data.get("_embedded") if isinstance(data.get("_embedded"), dict) else {}
            items = embedded.get(kind) if isinstance(embedded.get(kind), list) else []
            links = data.get("_links") if isinstance(data.get("_links"), dict) else {}
            has_next = bool(links.get("next")) and bool(items)
            yield Page(
                items=[i for i in items if isinstance(i, dict)], number=number, has_next=has_next
            )
            if not has_next:
                return

    @staticmethod
    def _list_params(
        updated_from: int | datetime | None, query: str | None, with_: str | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if with_:
            params["with"] = with_
        if query:
            params["query"] = query
        if updated_from is not None:
            if isinstance(updated_from, datetime):
                when = updated_from if updated_from.tzinfo else updated_from.replace(tzinfo=UTC)
                updated_from = int(when.timestamp())
            params["filter[updated_at][from]"] = int(updated_from)
            params["order[updated_at]"] = "asc"
        else:
            params["order[id]"] = "asc"  # stable paging over the whole list
        return params

    def contact_pages(
        self,
        updated_from: int | datetime | None = None,
        query: str | None = None,
        limit: int = MAX_LIMIT,
        with_: str | None = None,
    ) -> Iterator[Page]:
        params = self._list_params(updated_from, query, with_)
        return self.iter_pages("/contacts", "contacts", params, limit)

    def iter_contacts(
        self,
        updated_from: int | datetime | None = None,
        query: str | None = None,
        limit: int = MAX_LIMIT,
    ) -> Iterator[dict[str, Any]]:
        for page in self.contact_pages(updated_from, query, limit):
            yield from page.items

    def lead_pages(
        self,
        updated_from: int | datetime | None = None,
        query: str | None = None,
        limit: int = MAX_LIMIT,
        with_: str | None = "contacts",
    ) -> Iterator[Page]:
        params = self._list_params(updated_from, query, with_)
        return self.iter_pages("/leads", "leads", params, limit)

    def iter_leads(
        self,
        updated_from: int | datetime | None = None,
        query: str | None = None,
        limit: int = MAX_LIMIT,
    ) -> Iterator[dict[str, Any]]:
        for page in self.lead_pages(updated_from, query, limit):
            yield from page.items

    def _by_id(self, path: str, with_: str | None) -> dict[str, Any] | None:
        try:
            data = self.get(path, {"with": with_} if with_ else None)
        except NotFoundError:
            return None
        return data if isinstance(data, dict) else None  # unknown id → 204

    def get_contact(self, contact_id: int) -> dict[str, Any] | None:
        return self._by_id(f"/contacts/{int(contact_id)}", "leads")

    def get_lead(self, lead_id: int) -> dict[str, Any] | None:
        return self._by_id(f"/leads/{int(lead_id)}", "contacts")

    def pipelines(self) -> list[dict[str, Any]]:
        """Pipelines with their statuses in ``_embedded.statuses``."""
        data = self.get("/leads/pipelines")
        embedded = data.get("_embedded") if isinstance(data, dict) else None
        items = embedded.get("pipelines") if isinstance(embedded, dict) else None
        return [p for p in items if isinstance(p, dict)] if isinstance(items, list) else []

    def account(self) -> dict[str, Any]:
        data = self.get("/account")
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ connection test

    def test_connection(self) -> ConnectionResult:
        """``GET /account`` → a result with a pt-BR message. Never raises for API failures."""
        details: dict[str, Any] = {
            "api_url": self.api_url,
            "token_expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "token_expiry": self.expiry_status,
        }
        if not self.token:
            return ConnectionResult(False, MSG_MISSING, "missing_token", details)
        if not self.api_url:
            return ConnectionResult(False, MSG_NO_URL, "missing_url", details)
        started = self.wall_clock()
        outcome = check_connection(
            self.account, MESSAGES, details, host=lambda: self.host, on_auth=self._auth_failure
        )
        if isinstance(outcome, ConnectionResult):
            return outcome
        account = outcome
        details["elapsed_ms"] = int((self.wall_clock() - started) * 1000)
        details["account"] = {
            key: account.get(key)
            for key in ("id", "name", "subdomain", "country", "currency", "currency_symbol")
        }
        message = MSG_OK.format(
            name=account.get("name") or "?", subdomain=account.get("subdomain") or self.host
        )
        status = self.expiry_status
        if status == "soon":
            message += MSG_EXPIRES_SOON.format(date=_date_br(self.expires_at))
        elif status == "expired":
            message += MSG_EXPIRED_LOCAL.format(date=_date_br(self.expires_at))
        return ConnectionResult(True, message, "ok", details)

    test_connection.__test__ = False  # type: ignore[attr-defined]

    def _auth_failure(self, exc: AuthenticationError, details: dict[str, Any]) -> ConnectionResult:
        if self.expiry_status == "expired" or "expired" in (exc.detail or "").lower():
            message = MSG_EXPIRED.format(date=_date_br(self.expires_at))
            return ConnectionResult(False, message, "token_expired", details)
        return ConnectionResult(False, MSG_INVALID, "invalid_token", details)


def is_won(status_id: Any) -> bool:
    return status_id == WON_STATUS_ID


def is_lost(status_id: Any) -> bool:
    return status_id == LOST_STATUS_ID


__all__ = [
    "API_PREFIX",
    "ConnectionResult",
    "KommoClient",
    "LOST_STATUS_ID",
    "MAX_LIMIT",
    "Page",
    "WON_STATUS_ID",
    "base_url_for",
    "expiry_status",
    "jwt_claims",
    "normalize_api_url",
    "token_account",
    "token_expiry",
]
