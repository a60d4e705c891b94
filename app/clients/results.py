"""Result types shared by the API clients: a successful response, a connection test."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests


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
    # The message split into one line per thing checked (a bot, then each group), when the
    # test has several: the page shows them as a list. ``message`` is the same text in one.
    lines: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        body = {
            "success": self.success,
            "message": self.message,
            "code": self.code,
            "details": dict(self.details),
        }
        if self.lines:
            body["lines"] = list(self.lines)
        return body


@dataclass(frozen=True)
class ApiResponse:
    """A successful response: ``data`` is parsed JSON, text, or None (204 / empty body)."""

    status: int
    data: Any
    headers: Mapping[str, str]
    url: str  # masked
    attempts: int
    elapsed: float  # seconds, all attempts and waits included


def decode_body(resp: requests.Response) -> Any:
    """Parsed JSON, text, or None for a 204 / empty body (ValueError on broken JSON that says
    it is JSON)."""
    if resp.status_code == 204 or not resp.content:
        return None
    content_type = resp.headers.get("Content-Type", "").lower()
    text = resp.text
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            if "json" in content_type:
                raise
    return text
