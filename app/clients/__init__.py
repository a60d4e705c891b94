"""Outbound API clients (Hotmart, Kommo, Gestão Click) on one HTTP gateway.

Clients take plain arguments and never touch Flask or the database; services build them from
settings and persist what they return.
"""

from .budget import RateBudget
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    UpstreamError,
)
from .http import HttpGateway
from .results import ApiResponse
from .throttle import Throttle

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ApiResponse",
    "AuthenticationError",
    "HttpGateway",
    "InvalidRequestError",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateBudget",
    "RateLimitError",
    "Throttle",
    "UpstreamError",
]
