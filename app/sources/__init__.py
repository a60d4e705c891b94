"""Inbound purchase-webhook formats (Hotmart, Kiwify, Kirvano).

Pure modules: each exposes ``verify(raw_body, headers, args, secret) -> VerifyResult`` and
``parse(body: dict) -> NormalizedEvent``. Typical use by the webhook blueprint::

    source = SOURCES[platform]
    result = source.verify(raw, request.headers, request.args, secret)   # 401 unless result.ok
    body = parse_json(raw)                                               # MalformedPayload → 400
    event = source.parse(body)                                           # InvalidPayload → 422
"""

from . import hotmart, kirvano, kiwify
from .base import (
    InvalidPayload,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    parse_json,
)

SOURCES = {"hotmart": hotmart, "kiwify": kiwify, "kirvano": kirvano}

__all__ = [
    "SOURCES",
    "InvalidPayload",
    "Kind",
    "MalformedPayload",
    "NormalizedEvent",
    "VerifyResult",
    "hotmart",
    "kirvano",
    "kiwify",
    "parse_json",
]
