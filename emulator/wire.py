"""Small response helpers shared by the emulated APIs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, request


def json_response(
    body: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON response with keys in insertion order and UTF-8 text (no ASCII escaping)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    resp = Response(text, status=status, content_type=f"{content_type}; charset=utf-8")
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def empty_response(status: int = 204) -> Response:
    resp = Response(b"", status=status)
    resp.headers.pop("Content-Type", None)
    return resp


def query_with(name: str, value: object) -> str:
    """The current query string with ``name`` set to ``value`` (other pairs kept in order)."""
    pairs: list[tuple[str, str]] = []
    replaced = False
    for key, val in request.args.items(multi=True):
        if key == name:
            if not replaced:
                pairs.append((key, str(value)))
                replaced = True
            continue
        pairs.append((key, val))
    if not replaced:
        pairs.append((name, str(value)))
    return urlencode(pairs, safe="[]")


def multi_values(name: str) -> list[str]:
    """Values of a repeatable parameter (``k=A&k=B`` and ``k=A,B`` both accepted)."""
    out: list[str] = []
    for raw in request.args.getlist(name) + request.args.getlist(f"{name}[]"):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def take(seq, start: int, count: int, reverse: bool = False) -> list[int]:
    """``count`` items of ``seq`` from position ``start`` (counted from the end if reverse)."""
    n = len(seq)
    if start >= n or count <= 0:
        return []
    if not reverse:
        return list(seq[start : start + count])
    stop = n - start
    first = max(0, stop - count)
    return list(seq[first:stop])[::-1]


def emulator():
    """The running emulator (config, runtime state, datasets) of the current app."""
    from flask import current_app

    return current_app.extensions["emulator"]
