"""Where Hotmart access tokens live between calls (and processes, for a database-backed
store such as ``app.services.hotmart.DatabaseTokenStore``)."""

from __future__ import annotations

import threading
from typing import Protocol


class TokenStore(Protocol):
    """Where access tokens live between calls (and processes, for a database-backed one).

    ``expires_at`` is a Unix timestamp (seconds) after which the token must not be used; the
    refresh margin is already subtracted. Implementations must be safe to call from threads.
    """

    def get(self, key: str) -> tuple[str, float] | None: ...

    def set(self, key: str, token: str, expires_at: float) -> None: ...


class MemoryTokenStore:
    """The default ``TokenStore``: a dict behind a lock, for one process."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        with self._lock:
            return self._tokens.get(key)

    def set(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires_at)


__all__ = ["MemoryTokenStore", "TokenStore"]
