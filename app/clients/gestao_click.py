"""Gestão Click API client: vendas, clientes, produtos, situações de venda, lojas.

Wire format: PLATFORMS.md §7. Every request carries the ``access-token`` and
``secret-access-token`` headers; lists page with ``pagina`` while ``meta.proxima_pagina`` is not
null (at most 100 records a page, the page size is not ours to choose). Nearly every field is a
string (``"1500.00"``, ``"1"``). Errors, validation errors included, come back as
``{"code": 404, "status": "error", "data": {"erro": …, "mensagem": …}}``: a 404 whose
``mensagem`` does not say "não encontrado" is a validation error (``InvalidRequestError``).

Limits: 3 requests per second and 30,000 per day per company. The client spaces requests
(2 per second by default) and counts every attempt in a per-process daily counter
(``usage()``), keyed by the São Paulo calendar day, like the platform's budget.

Size: one API's endpoints and their paging (a little over 400 lines).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.plurals import plural

from .budget import BUDGETS, apply_budget
from .connection import ConnectionMessages, check_connection
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ErrorInfo,
    InvalidRequestError,
    text_of,
)
from .gestao_click_usage import (
    DAILY_LIMIT,
    TIMEZONE,
    UsageCounter,
    account_key,
    usage,
    usage_counter,
)
from .http import GatewayClient, HttpGateway
from .results import ConnectionResult

DEFAULT_API_URL = "https://api.gestaoclick.com/api"
API_NAME = "Gestão Click"
MAX_PAGE_SIZE = 100  # the platform's cap; there is no page-size parameter to send
DEFAULT_THROTTLE_PER_SECOND = BUDGETS["gestao_click"].pace  # declared in app.registry
MAX_PAGES = 100_000  # a runaway proxima_pagina must end somewhere
SALE_TYPES = ("produto", "servico", "vendas_balcao")
NOT_FOUND_WORDS = ("não encontrad", "nao encontrad", "not found", "inexistente")

MSG_MISSING = (
    "Tokens do Gestão Click não configurados. Informe o access token e o secret access token "
    "(no Gestão Click: Configurações → Aplicativos → API) em Configurações."
)
MSG_INVALID = (
    "Tokens do Gestão Click inválidos (HTTP {status}). Confira o access token e o secret "
    "access token e se o módulo de API está ativo na conta."
)
# 403: the tokens were recognised but API access is refused (PLATFORMS §7.6 counts it as a
# credential failure: never retried), e.g. the API module is not active on the plan.
MSG_BLOCKED = (
    "O Gestão Click recusou o acesso (HTTP 403): os tokens foram reconhecidos, mas a conta não "
    "libera a API para eles. Confira se o módulo de API está ativo no seu plano "
    "(Configurações → Aplicativos → API) e se os tokens são do usuário certo; se preciso, "
    "gere novos tokens."
)
MSG_RATE_LIMITED = (
    "Limite de requisições do Gestão Click atingido (3 por segundo e 30.000 por dia). "
    "Aguarde alguns instantes e tente de novo (requisições deste servidor hoje: {used})."
)
MSG_TIMEOUT = "O Gestão Click não respondeu a tempo ({host}). Tente novamente em alguns minutos."
MSG_CONNECTION = (
    "Não foi possível conectar ao Gestão Click ({host}). Verifique a conexão com a internet, "
    "o DNS ou a URL configurada."
)
MSG_UPSTREAM = (
    "O Gestão Click respondeu com erro interno (HTTP {status}). Tente novamente em alguns minutos."
)
MSG_INVALID_REQUEST = "O Gestão Click recusou a requisição (HTTP {status}): {detail}"
MSG_NOT_FOUND = (
    "O Gestão Click respondeu 404 para /lojas: confira a URL da API ({url}); ela deve "
    "apontar para https://api.gestaoclick.com/api."
)
MSG_UNEXPECTED = "Erro inesperado ao falar com o Gestão Click: {detail}"
MSG_OK = "Conexão com o Gestão Click funcionando: loja “{name}”{more}."
MESSAGES = ConnectionMessages(
    invalid=MSG_INVALID,
    permission=MSG_BLOCKED,
    rate_limited=MSG_RATE_LIMITED,
    timeout=MSG_TIMEOUT,
    connection=MSG_CONNECTION,
    upstream=MSG_UPSTREAM,
    invalid_request=MSG_INVALID_REQUEST,
    unexpected=MSG_UNEXPECTED,
    not_found=MSG_NOT_FOUND,
)
MSG_NO_STORES = "Conexão com o Gestão Click funcionando, mas nenhuma loja foi encontrada."


# ---------------------------------------------------------------------------- helpers


def normalize_api_url(url: str | None) -> str:
    """The API base ending in ``/api``: ``https://api.gestaoclick.com`` gets ``/api`` added."""
    url = (url or "").strip().rstrip("/")
    if not url:
        return DEFAULT_API_URL
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/api"):
        path = f"{path}/api"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_gestaoclick_error(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """Gestão Click: ``{"code": 404, "status": "error", "data": {"erro": …, "mensagem": …}}``.

    Validation errors also arrive as 404, so the ``mensagem`` is what tells them apart.
    """
    if not isinstance(body, dict) or body.get("status") != "error":
        return None
    data = body.get("data")
    if isinstance(data, dict):
        return ErrorInfo(
            code=text_of(data.get("erro")), detail=text_of(data.get("mensagem")) or text_of(data)
        )
    return ErrorInfo(detail=text_of(data))


def parse_error(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """``parse_gestaoclick_error`` plus: a 404 that is not "not found" is a validation error."""
    info = parse_gestaoclick_error(status, body, headers)
    if info is None:
        return None
    if status == 404:
        text = (info.detail or "").lower()
        if text and not any(word in text for word in NOT_FOUND_WORDS):
            return ErrorInfo(code=info.code, detail=info.detail, error_class=InvalidRequestError)
    return info


def _day(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.astimezone(TIMEZONE).date().isoformat() if value.tzinfo else str(value.date())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Page:
    """One page of a Gestão Click list."""

    items: list[dict[str, Any]]
    number: int
    next_page: int | None
    total: int | None  # meta.total_registros


# ---------------------------------------------------------------------------- client


class GestaoClickClient(GatewayClient):
    """Gestão Click REST client on one ``HttpGateway``.

    ``api_url`` may be given with or without the ``/api`` suffix. Extra keyword arguments
    (``timeout``, ``retry_attempts``, ``retry_delay``, ``throttle_per_second``, ``session``,
    ``sleep``, ``clock``…) go to ``HttpGateway``. ``counter`` replaces the process-wide
    ``usage_counter``. The throttle is the account's ``RateBudget`` (``app.clients.budget``;
    ``budget_store`` shares it between processes) unless ``share_throttle=False``, a
    ``throttle`` or a custom ``clock``/``sleep`` is given.
    """

    def __init__(
        self,
        access_token: str | None,
        secret_token: str | None,
        api_url: str | None = DEFAULT_API_URL,
        *,
        counter: UsageCounter | None = None,
        **gateway_options: Any,
    ):
        self.access_token = (access_token or "").strip()
        self.secret_token = (secret_token or "").strip()
        self.api_url = normalize_api_url(api_url)
        self.counter = counter or usage_counter
        self.account = account_key(self.access_token)
        gateway_options.setdefault("timeout", (5.0, 30.0))
        gateway_options.setdefault("throttle_per_second", DEFAULT_THROTTLE_PER_SECOND)
        gateway_options.setdefault("error_parser", parse_error)
        headers = {"Content-Type": "application/json"}
        if self.access_token:
            headers["access-token"] = self.access_token
        if self.secret_token:
            headers["secret-access-token"] = self.secret_token
        secrets = (self.access_token, self.secret_token, *gateway_options.pop("secrets", ()))
        if not gateway_options.pop("share_throttle", True):
            gateway_options.setdefault("throttle", None)  # a throttle of this client alone
        apply_budget("gestao_click", self.account, gateway_options)
        self.gateway = HttpGateway(
            API_NAME, self.api_url, default_headers=headers, secrets=secrets, **gateway_options
        )

    # ------------------------------------------------------------------ lifecycle

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_token and self.secret_token)

    @property
    def requests_today(self) -> int:
        """Requests this process sent today for this account."""
        return self.counter.get(self.account)

    # ------------------------------------------------------------------ calls

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` → the parsed body; every attempt counts against the daily budget."""
        if not self.has_credentials:
            raise AuthenticationError(MSG_MISSING, code="missing_credentials", api=API_NAME)
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        try:
            response = self.gateway.get(path, params=query)
        except APIError as exc:
            if not isinstance(exc, APIConnectionError) or exc.status is not None:
                self.counter.add(self.account, exc.attempts)
            raise
        self.counter.add(self.account, response.attempts)
        body = response.data
        if isinstance(body, dict) and body.get("status") == "error":  # an error wearing a 200
            data = body.get("data")
            detail = data.get("mensagem") if isinstance(data, dict) else data
            raise InvalidRequestError(
                api=API_NAME, status=response.status, detail=str(detail or "erro"), body=body
            )
        return body

    def iter_pages(self, path: str, filters: Mapping[str, Any] | None = None) -> Iterator[Page]:
        """Every page, lazily: ``pagina`` = 1, 2, … while ``meta.proxima_pagina`` is not null."""
        base = {k: v for k, v in (filters or {}).items() if k != "pagina"}
        number = 1
        for _ in range(MAX_PAGES):
            body = self.get(path, dict(base, pagina=number))
            body = body if isinstance(body, dict) else {}
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            items = body.get("data") if isinstance(body.get("data"), list) else []
            next_page = _int(meta.get("proxima_pagina"))
            if next_page is not None and next_page <= number:  # a looping cursor never ends
                next_page = None
            yield Page(
                items=[i for i in items if isinstance(i, dict)],
                number=number,
                next_page=next_page,
                total=_int(meta.get("total_registros")),
            )
            if next_page is None:
                return
            number = next_page

    def _iter(self, path: str, filters: Mapping[str, Any] | None = None) -> Iterator[dict]:
        for page in self.iter_pages(path, filters):
            yield from page.items

    def _one(self, path: str) -> dict[str, Any] | None:
        body = self.get(path)
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else None

    # lookups ---------------------------------------------------------------

    def lojas(self) -> list[dict[str, Any]]:
        return list(self._iter("/lojas"))

    def situacoes_vendas(self) -> list[dict[str, Any]]:
        return list(self._iter("/situacoes_vendas"))

    # vendas ----------------------------------------------------------------

    def venda_pages(
        self,
        data_inicio: date | datetime | str | None = None,
        data_fim: date | datetime | str | None = None,
        tipo: str | None = None,
        **filters: Any,
    ) -> Iterator[Page]:
        """``data_inicio``/``data_fim`` (inclusive, on ``data``) go as ``AAAA-MM-DD``. Without
        ``tipo`` the platform may list only product sales: pass ``servico`` and
        ``vendas_balcao`` too for everything."""
        if tipo is not None and tipo not in SALE_TYPES:
            raise ValueError(f"tipo must be one of {', '.join(SALE_TYPES)}")
        params = dict(filters)
        params.update(
            data_inicio=None if data_inicio is None else _day(data_inicio),
            data_fim=None if data_fim is None else _day(data_fim),
            tipo=tipo,
        )
        return self.iter_pages("/vendas", params)

    def iter_vendas(
        self,
        data_inicio: date | datetime | str | None = None,
        data_fim: date | datetime | str | None = None,
        tipo: str | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        for page in self.venda_pages(data_inicio, data_fim, tipo, **filters):
            yield from page.items

    def venda(self, venda_id: str | int) -> dict[str, Any] | None:
        return self._one(f"/vendas/{venda_id}")

    # clientes --------------------------------------------------------------

    def cliente_pages(self, **filters: Any) -> Iterator[Page]:
        """Filters: ``tipo_pessoa``, ``nome``, ``cpf_cnpj``, ``telefone``, ``email``,
        ``situacao`` (1/0), ``cidade_id``, ``estado``."""
        return self.iter_pages("/clientes", filters)

    def iter_clientes(self, **filters: Any) -> Iterator[dict[str, Any]]:
        for page in self.cliente_pages(**filters):
            yield from page.items

    def cliente(self, cliente_id: str | int) -> dict[str, Any] | None:
        return self._one(f"/clientes/{cliente_id}")

    # produtos --------------------------------------------------------------

    def produto_pages(self, **filters: Any) -> Iterator[Page]:
        """Filters: ``loja_id``, ``nome``, ``codigo``, ``grupo_id``, ``fornecedor_id``,
        ``ativo``."""
        return self.iter_pages("/produtos", filters)

    def iter_produtos(self, **filters: Any) -> Iterator[dict[str, Any]]:
        for page in self.produto_pages(**filters):
            yield from page.items

    def produto(self, produto_id: str | int) -> dict[str, Any] | None:
        return self._one(f"/produtos/{produto_id}")

    # ------------------------------------------------------------------ connection test

    def test_connection(self) -> ConnectionResult:
        """``GET /lojas`` → a result with a pt-BR message. Never raises an ``APIError``."""
        details: dict[str, Any] = {"api_url": self.api_url}
        if not self.has_credentials:
            return ConnectionResult(False, MSG_MISSING, "missing_credentials", details)
        host = urlsplit(self.api_url).netloc or self.api_url
        outcome = check_connection(
            lambda: next(self.iter_pages("/lojas")),
            MESSAGES,
            details,
            host=lambda: host,
            url=self.api_url,
            used=lambda: f"{self.requests_today:,}".replace(",", "."),
        )
        if isinstance(outcome, ConnectionResult):
            return outcome
        page = outcome
        details["store_count"] = page.total if page.total is not None else len(page.items)
        details["requests_today"] = self.requests_today
        if not page.items:
            return ConnectionResult(True, MSG_NO_STORES, "no_stores", details)
        stores = sorted(page.items, key=lambda s: str(s.get("matriz")) != "1")  # head office first
        name = str(stores[0].get("nome") or stores[0].get("id") or "?")
        details["store"] = {"id": stores[0].get("id"), "name": name}
        others = details["store_count"] - 1
        more = ""
        if others > 0:
            more = f" (e mais {others} {plural(others, 'loja', 'lojas')})"
        return ConnectionResult(True, MSG_OK.format(name=name, more=more), "ok", details)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


__all__ = [
    "DAILY_LIMIT",
    "DEFAULT_API_URL",
    "GestaoClickClient",
    "MSG_MISSING",
    "Page",
    "UsageCounter",
    "account_key",
    "normalize_api_url",
    "parse_error",
    "usage",
    "usage_counter",
]
