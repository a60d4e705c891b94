"""Typed errors raised by the outbound API clients (modelled on stripe-python's hierarchy).

Every error carries the HTTP ``status`` (None when no response arrived), the upstream error
``code`` (e.g. Hotmart ``invalid_token``), a ``message`` in pt-BR an operator can act on, and
``retryable``: whether trying again later may succeed. Messages never contain secrets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class APIError(Exception):
    """Base of every client error."""

    default_message = "Erro ao falar com a API"
    default_retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        api: str | None = None,
        method: str | None = None,
        url: str | None = None,
        body: Any = None,
        attempts: int = 1,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ):
        self.status = status
        self.code = code
        self.detail = detail  # the upstream's own text (masked), if any
        self.api = api
        self.method = method
        self.url = url  # masked
        self.body = body
        self.attempts = attempts
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said
        self.retryable = self.default_retryable if retryable is None else retryable
        self.message = message or build_message(self.default_message, api, status, detail)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, " + (
            f"message={self.message!r})"
        )


class AuthenticationError(APIError):
    """401: credentials or token refused."""

    default_message = "Credenciais inválidas ou expiradas"


class PaymentRequiredError(APIError):
    """402: the account's subscription with the platform has ended."""

    default_message = "A assinatura da conta na plataforma está inativa (pagamento pendente)"


class PermissionDeniedError(APIError):
    """403: no permission for the resource, or the account/IP is blocked."""

    default_message = "Acesso negado: permissão insuficiente ou conta bloqueada pela plataforma"


class NotFoundError(APIError):
    """404: unknown resource (Gestão Click also uses it for validation errors)."""

    default_message = "Recurso não encontrado"


class InvalidRequestError(APIError):
    """400/422 (and other 4xx): the request itself is wrong; retrying will not help."""

    default_message = "Requisição inválida"


# The platforms said with "a" in Portuguese ("a Hotmart"); the others take "o" ("o Kommo").
FEMININE_APIS = frozenset({"Hotmart", "Kiwify", "Kirvano", "Eduzz"})


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the wait the server asked for, in seconds."""

    default_message = "Limite de requisições da plataforma atingido"
    default_retryable = True

    @property
    def queue_note(self) -> str:
        """What a queued delivery's "Último erro" says: who asked to wait, for how long, and
        that the queue retries by itself (no HTTP details: the log line keeps them)."""
        if self.api:
            who = f"{'A' if self.api in FEMININE_APIS else 'O'} {self.api}"
        else:
            who = "A plataforma"
        seconds = math.ceil(self.retry_after) if self.retry_after else 0
        wait = f"esperar {seconds} s" if seconds > 0 else "esperar um pouco"
        return f"{who} pediu para {wait} antes do próximo envio. O painel tenta de novo sozinho."


class UpstreamError(APIError):
    """5xx: the platform failed (502 at Hotmart usually means a query over 30 s)."""

    default_message = "A plataforma respondeu com erro interno"
    default_retryable = True


class APIConnectionError(APIError):
    """No response: DNS failure, connection refused or reset, TLS error."""

    default_message = "Não foi possível conectar à plataforma"
    default_retryable = True


class APITimeoutError(APIConnectionError):
    """The connect or read timeout expired."""

    default_message = "Tempo limite esgotado ao aguardar a plataforma"


def build_message(summary: str, api: str | None, status: int | None, detail: str | None) -> str:
    """``Hotmart: Credenciais inválidas ou expiradas (HTTP 401: Invalid access token)``."""
    text = f"{api}: {summary}" if api else summary
    extra = [f"HTTP {status}"] if status is not None else []
    if detail:
        extra.append(detail)
    return f"{text} ({': '.join(extra)})" if extra else text


def error_class_for_status(status: int) -> type[APIError]:
    """The error type a non-2xx status maps to."""
    if status in (400, 422):
        return InvalidRequestError
    if status == 401:
        return AuthenticationError
    if status == 402:
        return PaymentRequiredError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 408:
        return APITimeoutError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return UpstreamError
    if 400 <= status < 500:
        return InvalidRequestError
    return APIError


# ---------------------------------------------------------------------------- error bodies


@dataclass(frozen=True)
class ErrorInfo:
    """What an API's error-body parser read from an error response (the parsers live next to
    their clients: ``parse_hotmart_error``, ``parse_kommo_error``, ``parse_gestaoclick_error``)."""

    code: str | None = None
    detail: str | None = None
    error_class: type[APIError] | None = None  # overrides the status mapping
    retry_after: float | None = None


ErrorParser = Callable[[int, Any, Mapping[str, str]], "ErrorInfo | None"]


def text_of(value: Any) -> str | None:
    """A body value as text (JSON for structures), None when empty."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def number_of(value: Any) -> float | None:
    """A finite, non-negative number, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


DETAIL_KEYS = ("message", "mensagem", "error_description", "detail", "title", "error")
CODE_KEYS = ("error", "title", "erro", "code")


def parse_error_body(status: int, body: Any, headers: Mapping[str, str]) -> ErrorInfo | None:
    """The gateway's default parser for an API without its own: common keys at the top level
    or under ``data``, ``retry_after`` in the body, or a short non-HTML text body."""
    if isinstance(body, dict):
        nested = body.get("data") if isinstance(body.get("data"), dict) else {}
        code = next(
            (v for src in (body, nested) for k in CODE_KEYS if isinstance(v := src.get(k), str)),
            None,
        )
        detail = next(
            (t for src in (body, nested) for k in DETAIL_KEYS if (t := text_of(src.get(k)))),
            None,
        )
        if code or detail:
            return ErrorInfo(
                code=code, detail=detail, retry_after=number_of(body.get("retry_after"))
            )
    if isinstance(body, str) and body.strip() and "<" not in body[:50]:
        return ErrorInfo(detail=body.strip())
    return None


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "InvalidRequestError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "UpstreamError",
    "ErrorInfo",
    "ErrorParser",
    "build_message",
    "error_class_for_status",
    "number_of",
    "parse_error_body",
    "text_of",
]
