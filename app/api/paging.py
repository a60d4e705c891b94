"""Query-string parsing and the one paginated JSON envelope every list endpoint answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import abort, jsonify, request

from app.extensions import db
from app.paging import page_count
from app.plurals import plural
from config import TRUE_VALUES

MAX_PAGE = 100_000


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """``?name=`` as an int within [low, high]; 400 with a readable message otherwise."""
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"Parâmetro {name} inválido.")
    if not low <= value <= high:
        abort(400, description=f"Parâmetro {name} deve estar entre {low} e {high}.")
    return value


def wants_full() -> bool:
    """``{"full": true}`` in a JSON body, or ``full=1`` in the form or query string."""
    payload = request.get_json(silent=True) if request.is_json else None
    if isinstance(payload, dict) and "full" in payload:
        value = payload["full"]
        return value is True or str(value).strip().lower() in TRUE_VALUES
    return (request.values.get("full") or "").strip().lower() in TRUE_VALUES


def list_body(items: list, page: int | None, limit: int, total: int, noun: tuple[str, str]) -> dict:
    """A list answer: SPEC §5 keys (``items``, ``page``, ``limit``, ``total``) plus the seeds'
    (``data``, ``pagination`` {page, limit, pageCount, total}, ``message``)."""
    return {
        "success": True,
        "items": items,
        "page": page,
        "limit": limit,
        "total": total,
        "data": items,
        "pagination": {
            "page": page,
            "limit": limit,
            "pageCount": page_count(total, limit),
            "total": total,
        },
        "message": f"{total} {plural(total, *noun)}",
    }


def paginated(
    stmt,
    serialize: Callable[[Sequence], list],
    noun: tuple[str, str],
    *,
    default_limit: int = 50,
    max_limit: int = 200,
):
    """Answer one page of ``stmt`` (``?page=``, ``?limit=``) in the envelope above."""
    page = int_arg("page", 1, 1, MAX_PAGE)
    limit = int_arg("limit", default_limit, 1, max_limit)
    result = db.paginate(stmt, page=page, per_page=limit, error_out=False)
    return jsonify(list_body(serialize(result.items), page, limit, result.total, noun))
