"""Typed errors raised by the outbound API clients (modelled on stripe-python's hierarchy).

Every error carries the HTTP ``status`` (None when no response arrived), the upstream error
``code`` (e.g. Hotmart ``invalid_token``), a ``message`` in pt-BR an operator can act on, and
``retryable``: whether trying again later may succeed. Messages never contain secrets.
"""

from __future__ import annotations

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


class RateLimitError(APIError):
    """429: too many requests. ``retry_after`` is the wait the server asked for, in seconds."""

    default_message = "Limite de requisições da plataforma atingido"
    default_retryable = True


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
    "build_message",
    "error_class_for_status",
]
