"""Secret masking for the clients' logs: the app's rules, known secrets, debug dumps.

Every secret a gateway learns (tokens, client secrets, Basic values) is remembered here so
third-party loggers (urllib3 logs full URLs at DEBUG, and the Hotmart token URL carries
``client_secret``) mask it too. ``debug_headers``/``debug_body`` format a request or response
for the per-API debug log (``KOMMO_DEBUG``/``GESTAO_CLICK_DEBUG``) with secrets masked.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

DEBUG_BODY_CHARS = 4000
SECRET_HEADERS = frozenset(
    {"authorization", "access-token", "secret-access-token", "x-hotmart-hottok", "cookie"}
)

try:  # the app's masking rules (••••••wxyz), shared with its log filter
    from app.logs import mask, mask_text
except ImportError:  # pragma: no cover - only when the clients are used outside the app
    _PAIR = re.compile(
        r"(?i)((?:secret|token|password|authorization|signature|api[-_]?key)[\w-]*[\"']?\s*[:=]\s*"
        r"[\"']?)(?:(?:bearer|basic)\s+)?([^\s\"'&,;]+)"
    )

    def mask(value: str) -> str:  # app.logs.mask: the last 4 of 20+ characters only
        return "••••••" + value[-4:] if len(value) >= 20 else "••••••"

    def mask_text(text: str, known_secrets: tuple[str, ...] = ()) -> str:
        for secret in known_secrets:
            if secret and len(secret) >= 4:
                text = text.replace(secret, mask(secret))
        return _PAIR.sub(lambda m: m.group(1) + mask(m.group(2)), text)


# Secrets every gateway has seen (newest last, bounded): third-party loggers mask them too.
_KNOWN_SECRETS: list[str] = []
_KNOWN_SECRETS_LOCK = threading.Lock()
_MAX_KNOWN_SECRETS = 256


class _ThirdPartyMaskingFilter(logging.Filter):
    """urllib3 logs full URLs at DEBUG (the Hotmart token URL carries ``client_secret``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            return True
        masked = mask_text(message, tuple(_KNOWN_SECRETS))
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _remember_secret(value: str) -> None:
    with _KNOWN_SECRETS_LOCK:
        if value not in _KNOWN_SECRETS:
            _KNOWN_SECRETS.append(value)
            _KNOWN_SECRETS.sort(key=len, reverse=True)
            del _KNOWN_SECRETS[_MAX_KNOWN_SECRETS:]


_URLLIB3_LOGGER = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _ThirdPartyMaskingFilter) for f in _URLLIB3_LOGGER.filters):
    _URLLIB3_LOGGER.addFilter(_ThirdPartyMaskingFilter())


def remember_secret(value: str) -> None:
    """Mask ``value`` in third-party log lines from now on."""
    _remember_secret(value)


def debug_body(body: Any, masker: Callable[[str], str]) -> str:
    if body is None or body == b"" or body == "":
        return "-"
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = masker(str(body))
    return text if len(text) <= DEBUG_BODY_CHARS else text[:DEBUG_BODY_CHARS] + "…"


def debug_headers(headers: Mapping[str, str], masker: Callable[[str], str]) -> str:
    shown = {}
    for key, value in headers.items():
        secret = key.lower() in SECRET_HEADERS or any(
            word in key.lower() for word in ("token", "secret", "key", "auth")
        )
        shown[key] = mask(value) if secret and value else masker(value)
    return json.dumps(shown, ensure_ascii=False)


def debug_logger(base: logging.Logger, api_name: str) -> logging.Logger:
    """``<base>.<api slug>.debug`` at DEBUG, whatever LOG_LEVEL says (``KOMMO_DEBUG``…)."""
    slug = re.sub(
        r"[^a-z0-9]+",
        "_",
        unicodedata.normalize("NFKD", api_name).encode("ascii", "ignore").decode().lower(),
    ).strip("_")
    log = logging.getLogger(f"{base.name}.{slug or 'api'}.debug")
    log.setLevel(logging.DEBUG)
    return log


def log_debug_request(
    log: logging.Logger, api: str, prepared: Any, shown: str, masker: Callable[[str], str]
) -> None:
    log.debug(
        "%s debug request: %s %s headers=%s body=%s",
        api,
        prepared.method,
        shown,
        debug_headers(prepared.headers, masker),
        debug_body(prepared.body, masker),
    )


def log_debug_response(
    log: logging.Logger,
    api: str,
    resp: Any,
    method: str,
    shown: str,
    duration: float,
    masker: Callable[[str], str],
) -> None:
    log.debug(
        "%s debug response: %s %s → %d in %.0f ms headers=%s body=%s",
        api,
        method,
        shown,
        resp.status_code,
        duration * 1000,
        debug_headers(resp.headers, masker),
        debug_body(resp.text if resp.content else None, masker),
    )


__all__ = [
    "debug_body",
    "debug_headers",
    "debug_logger",
    "log_debug_request",
    "log_debug_response",
    "mask",
    "mask_text",
    "remember_secret",
]
