"""Webhook body decoding and dedupe keys built from bodies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .events import MalformedPayload
from .values import MAX_KEY_LEN, text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


_DECODED: ContextVar[tuple[bytes, dict] | None] = ContextVar("webhook_body", default=None)


@contextmanager
def decoded(raw: bytes, body: dict) -> Iterator[None]:
    """Within the block, ``parse_json(raw)`` returns ``body`` (already decoded by the caller)
    instead of decoding the same bytes again (verifiers that look for a token in the body)."""
    token = _DECODED.set((raw, body))
    try:
        yield
    finally:
        _DECODED.reset(token)


def parse_json(raw: bytes) -> dict:
    """Decode a webhook body into a dict; ``MalformedPayload`` for anything else."""
    held = _DECODED.get()
    if held is not None and held[0] is raw:
        return held[1]
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedPayload("Corpo da requisição ausente ou inválido")
    data = bytes(raw)
    if not data.strip():
        raise MalformedPayload("Corpo da requisição vazio")
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError, TypeError):
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise MalformedPayload("Corpo da requisição não é um JSON válido") from None
    if not isinstance(value, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    return value


def loads_lenient(raw: bytes) -> dict:
    """Best-effort decode used only to look for a token inside the body; never raises."""
    try:
        return parse_json(raw)
    except MalformedPayload:
        return {}


def make_key(*parts: Any) -> str | None:
    """Join the non-empty parts with ``:``; ``None`` if any required part is missing.

    Keys longer than 255 characters keep a readable prefix plus a SHA-256 of the whole key.
    """
    pieces: list[str] = []
    for part in parts:
        piece = text(part, 10_000)
        if piece is None:
            return None
        pieces.append(piece)
    return clamp_key(":".join(pieces))


def clamp_key(key: str) -> str:
    if len(key) <= MAX_KEY_LEN:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key[: MAX_KEY_LEN - len(digest) - 1] + "~" + digest


def body_hash_key(event_type: str, body: Mapping[str, Any]) -> str:
    """Last-resort dedupe key: event type + SHA-256 of the canonical JSON body.

    A byte-identical replay (or the same object re-serialized) gets the same key.
    """
    try:
        canonical = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
        )
    except (TypeError, ValueError, RecursionError):
        try:
            canonical = repr(body)
        except (ValueError, RecursionError):
            canonical = "<unserializable body>"
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return clamp_key(f"{event_type}:sha256:{digest}")
