"""Realistic, signed purchase webhooks of every platform the app receives (PLATFORMS.md §2-§5).

One module per platform in this package declares ``SENDER = Sender(...)`` (native event names,
body builder, proof); they are discovered here, so adding a platform's sender is adding its
module. ``build_event`` is pure apart from fresh ids and the current time (both can be
overridden): it returns the exact body bytes, the headers and the query parameters a platform
would send. ``sign`` adds the platform's proof; ``send`` posts it with ``requests``.
"""

from __future__ import annotations

import pkgutil
import secrets
from importlib import import_module
from typing import Any
from urllib.parse import urlencode

import requests

from . import kiwify as _kiwify
from .common import FAMILIES, OVERRIDES, Ctx, Sender, encode
from .kirvano import DEFAULT_HEADER as DEFAULT_KIRVANO_HEADER

# The app's registry order first (hotmart, kiwify, kirvano), then any other sender module.
_ORDER = ("hotmart", "kiwify", "kirvano")


def _discover() -> dict[str, Sender]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name != "common"]
    names.sort(key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name))
    senders: dict[str, Sender] = {}
    for name in names:
        sender = getattr(import_module(f"{__name__}.{name}"), "SENDER", None)
        if isinstance(sender, Sender):
            senders[sender.platform] = sender
    return senders


SENDERS: dict[str, Sender] = _discover()
PLATFORMS = tuple(SENDERS)
NATIVE = {name: sender.native for name, sender in SENDERS.items()}
EXTRA_NATIVE = {name: sender.extra_native for name, sender in SENDERS.items()}

__all__ = [
    "DEFAULT_KIRVANO_HEADER",
    "FAMILIES",
    "OVERRIDES",
    "PLATFORMS",
    "SENDERS",
    "build_event",
    "build_payload",
    "encode",
    "kiwify_signature",
    "random_secret",
    "resolve_event",
    "send",
    "sign",
    "url_with_query",
]


def _sender(platform: str) -> Sender:
    if platform not in SENDERS:
        raise ValueError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    return SENDERS[platform]


def resolve_event(platform: str, event: str) -> tuple[str, str | None]:
    """A family name or native event name → (family, native event name or None)."""
    sender = _sender(platform)
    key = event.strip().replace("-", "_")
    if key.lower() in FAMILIES:
        return key.lower(), sender.native[key.lower()]
    for family, native in sender.native.items():
        if native and native.lower() == key.lower():
            return family, native
    for native, pair in sender.extra_native.items():
        if native.lower() == key.lower():
            return pair
    known = sorted({*FAMILIES, *(n for n in sender.native.values() if n), *sender.extra_native})
    raise ValueError(f"unknown {platform} event {event!r}; known: {', '.join(known)}")


def build_payload(platform: str, event: str, **overrides: Any) -> dict:
    """The JSON object of one event (``event``: a family or native name)."""
    family, native = resolve_event(platform, event)
    return _sender(platform).build(Ctx(platform, family, native, overrides))


def kiwify_signature(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA1 of the raw body keyed by the webhook token."""
    return _kiwify.signature(body, secret)


def sign(
    platform: str,
    body: bytes,
    secret: str | None,
    kirvano_header: str = DEFAULT_KIRVANO_HEADER,
    **options: Any,
) -> tuple[dict[str, str], dict[str, str]]:
    """The platform's proof for ``body`` → (extra headers, extra query parameters)."""
    return _sender(platform).sign(body, secret, {"kirvano_header": kirvano_header, **options})


def build_event(
    platform: str,
    event: str,
    *,
    secret: str | None = None,
    kirvano_header: str = DEFAULT_KIRVANO_HEADER,
    hottok_in_body: bool = False,
    form: bool = False,
    **overrides: Any,
) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """A ready-to-send event → (body bytes, headers, query parameters)."""
    sender = _sender(platform)
    options = {"kirvano_header": kirvano_header, "hottok_in_body": hottok_in_body, "form": form}
    payload = build_payload(platform, event, **overrides)
    body, content_type = sender.body(payload, secret, options)
    headers = {"Content-Type": content_type, "Accept": "application/json, text/plain, */*"}
    headers["User-Agent"] = sender.user_agent
    extra_headers, query = sender.sign(body, secret, options)
    headers.update(extra_headers)
    return body, headers, query


def url_with_query(url: str, query: dict[str, str]) -> str:
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def send(
    url: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> requests.Response:
    """POST the exact bytes (redirects not followed, like Kiwify)."""
    return requests.post(
        url_with_query(url, query or {}),
        data=body,
        headers=headers,
        timeout=timeout,
        allow_redirects=False,
    )


def random_secret() -> str:
    return secrets.token_urlsafe(32)
