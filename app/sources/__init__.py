"""Inbound purchase-webhook formats, one module per platform, collected by ``registry``.

Pure modules: each declares ``SOURCE = WebhookSource(...)`` with ``verify(raw_body, headers,
args, secret) -> VerifyResult`` and ``parse(body: dict) -> NormalizedEvent``. Typical use by the
webhook blueprint::

    source = SOURCES[platform]
    result = source.verify(raw, request.headers, request.args, secret)   # 401 unless result.ok
    body = source.decode(raw)                                            # MalformedPayload → 400
    event = source.parse(body)                                           # InvalidPayload → 422
"""

from .base import (
    InvalidPayload,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    parse_json,
)
from .descriptor import WebhookSource
from .registry import PLATFORMS, SOURCES

__all__ = [
    "PLATFORMS",
    "SOURCES",
    "InvalidPayload",
    "Kind",
    "MalformedPayload",
    "NormalizedEvent",
    "VerifyResult",
    "WebhookSource",
    "parse_json",
]
