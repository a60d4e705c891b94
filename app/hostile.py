"""Request-level guards against values no database column can hold.

* ``BoundedIntConverter`` replaces Flask's ``int`` URL converter: ids past a 32-bit INTEGER
  (every local primary key) are answered 404 instead of an overflow on PostgreSQL (≥ 2³¹) or
  SQLite (≥ 2⁶³). Routes keyed by remote 64-bit ids say ``<int(max=…):id>``.
* ``reject_unstorable_input`` answers 400 to query strings, form fields and URL parts holding
  NUL (refused by PostgreSQL text columns and binds) or lone surrogates (not encodable).
* ``Request.get_json`` applies the same rule to JSON bodies and answers 400 (not 500) to
  bodies nested too deep to decode.

Webhook bodies are not touched here: they are verified, stored raw and parsed by
``app.sources``, which cleans every field it keeps.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Request as FlaskRequest
from flask import abort, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
INVALID_INPUT = "Os dados enviados contêm caracteres inválidos."

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: Any) -> bool:
    """True for a string holding NUL or a lone surrogate."""
    return isinstance(value, str) and _UNSTORABLE.search(value) is not None


def has_unstorable(value: Any) -> bool:
    """True when any string (key or value) of a decoded JSON document is unstorable."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if unstorable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that only matches values a 32-bit INTEGER column can hold (else 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT32, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Request(FlaskRequest):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        try:
            value = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            raise BadRequest("JSON aninhado demais.") from None
        if has_unstorable(value):
            raise BadRequest(INVALID_INPUT)
        return value


def _multidict_unstorable(data) -> bool:
    return any(unstorable(k) or unstorable(v) for k, v in data.items(multi=True))


def reject_unstorable_input():
    """before_request: 400 for NUL / lone surrogates in the URL, query string or form."""
    if request.blueprint == "webhooks":
        # Verified and stored raw by the receiver (a NUL in ?signature= is a bad signature:
        # 401); reading .form here would also consume the body.
        return None
    if any(unstorable(v) for v in (request.view_args or {}).values()):
        abort(400, description=INVALID_INPUT)
    if _multidict_unstorable(request.args):
        abort(400, description=INVALID_INPUT)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if _multidict_unstorable(request.form):
            abort(400, description=INVALID_INPUT)
    return None
