"""Result types shared by the API clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ConnectionResult:
    """Outcome of a client's ``test_connection``: what the "Testar conexão" button shows.

    ``code`` is ``ok`` or a failure such as ``missing_credentials``, ``invalid_credentials``,
    ``permission_denied``, ``payment_required``, ``rate_limited``, ``timeout``,
    ``connection_error``, ``upstream_error``, ``invalid_request``, ``error`` (each client lists
    its own in its ``test_connection``).
    """

    success: bool
    message: str
    code: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "success": self.success,
            "message": self.message,
            "code": self.code,
            "details": dict(self.details),
        }
