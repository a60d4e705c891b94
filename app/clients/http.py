"""One HTTP gateway under every outbound API client (the stripe-python shape).

``HttpGateway`` owns a pooled ``requests.Session`` and applies the same policy to every call:

- connect/read timeouts always set;
- retries with exponential backoff and full jitter on 429, 5xx, timeouts and connection errors,
  honouring ``Retry-After`` (seconds or HTTP-date), ``RateLimit-Reset`` and a JSON body
  ``retry_after`` (Kommo), capped by ``max_retry_after``; never retrying other 4xx;
- one throttle hook (``app.clients.throttle``): the account's shared ``RateBudget``
  (``app.clients.budget``) or a process-local ``Throttle``; a 429 pauses it for every user;
- typed errors (``app.clients.errors``) with pt-BR messages built from each API's error body,
  read by that API's parser (next to its client: ``parse_kommo_error`` in ``kommo.py``, …);
- request/response logs with method, path, status, duration and attempts, secrets masked.

Clients take plain arguments and never use Flask's app/request context or the database.
Around the retry loop (one job, hence ~460 lines with the clients' ``GatewayClient`` base):
``masking`` (secrets in logs), ``retry`` (policy and hints), ``throttle``/``budget`` (rate),
``errors`` (types, default body parser), ``results`` (``ApiResponse``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ErrorInfo,
    ErrorParser,
    RateLimitError,
    UpstreamError,
    build_message,
    error_class_for_status,
    parse_error_body,
)
from .masking import (
    debug_logger,
    log_debug_request,
    log_debug_response,
    mask,
    mask_text,
    remember_secret,
)
from .results import ApiResponse, decode_body
from .retry import RETRYABLE_STATUSES, parse_retry_after, retry_hint, retry_wait
from .throttle import BudgetPaused, Throttle, ThrottleHook

logger = logging.getLogger(__name__)

USER_AGENT = "VendasHub/0.1 (+https://github.com/vendas-hub)"
MAX_DETAIL_CHARS = 300


# ---------------------------------------------------------------------------- gateway


def transport_reason(exc: Exception, cls: type[APIError]) -> str:
    """A short pt-BR reason for a request that got no response."""
    if isinstance(exc, requests.ConnectTimeout):
        return "tempo de conexão esgotado"
    if isinstance(exc, requests.Timeout) or cls is APITimeoutError:
        return "tempo de leitura esgotado"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "NameResolutionError" in text or "Name or service not known" in text:
            return "falha de DNS"
        if "Connection refused" in text or "ConnectionRefused" in text:
            return "conexão recusada"
        if "SSL" in text:
            return "erro de TLS/SSL"
    return type(exc).__name__


class HttpGateway:
    """Pooled session + timeouts + retries + throttle + typed errors + masked logs for one API.

    ``retry_attempts`` is the number of *retries* after the first try (SPEC ``RETRY_ATTEMPTS``,
    default 3) and ``retry_delay`` the base of the exponential backoff (``RETRY_DELAY``, 1 s).
    A wait demanded by the server longer than ``max_retry_after`` is not slept: the
    ``RateLimitError`` is raised at once (with ``retry_after``) so the caller can reschedule.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retry_attempts: int = 3,
        retry_delay: float = 1.0,
        max_retry_delay: float = 30.0,
        max_retry_after: float = 120.0,
        throttle_per_second: float | None = None,
        throttle_burst: int = 1,
        throttle: ThrottleHook | None = None,
        session: requests.Session | None = None,
        default_headers: Mapping[str, str] | None = None,
        pool_connections: int = 4,
        pool_maxsize: int = 10,
        error_parser: ErrorParser | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        secrets: Iterable[str | None] = (),
        rng: random.Random | None = None,
        log: logging.Logger | None = None,
        debug: bool = False,
    ):
        if retry_attempts < 0:
            raise ValueError("retry_attempts must be >= 0")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.retry_attempts = int(retry_attempts)
        self.retry_delay = float(retry_delay)
        self.max_retry_delay = float(max_retry_delay)
        self.max_retry_after = float(max_retry_after)
        self.error_parser = error_parser or parse_error_body
        self.sleep = sleep
        self.clock = clock
        # The one throttle hook: a shared RateBudget when the client passes one, else a
        # process-local Throttle on this gateway's clock (unit tests inject clock/sleep).
        self.throttle: ThrottleHook = throttle or Throttle(
            throttle_per_second, burst=throttle_burst, clock=clock, sleep=sleep
        )
        self.default_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        self.default_headers.update(default_headers or {})
        self.log = log or logger
        # Debug mode (KOMMO_DEBUG / GESTAO_CLICK_DEBUG): every request and response of this
        # API logged at DEBUG with headers and bodies, secrets masked, whatever LOG_LEVEL says.
        self.debug = bool(debug)
        if self.debug:
            self.log = debug_logger(self.log, name)
        self._rng = rng or random.Random()
        self._secrets: tuple[str, ...] = ()
        self._secrets_lock = threading.Lock()
        for value in secrets:
            self.add_secret(value)
        for value in self.default_headers.values():
            if value and value not in (USER_AGENT, "application/json"):
                self.add_secret(value)
        self._own_session = session is None
        self.session = session or self._new_session(pool_connections, pool_maxsize)

    @staticmethod
    def _new_session(pool_connections: int, pool_maxsize: int) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    # ------------------------------------------------------------------ secrets

    def add_secret(self, value: str | None) -> None:
        """Mask ``value`` (a token issued at run time, say) in every log line and error."""
        if not value or len(value) < 4:
            return
        scheme, _, credential = value.partition(" ")
        if credential and scheme.lower() in ("bearer", "basic", "token"):
            self.add_secret(credential.strip())  # the bare token may show up elsewhere
        with self._secrets_lock:
            if value not in self._secrets:
                # longest first, so a secret containing another is masked whole
                self._secrets = tuple(sorted((*self._secrets, value), key=len, reverse=True))
        remember_secret(value)

    def mask(self, text: str) -> str:
        return mask_text(text, self._secrets)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> HttpGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests

    def url_for(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] | None = None,
        retry_attempts: int | None = None,
    ) -> ApiResponse:
        """Send one logical request (retrying per the policy) → ``ApiResponse`` or an APIError.

        ``params`` values that are lists become repeated keys (``status=A&status=B``).
        """
        method = method.upper()
        merged = {**self.default_headers, **(headers or {})}
        request = requests.Request(
            method, self.url_for(path), params=params, json=json, data=data, headers=merged
        )
        try:
            prepared = self.session.prepare_request(request)
        except requests.RequestException as exc:  # a malformed URL: nothing was sent
            raise APIConnectionError(
                api=self.name, detail=f"URL inválida ({type(exc).__name__})", retryable=False
            ) from None
        host = urlsplit(prepared.url or "").netloc
        shown = self._shown_url(prepared.url or "")
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        send_timeout = self.timeout if timeout is None else timeout
        allowed = 1 + (self.retry_attempts if retry_attempts is None else max(0, retry_attempts))
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.throttle.acquire(self.max_retry_after)
            except BudgetPaused as paused:
                raise self._paused_error(paused.wait, method, shown, attempt) from None
            self.log.debug("%s → %s %s (attempt %d/%d)", self.name, method, shown, attempt, allowed)
            if self.debug:
                log_debug_request(self.log, self.name, prepared, shown, self.mask)
            t0 = self.clock()
            try:
                resp = self.session.send(prepared.copy(), timeout=send_timeout, **settings)
            except requests.Timeout as exc:
                error: APIError = self._transport_error(
                    APITimeoutError, exc, method, shown, host, attempt
                )
            except requests.ConnectionError as exc:
                # a read timeout while the body streams in surfaces as a ConnectionError
                cls = APITimeoutError if "timed out" in str(exc) else APIConnectionError
                error = self._transport_error(cls, exc, method, shown, host, attempt)
            except requests.RequestException as exc:  # invalid URL, schema… never retryable
                error = self._transport_error(APIConnectionError, exc, method, shown, host, attempt)
                error.retryable = False
            else:
                duration = self.clock() - t0
                if self.debug:
                    log_debug_response(
                        self.log, self.name, resp, method, shown, duration, self.mask
                    )
                if resp.status_code < 400:
                    return self._success(resp, method, shown, attempt, started, duration)
                error = self._http_error(resp, method, shown, attempt)
                self.log.debug(
                    "%s ← %s %s %d in %.0f ms",
                    self.name,
                    method,
                    shown,
                    resp.status_code,
                    duration * 1000,
                )
            delay = self._retry_wait(error, attempt, allowed)
            if delay is None:
                self.log.warning(
                    "%s %s %s failed after %d attempt(s) in %.0f ms: %s",
                    self.name,
                    method,
                    shown,
                    attempt,
                    (self.clock() - started) * 1000,
                    error.message,
                )
                raise error
            self.log.warning(
                "%s %s %s → %s; retry %d/%d in %.2f s",
                self.name,
                method,
                shown,
                error.status or type(error).__name__,
                attempt,
                allowed - 1,
                delay,
            )
            if isinstance(error, RateLimitError):
                # the throttle does the waiting, so every user of this budget waits too
                self.throttle.pause_for(delay)
            else:
                self.sleep(delay)

    # ------------------------------------------------------------------ internals

    def _shown_url(self, url: str) -> str:
        """Path + query for logs, with every secret masked."""
        parts = urlsplit(url)
        shown = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.mask(shown)

    def _success(
        self,
        resp: requests.Response,
        method: str,
        shown: str,
        attempt: int,
        started: float,
        duration: float,
    ) -> ApiResponse:
        try:
            body = decode_body(resp)
        except ValueError:
            raise UpstreamError(
                api=self.name,
                status=resp.status_code,
                detail="resposta JSON inválida",
                method=method,
                url=shown,
                attempts=attempt,
                retryable=False,
            ) from None
        elapsed = self.clock() - started
        self.log.info(
            "%s %s %s → %d in %.0f ms (attempts=%d)",
            self.name,
            method,
            shown,
            resp.status_code,
            duration * 1000,
            attempt,
        )
        return ApiResponse(
            status=resp.status_code,
            data=body,
            headers=resp.headers,
            url=shown,
            attempts=attempt,
            elapsed=elapsed,
        )

    def _http_error(
        self, resp: requests.Response, method: str, shown: str, attempt: int
    ) -> APIError:
        try:
            body = decode_body(resp)
        except ValueError:
            body = resp.text
        try:
            info = self.error_parser(resp.status_code, body, resp.headers) or ErrorInfo()
        except Exception:  # a parser bug must not hide the real error
            self.log.exception("%s: error parser failed", self.name)
            info = ErrorInfo()
        cls = info.error_class or error_class_for_status(resp.status_code)
        detail = info.detail
        if detail:
            detail = self.mask(detail)
            if len(detail) > MAX_DETAIL_CHARS:
                detail = detail[: MAX_DETAIL_CHARS - 1] + "…"
        kwargs: dict[str, Any] = dict(
            status=resp.status_code,
            code=info.code,
            detail=detail,
            api=self.name,
            method=method,
            url=shown,
            body=body,
            attempts=attempt,
        )
        error = cls(**kwargs)
        error.retryable = resp.status_code in RETRYABLE_STATUSES  # never 4xx but 408/425/429
        if error.retryable:  # 429, and 503 & co. may say how long to wait
            error.retry_after = retry_hint(resp.headers, info.retry_after, resp.status_code)
        return error

    def _transport_error(
        self,
        cls: type[APIError],
        exc: Exception,
        method: str,
        shown: str,
        host: str,
        attempt: int,
    ) -> APIError:
        reason = transport_reason(exc, cls)
        return cls(
            api=self.name,
            detail=f"{reason} em {host}" if host else reason,
            method=method,
            url=shown,
            attempts=attempt,
        )

    def _paused_error(self, wait: float, method: str, shown: str, attempt: int) -> RateLimitError:
        """The budget is paused (a 429 seen by any process) for longer than we wait."""
        summary = f"{RateLimitError.default_message}; a plataforma pediu para aguardar {wait:.0f} s"
        error = RateLimitError(
            build_message(summary, self.name, None, None),
            api=self.name,
            method=method,
            url=shown,
            attempts=attempt - 1,
            retry_after=wait,
        )
        self.log.warning("%s %s %s not sent: %s", self.name, method, shown, error.message)
        return error

    def _retry_wait(self, error: APIError, attempt: int, allowed: int) -> float | None:
        """Seconds to wait before the next try, or None to give up and raise ``error``."""
        if (
            isinstance(error, RateLimitError)
            and error.retry_after is not None
            and error.retry_after > self.max_retry_after
        ):
            self.throttle.pause_for(error.retry_after)  # every user of this budget waits too
        return retry_wait(
            error,
            attempt,
            allowed,
            retry_delay=self.retry_delay,
            max_retry_delay=self.max_retry_delay,
            max_retry_after=self.max_retry_after,
            rng=self._rng,
        )


__all__ = [
    "ApiResponse",
    "HttpGateway",
    "mask",
    "mask_text",
    "parse_retry_after",
    "retry_hint",
]


class GatewayClient:
    """Base of the API clients: each owns one ``gateway``; closing the client (or leaving its
    ``with`` block) closes it."""

    gateway: HttpGateway

    def close(self) -> None:
        self.gateway.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
