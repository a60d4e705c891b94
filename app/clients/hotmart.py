"""Hotmart REST API client: OAuth client credentials, products, sales history, subscriptions.

Wire format: PLATFORMS.md §3.5. The token comes from ``POST {auth_url}?grant_type=
client_credentials&client_id=…&client_secret=…`` with ``Authorization: Basic base64(id:secret)``
(one URL for both environments), is cached in a ``TokenStore`` until shortly before
``expires_in``, and is fetched again once when an API call answers 401. Lists page with
``max_results`` + ``page_token`` until ``page_info.next_page_token`` is absent.

Size: one API's endpoints and their paging (a little over 400 lines); token and date helpers
are in ``hotmart_tokens.py`` / ``hotmart_dates.py``.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from app.plurals import plural

from .budget import BUDGETS, apply_budget, hashed
from .connection import ConnectionMessages, check_connection
from .errors import AuthenticationError, ErrorInfo, UpstreamError, text_of
from .hotmart_dates import _query, from_epoch, sales_windows, to_epoch_ms
from .hotmart_tokens import MemoryTokenStore, TokenStore
from .http import GatewayClient, HttpGateway
from .results import ConnectionResult

PRODUCTION_API_URL = "https://developers.hotmart.com"
SANDBOX_API_URL = "https://sandbox.hotmart.com"
TOKEN_URL = "https://api-sec-vlc.hotmart.com/security/oauth/token"
API_URLS = {"production": PRODUCTION_API_URL, "sandbox": SANDBOX_API_URL}
ENV_LABELS = {"production": "produção", "sandbox": "sandbox"}

PRODUCTS_PATH = "/products/api/v1/products"
SALES_PATH = "/payments/api/v1/sales/history"
SUBSCRIPTIONS_PATH = "/payments/api/v1/subscriptions"

MAX_PAGE_SIZE = 500  # Hotmart's cap for sales and subscriptions
DEFAULT_TOKEN_TTL = 3600  # when a token response omits expires_in
TOKEN_MARGIN = 300.0  # refresh this long before expiry (or 10 % of a short TTL)
# 500 calls per minute per account: stay a little under it
DEFAULT_THROTTLE_PER_SECOND = BUDGETS["hotmart"].pace  # declared in app.registry
DATE_PARAMS = ("start_date", "end_date", "accession_date", "end_accession_date")

MSG_MISSING = (
    "Credenciais da Hotmart não configuradas. Informe o Client ID e o Client Secret "
    "(Ferramentas → Credenciais Developers) em Configurações."
)
MSG_INVALID = (
    "Credenciais da Hotmart inválidas para o ambiente {env}. Confira o Client ID e o Client "
    "Secret e se foram criados para {env}: credenciais de sandbox e de produção são diferentes."
)
MSG_PERMISSION = (
    "A Hotmart recusou o acesso (HTTP 403): as credenciais não têm permissão para consultar "
    "produtos e vendas nesta conta."
)
MSG_PAYMENT = "A Hotmart recusou o acesso (HTTP 402): a conta está com pendência de pagamento."
MSG_NO_PRODUCTS = (
    "Conexão com a Hotmart ({env}) funcionando, mas nenhum produto foi encontrado nesta conta."
)
MSG_OK = "Conexão com a Hotmart ({env}) funcionando: {found}."
MSG_TIMEOUT = (
    "A Hotmart não respondeu a tempo ({host}). Tente novamente em alguns minutos; se persistir, "
    "verifique o status da Hotmart."
)
MSG_CONNECTION = (
    "Não foi possível conectar à Hotmart ({host}). Verifique a conexão com a internet, o DNS ou "
    "a URL configurada."
)
MSG_RATE_LIMITED = (
    "Limite de requisições da Hotmart atingido (500 por minuto). Aguarde {wait} e tente de novo."
)
MSG_UPSTREAM = (
    "A Hotmart respondeu com erro interno (HTTP {status}). Tente novamente em alguns minutos."
)
MSG_INVALID_REQUEST = "A Hotmart recusou a requisição (HTTP {status}): {detail}"
MSG_UNEXPECTED = "Erro inesperado ao falar com a Hotmart: {detail}"
MESSAGES = ConnectionMessages(
    invalid=MSG_INVALID,
    payment=MSG_PAYMENT,
    permission=MSG_PERMISSION,
    rate_limited=MSG_RATE_LIMITED,
    timeout=MSG_TIMEOUT,
    connection=MSG_CONNECTION,
    upstream=MSG_UPSTREAM,
    invalid_request=MSG_INVALID_REQUEST,
    unexpected=MSG_UNEXPECTED,
)


# ---------------------------------------------------------------------------- error bodies


def parse_hotmart_error(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """Hotmart: ``{"error": "invalid_token", "error_description": "…", "error_uri": …}``."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return ErrorInfo(code=body["error"], detail=text_of(body.get("error_description")))
    return None


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Page:
    """One page of a Hotmart list, for progress reporting (``total_results`` when sent)."""

    items: list[dict[str, Any]]
    number: int  # 1-based
    next_page_token: str | None
    total_results: int | None
    results_per_page: int | None

    @property
    def has_next(self) -> bool:
        return self.next_page_token is not None


# ---------------------------------------------------------------------------- helpers


def _decode_basic(basic: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(basic, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


# ---------------------------------------------------------------------------- client


class HotmartClient(GatewayClient):
    """Hotmart REST client on one ``HttpGateway``.

    ``env`` is ``sandbox`` or ``production``; ``api_url`` overrides that environment's host and
    ``auth_url`` is the *full* token URL. ``basic`` is the ready-made Basic value Hotmart shows
    (derived from id:secret when absent). Extra keyword arguments (``timeout``, ``retry_attempts``,
    ``retry_delay``, ``max_retry_after``, ``throttle_per_second``, ``session``, ``sleep``,
    ``clock``…) go to ``HttpGateway``. ``wall_clock`` (Unix seconds) dates token expiry.
    """

    def __init__(
        self,
        client_id: str | None,
        client_secret: str | None,
        basic: str | None = None,
        env: str = "sandbox",
        api_url: str | None = None,
        auth_url: str | None = None,
        token_store: TokenStore | None = None,
        *,
        token_margin: float = TOKEN_MARGIN,
        wall_clock: Callable[[], float] = time.time,
        **gateway_options: Any,
    ):
        env = (env or "sandbox").strip().lower()
        if env not in API_URLS:
            raise ValueError("env must be 'sandbox' or 'production'")
        basic = (basic or "").strip()
        if basic.lower().startswith("basic "):
            basic = basic[6:].strip()
        client_id = (client_id or "").strip()
        client_secret = (client_secret or "").strip()
        if basic and not (client_id and client_secret):
            pair = _decode_basic(basic)
            if pair:
                client_id, client_secret = client_id or pair[0], client_secret or pair[1]
        if not basic and client_id and client_secret:
            basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.client_id = client_id
        self.client_secret = client_secret
        self.basic = basic
        self.env = env
        self.api_url = (api_url or API_URLS[env]).rstrip("/")
        self.auth_url = auth_url or TOKEN_URL
        self.token_store: TokenStore = token_store or MemoryTokenStore()
        self.token_margin = token_margin
        self.wall_clock = wall_clock
        self._token_lock = threading.Lock()
        gateway_options.setdefault("timeout", (5.0, 35.0))  # Hotmart gives up at 30 s (502)
        gateway_options.setdefault("throttle_per_second", DEFAULT_THROTTLE_PER_SECOND)
        gateway_options.setdefault("error_parser", parse_hotmart_error)
        apply_budget("hotmart", hashed(client_id), gateway_options)
        secrets = (client_secret, basic, *gateway_options.pop("secrets", ()))
        self.gateway = HttpGateway("Hotmart", self.api_url, secrets=secrets, **gateway_options)

    # ------------------------------------------------------------------ lifecycle

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def token_key(self) -> str:
        return f"hotmart:{self.env}:{self.client_id}"

    # ------------------------------------------------------------------ token

    def get_token(self) -> str:
        """A valid access token: the cached one, or a new one from the token endpoint."""
        cached = self._cached_token()
        if cached:
            return cached
        with self._token_lock:  # single flight: many threads, one token request
            return self._cached_token() or self._fetch_token()

    def refresh_token(self, stale: str | None = None) -> str:
        """Fetch a new token, unless another thread already replaced ``stale``."""
        with self._token_lock:
            current = self._cached_token()
            if current and current != stale:
                return current
            return self._fetch_token()

    def _cached_token(self) -> str | None:
        entry = self.token_store.get(self.token_key)
        if entry and entry[0] and entry[1] > self.wall_clock():
            self.gateway.add_secret(entry[0])
            return entry[0]
        return None

    def _fetch_token(self) -> str:
        if not self.has_credentials:
            raise AuthenticationError(MSG_MISSING, code="missing_credentials", api="Hotmart")
        response = self.gateway.post(
            self.auth_url,
            params={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            headers={"Authorization": f"Basic {self.basic}", "Content-Type": "application/json"},
        )
        body = response.data if isinstance(response.data, dict) else {}
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError(
                api="Hotmart",
                status=response.status,
                detail="resposta do token sem access_token",
                retryable=False,
            )
        self.gateway.add_secret(token)
        try:
            ttl = float(body.get("expires_in") or DEFAULT_TOKEN_TTL)
        except (TypeError, ValueError):
            ttl = DEFAULT_TOKEN_TTL
        margin = min(self.token_margin, ttl * 0.1)
        self.token_store.set(self.token_key, token, self.wall_clock() + ttl - margin)
        return token

    # ------------------------------------------------------------------ calls

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET an API path with the Bearer token; one new token and retry on a 401."""
        query = _query(params or {})
        token = self.get_token()
        try:
            return self._authorized_get(path, query, token)
        except AuthenticationError:
            token = self.refresh_token(stale=token)
        return self._authorized_get(path, query, token)

    def _authorized_get(self, path: str, query: list[tuple[str, str]], token: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        return self.gateway.get(path, params=query, headers=headers).data

    def iter_pages(
        self, path: str, filters: Mapping[str, Any] | None = None, page_size: int = 50
    ) -> Iterator[Page]:
        """Every page of a list, lazily, following ``next_page_token`` until it is absent."""
        page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        base = dict(filters or {})
        base.pop("page_token", None)
        base["max_results"] = page_size
        token: str | None = None
        seen: set[str] = set()
        number = 0
        while True:
            params = dict(base, page_token=token) if token else base
            data = self.get(path, params)
            if not isinstance(data, dict):
                data = {}
            info = data.get("page_info") if isinstance(data.get("page_info"), dict) else {}
            items = data.get("items") if isinstance(data.get("items"), list) else []
            number += 1
            next_token = info.get("next_page_token") or None
            if next_token in seen:  # a looping cursor would never end
                next_token = None
            yield Page(
                items=items,
                number=number,
                next_page_token=next_token,
                total_results=info.get("total_results"),
                results_per_page=info.get("results_per_page"),
            )
            if not next_token:
                return
            seen.add(next_token)
            token = next_token

    # products --------------------------------------------------------------

    def product_pages(self, page_size: int = 50, **filters: Any) -> Iterator[Page]:
        """Filters: ``id``, ``status`` (DRAFT, ACTIVE, …; a list repeats the key), ``format``."""
        return self.iter_pages(PRODUCTS_PATH, filters, page_size)

    def iter_products(self, page_size: int = 50, **filters: Any) -> Iterator[dict[str, Any]]:
        for page in self.product_pages(page_size, **filters):
            yield from page.items

    # sales -----------------------------------------------------------------

    def sales_pages(
        self,
        start_date: datetime | date | int | None = None,
        end_date: datetime | date | int | None = None,
        transaction_status: str | list[str] | tuple[str, ...] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        **filters: Any,
    ) -> Iterator[Page]:
        """Sales history pages. Without ``transaction``/``transaction_status`` Hotmart returns
        only APPROVED and COMPLETE sales. Other filters: ``product_id``, ``buyer_email``,
        ``payment_type``, ``offer_code``, ``transaction``."""
        params = dict(filters)
        params.update(
            start_date=None if start_date is None else to_epoch_ms(start_date),
            end_date=None if end_date is None else to_epoch_ms(end_date),
            transaction_status=transaction_status,
        )
        return self.iter_pages(SALES_PATH, params, page_size)

    def iter_sales(
        self,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        transaction_status: str | list[str] | tuple[str, ...] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        window_days: int | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every sale, page by page. With ``window_days`` and both dates, the range is walked in
        ``sales_windows`` (Hotmart 502s on queries over 30 s)."""
        if window_days and start_date is not None and end_date is not None:
            ranges = sales_windows(start_date, end_date, window_days)
        else:
            ranges = [(start_date, end_date)]
        for start, end in ranges:
            for page in self.sales_pages(start, end, transaction_status, page_size, **filters):
                yield from page.items

    # subscriptions ---------------------------------------------------------

    def subscription_pages(self, page_size: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[Page]:
        """Filters: ``product_id``, ``plan_id``, ``status`` (list repeats the key),
        ``subscriber_code``, ``subscriber_email``, ``transaction``, ``accession_date``,
        ``end_accession_date`` (datetimes become ms)."""
        return self.iter_pages(SUBSCRIPTIONS_PATH, filters, page_size)

    def iter_subscriptions(
        self, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        for page in self.subscription_pages(page_size, **filters):
            yield from page.items

    # ------------------------------------------------------------------ connection test

    def test_connection(self) -> ConnectionResult:
        """Token + ``GET /products?max_results=1`` → a result with a pt-BR message."""
        env = ENV_LABELS[self.env]
        details: dict[str, Any] = {"env": self.env, "api_url": self.api_url}
        if not self.has_credentials:
            return ConnectionResult(False, MSG_MISSING, "missing_credentials", details)
        started = self.wall_clock()
        messages = replace(MESSAGES, invalid=MSG_INVALID.format(env=env))
        outcome = check_connection(
            lambda: next(self.product_pages(page_size=1)),
            messages,
            details,
            host=self._host_of_failure,
        )
        if isinstance(outcome, ConnectionResult):
            return outcome
        page = outcome
        details["elapsed_ms"] = int((self.wall_clock() - started) * 1000)
        count = page.total_results if page.total_results is not None else len(page.items)
        details["product_count"] = count
        if page.items:
            first = page.items[0]
            details["sample"] = {"id": first.get("id"), "name": first.get("name")}
        if not page.items:
            return ConnectionResult(True, MSG_NO_PRODUCTS.format(env=env), "no_products", details)
        return ConnectionResult(
            True,
            MSG_OK.format(
                env=env,
                found=f"{count} {plural(count, 'produto encontrado', 'produtos encontrados')}",
            ),
            "ok",
            details,
        )

    def _host_of_failure(self) -> str:
        """The host that failed: the token host when no token is cached, else the API host."""
        url = self.api_url if self._cached_token() else self.auth_url
        return urlsplit(url).netloc or url


__all__ = [
    "API_URLS",
    "ConnectionResult",
    "HotmartClient",
    "MemoryTokenStore",
    "Page",
    "PRODUCTION_API_URL",
    "SANDBOX_API_URL",
    "TOKEN_URL",
    "TokenStore",
    "from_epoch",
    "sales_windows",
    "to_epoch_ms",
]
