"""Kommo API v4: account, contacts, leads, pipelines (PLATFORMS.md §6)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jwt
from flask import Blueprint, Response, request

from . import kommo_complex, kommo_writes
from .datasets import (
    CONTACT_ID_BASE,
    CPF_FIELD_ID,
    EMAIL_ENUMS,
    EMAIL_FIELD_ID,
    LEAD_ID_BASE,
    PHONE_ENUMS,
    PHONE_FIELD_ID,
    UTM_FIELD_ID,
    first_at_or_after,
)
from .wire import bearer_token, empty_response, emulator, json_response, query_with, take

bp = Blueprint("kommo", __name__, url_prefix="/kommo/api/v4")

HAL = "application/hal+json"
PROBLEM = "application/problem+json"
MAX_LIMIT = 250
DEFAULT_LIMIT = 50
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Problem(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def problem(status: int, detail: str, **extra) -> Response:
    body = {
        "title": TITLES.get(status, "Error"),
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return json_response(body, status, content_type=PROBLEM)


def fault_response(kind: str, status: int) -> Response:
    if kind == "unauthorized":
        return problem(401, "Unauthorized")
    if kind == "blocked":
        return problem(403, "Your account or IP address is blocked for API abuse")
    if kind == "timeout":
        return problem(504, "Gateway Timeout")
    return problem(status, "Injected fault")


def account_of() -> str:
    """The account a request counts against: the token's ``account_id`` (read, not verified:
    a refused token still hits the platform's limiter)."""
    token = bearer_token()
    if token:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            claims = {}
        if isinstance(claims, dict) and claims.get("account_id") is not None:
            return f"account-{claims['account_id']}"
    return "anonymous"


@bp.errorhandler(Problem)
def _problem(exc: Problem) -> Response:
    return problem(exc.status, exc.detail)


def href_base() -> str:
    """What stands for ``https://{subdomain}.kommo.com`` in links: the emulator's /kommo root."""
    return request.host_url.rstrip("/") + "/kommo"


@bp.before_request
def _guard() -> Response | None:
    emu = emulator()
    cfg = emu.config
    rt = emu.runtime
    if rt.kommo_blocked():
        return problem(403, "Your account or IP address is blocked for API abuse")
    if cfg.rate_limits_enabled and cfg.kommo_rate_limit:
        allowed, _, _ = rt.kommo_window.hit()
        if not allowed:
            rt.kommo_note_429()
            return problem(429, "Too many requests", retry_after=cfg.kommo_retry_after)
    token = bearer_token()
    if token is None:
        return problem(401, "Unauthorized")
    try:
        claims = jwt.decode(
            token,
            cfg.kommo_key(),
            algorithms=["HS256"],
            audience=cfg.kommo_audience(),
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "require": ["exp", "account_id"],
            },
        )
    except jwt.PyJWTError:
        return problem(401, "Unauthorized")
    if claims.get("account_id") != cfg.kommo_account_id:
        return problem(401, "Unauthorized")
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= cfg.clock():
        return problem(401, "Token has expired")
    return None


# ---------------------------------------------------------------------------- lists


def int_arg(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise Problem(400, f"Invalid value of {name}") from None


def withs() -> set[str]:
    return {w.strip() for w in request.args.get("with", "").split(",") if w.strip()}


def order() -> bool:
    """True for descending; only ``id``/``updated_at``/``created_at`` orders exist."""
    for key in ("order[updated_at]", "order[id]", "order[created_at]"):
        value = request.args.get(key)
        if value is not None:
            if value.lower() not in ("asc", "desc"):
                raise Problem(400, f"Invalid value of {key}")
            return value.lower() == "desc"
    return False


def id_filter(base: int, n: int) -> list[int] | None:
    raw = request.args.getlist("filter[id][]") + request.args.getlist("filter[id]")
    if not raw:
        return None
    out = []
    for value in raw:
        for part in value.split(","):
            try:
                i = int(part) - base
            except ValueError:
                raise Problem(400, "Invalid value of filter[id]") from None
            if 0 <= i < n:
                out.append(i)
    return sorted(set(out))


def hal_list(
    kind: str, n: int, text: Callable[[int], str], build: Callable[[int], dict], id_base: int
) -> Response:
    emu = emulator()
    data = emu.data.kommo
    page = int_arg("page", 1)
    limit = int_arg("limit", DEFAULT_LIMIT)
    if page is None or page < 1:
        raise Problem(400, "Invalid value of page")
    if limit is None or limit < 1:
        raise Problem(400, "Invalid value of limit")
    if limit > MAX_LIMIT:
        raise Problem(400, "Limit 250 per page")
    desc = order()

    def ts(i: int) -> int:
        return data.updated_at(kind, i)

    lo, hi = 0, n
    upd_from = int_arg("filter[updated_at][from]")
    upd_to = int_arg("filter[updated_at][to]")
    if upd_from is not None:
        lo = first_at_or_after(n, upd_from, ts)
    if upd_to is not None:
        hi = first_at_or_after(n, upd_to + 1, ts)
    hi = max(lo, hi)
    ids = id_filter(id_base, n)
    query = request.args.get("query", "").strip().lower()
    indices: Sequence[int]
    if ids is not None:
        indices = [i for i in ids if lo <= i < hi and (not query or query in text(i))]
    elif query:
        indices = emu.runtime.cached_indices(
            ("kommo", kind, lo, hi, query), lambda: [i for i in range(lo, hi) if query in text(i)]
        )
    else:
        indices = range(lo, hi)
    chunk = take(indices, (page - 1) * limit, limit, reverse=desc)
    if not chunk:
        return empty_response(204)
    base = href_base() + request.path[len("/kommo") :]
    links: dict = {"self": {"href": f"{base}?{query_with('page', page)}"}}
    if page * limit < len(indices):
        links["next"] = {"href": f"{base}?{query_with('page', page + 1)}"}
    if page > 1:
        links["prev"] = {"href": f"{base}?{query_with('page', page - 1)}"}
    body = {"_page": page, "_links": links, "_embedded": {kind: [build(i) for i in chunk]}}
    return json_response(body, content_type=HAL)


@bp.get("/contacts")
def contacts() -> Response:
    data = emulator().data.kommo
    with_leads = "leads" in withs()
    resp = hal_list(
        "contacts",
        data.n_contacts,
        data.contact_text,
        lambda i: data.contact(i, with_leads, href_base()),
        CONTACT_ID_BASE,
    )
    query = request.args.get("query", "").strip().lower()
    if not query:
        return resp
    return kommo_writes.merge_list(resp, "contacts", kommo_writes.written_contacts(query))


@bp.get("/contacts/<int:contact_id>")
def contact(contact_id: int) -> Response:
    data = emulator().data.kommo
    i = contact_id - CONTACT_ID_BASE
    if not 0 <= i < data.n_contacts:
        written = kommo_writes.written_contact(contact_id)
        if written is not None:
            return json_response(written, content_type=HAL)
        return empty_response(204)
    body = data.contact(i, "leads" in withs(), href_base())
    return json_response(body, content_type=HAL)


@bp.get("/leads")
def leads() -> Response:
    data = emulator().data.kommo
    with_contacts = "contacts" in withs()
    resp = hal_list(
        "leads",
        data.n_leads,
        data.lead_text,
        lambda i: data.lead(i, with_contacts, href_base()),
        LEAD_ID_BASE,
    )
    query = request.args.get("query", "").strip().lower()
    if not query:
        return resp
    return kommo_writes.merge_list(resp, "leads", kommo_writes.written_leads(query))


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> Response:
    data = emulator().data.kommo
    i = lead_id - LEAD_ID_BASE
    if not 0 <= i < data.n_leads:
        written = kommo_writes.written_lead(lead_id)
        if written is not None:
            return json_response(written, content_type=HAL)
        return empty_response(204)
    body = data.lead(i, "contacts" in withs(), href_base())
    return json_response(body, content_type=HAL)


@bp.get("/leads/pipelines")
def pipelines() -> Response:
    data = emulator().data.kommo
    items = data.pipelines(href_base())
    body = {
        "_total_items": len(items),
        "_links": {"self": {"href": f"{href_base()}/api/v4/leads/pipelines"}},
        "_embedded": {"pipelines": items},
    }
    return json_response(body, content_type=HAL)


def _pipeline(pipeline_id: int) -> dict:
    data = emulator().data.kommo
    for item in data.pipelines(href_base()):
        if item["id"] == pipeline_id:
            return item
    raise Problem(404, "Pipeline not found")


@bp.get("/leads/pipelines/<int:pipeline_id>")
def pipeline(pipeline_id: int) -> Response:
    return json_response(_pipeline(pipeline_id), content_type=HAL)


@bp.get("/leads/pipelines/<int:pipeline_id>/statuses")
def pipeline_statuses(pipeline_id: int) -> Response:
    statuses = _pipeline(pipeline_id)["_embedded"]["statuses"]
    body = {
        "_total_items": len(statuses),
        "_links": {
            "self": {"href": f"{href_base()}/api/v4/leads/pipelines/{pipeline_id}/statuses"}
        },
        "_embedded": {"statuses": statuses},
    }
    return json_response(body, content_type=HAL)


@bp.get("/account")
def account() -> Response:
    return json_response(emulator().data.kommo.account(href_base()), content_type=HAL)


def _custom_fields(kind: str, fields: list[dict]) -> Response:
    body = {
        "_total_items": len(fields),
        "_page": 1,
        "_links": {"self": {"href": f"{href_base()}/api/v4/{kind}/custom_fields"}},
        "_embedded": {"custom_fields": fields},
    }
    return json_response(body, content_type=HAL)


@bp.get("/contacts/custom_fields")
def contact_fields() -> Response:
    def field(fid: int, name: str, code: str, enums: dict[str, int]) -> dict:
        return {
            "id": fid,
            "name": name,
            "type": "multitext",
            "code": code,
            "sort": 4,
            "is_api_only": False,
            "entity_type": "contacts",
            "enums": [
                {"id": eid, "value": value, "sort": (n + 1) * 2}
                for n, (value, eid) in enumerate(enums.items())
            ],
        }

    fields = [
        field(PHONE_FIELD_ID, "Phone", "PHONE", PHONE_ENUMS),
        field(EMAIL_FIELD_ID, "Email", "EMAIL", EMAIL_ENUMS),
    ]
    if emulator().config.kommo_cpf_field:  # an account's own field: no code, type text
        fields.append(
            {
                "id": CPF_FIELD_ID,
                "name": "CPF",
                "type": "text",
                "code": None,
                "sort": 510,
                "is_api_only": False,
                "entity_type": "contacts",
                "enums": None,
            }
        )
    return _custom_fields("contacts", fields)


@bp.get("/leads/custom_fields")
def lead_fields() -> Response:
    return _custom_fields(
        "leads",
        [
            {
                "id": UTM_FIELD_ID,
                "name": "utm_source",
                "type": "text",
                "code": None,
                "sort": 510,
                "is_api_only": False,
                "entity_type": "leads",
                "enums": None,
            },
        ],
    )


kommo_writes.register(bp)  # POST/PATCH contacts and leads, notes (kept in their own module)
kommo_complex.register(bp)  # POST leads/complex
