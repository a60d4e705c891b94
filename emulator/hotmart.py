"""Hotmart REST API: OAuth token, products, sales history, subscriptions (PLATFORMS.md §3.5).

Size: one platform's read API and its filters (a little over 400 lines); the records are
generated in ``datasets_hotmart.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from collections.abc import Callable, Sequence

from flask import Blueprint, Response, abort, g, request

from .datasets import HotmartData, first_at_or_after
from .wire import bearer_token, emulator, json_response, multi_values

bp = Blueprint("hotmart", __name__, url_prefix="/hotmart")

ENVS = ("production", "sandbox")
MAX_RESULTS_CAP = 500
DEFAULT_MAX_RESULTS = 50
SALE_STATUSES = {
    "APPROVED",
    "BLOCKED",
    "CANCELLED",
    "CHARGEBACK",
    "COMPLETE",
    "EXPIRED",
    "NO_FUNDS",
    "OVERDUE",
    "PARTIALLY_REFUNDED",
    "PRE_ORDER",
    "PRINTED_BILLET",
    "PROCESSING_TRANSACTION",
    "PROTESTED",
    "REFUNDED",
    "STARTED",
    "UNDER_ANALISYS",
    "WAITING_PAYMENT",
}
SUB_STATUSES = {
    "ACTIVE",
    "INACTIVE",
    "DELAYED",
    "OVERDUE",
    "STARTED",
    "EXPIRED",
    "CANCELLED_BY_CUSTOMER",
    "CANCELLED_BY_SELLER",
    "CANCELLED_BY_ADMIN",
}
PRODUCT_STATUSES = {
    "DRAFT",
    "ACTIVE",
    "PAUSED",
    "NOT_APPROVED",
    "IN_REVIEW",
    "DELETED",
    "CHANGES_PENDING_ON_PRODUCT",
}


class BadRequest(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def error(status: int, code: str, description: str, headers: dict | None = None) -> Response:
    return json_response({"error": code, "error_description": description}, status, headers=headers)


def fault_response(kind: str, status: int) -> Response:
    if kind == "unauthorized":
        if request.endpoint == "hotmart.token":
            return error(401, "unauthorized", "Bad credentials")
        return error(401, "invalid_token", "Invalid access token")
    if kind == "blocked":
        return error(403, "unauthorized_client", "Client is not allowed to access this resource")
    if kind == "timeout":
        return error(504, "gateway_timeout", "Upstream request timed out")
    codes = {502: "bad_gateway", 503: "service_unavailable", 429: "too_many_requests"}
    return error(status, codes.get(status, "internal_server_error"), "Injected fault")


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> Response:
    return error(400, exc.error, exc.description)


# ---------------------------------------------------------------------------- guard


def account_of() -> str:
    """The client a request counts against: its ``client_id`` (token calls) or the client the
    Bearer token was issued to."""
    if request.endpoint == "hotmart.token":
        return request.args.get("client_id") or "anonymous"
    token = bearer_token()
    info = emulator().runtime.hotmart_tokens.get(token) if token else None
    return str(info["client_id"]) if info else "anonymous"


@bp.before_request
def _guard() -> Response | None:
    if request.endpoint == "hotmart.token":
        return None
    emu = emulator()
    cfg = emu.config
    if cfg.rate_limits_enabled and cfg.hotmart_rate_limit:
        allowed, remaining, reset = emu.runtime.hotmart_window.hit()
        g.hotmart_rate = (cfg.hotmart_rate_limit, remaining, reset)
        if not allowed:
            return error(429, "too_many_requests", "Rate limit exceeded: 500 calls per minute")
    env = (request.view_args or {}).get("env")
    if env not in ENVS:
        return None  # the view answers 404
    token = bearer_token()
    if token is None:
        return error(401, "unauthorized", "Full authentication is required to access this resource")
    info = emu.runtime.hotmart_tokens.get(token)
    if info is None:
        return error(401, "invalid_token", "Invalid access token")
    if info["expires_at"] <= cfg.clock():
        return error(401, "invalid_token", "Access token expired")
    if info["env"] != env:
        return error(401, "invalid_token", f"Invalid access token for the {env} environment")
    return None


@bp.after_request
def _rate_headers(resp: Response) -> Response:
    rate = g.pop("hotmart_rate", None)
    if rate is not None:
        limit, remaining, reset = rate
        resp.headers["RateLimit-Limit"] = str(limit)
        resp.headers["RateLimit-Remaining"] = str(remaining)
        resp.headers["RateLimit-Reset"] = str(max(1, int(reset + 0.999)))
        resp.headers["X-RateLimit-Limit-Minute"] = str(limit)
        resp.headers["X-RateLimit-Remaining-Minute"] = str(remaining)
    return resp


# ---------------------------------------------------------------------------- token


@bp.post("/auth/security/oauth/token")
def token() -> Response:
    emu = emulator()
    cfg = emu.config
    grant_type = request.args.get("grant_type") or request.form.get("grant_type")
    if grant_type != "client_credentials":
        return error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type or ''}")
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return error(401, "unauthorized", "Full authentication is required to access this resource")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
        basic_id, basic_secret = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return error(401, "unauthorized", "Bad credentials")
    env = next(
        (
            name
            for name, pair in cfg.hotmart_credentials().items()
            if secrets.compare_digest(pair[0], basic_id)
            and secrets.compare_digest(pair[1], basic_secret)
        ),
        None,
    )
    query_id = request.args.get("client_id")
    query_secret = request.args.get("client_secret")
    if (
        env is None
        or (query_id is not None and query_id != basic_id)
        or (query_secret is not None and query_secret != basic_secret)
    ):
        return error(401, "unauthorized", "Bad credentials")
    access_token = secrets.token_urlsafe(48)
    jti = str(uuid.uuid4())
    with emu.runtime.lock:
        emu.runtime.hotmart_tokens[access_token] = {
            "env": env,
            "client_id": basic_id,
            "jti": jti,
            "expires_at": cfg.clock() + cfg.hotmart_token_ttl,
        }
    body = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": cfg.hotmart_token_ttl,
        "scope": "read write",
        "jti": jti,
    }
    return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# ---------------------------------------------------------------------------- paging


def encode_page_token(resource: str, offset: int) -> str:
    raw = json.dumps({"r": resource, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(resource: str, token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset = data["o"]
        if data["r"] != resource or not isinstance(offset, int) or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadRequest("invalid_token", "Invalid page token") from None
    return offset


def int_param(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(
            "invalid_value_parameter", f"Invalid value for parameter {name}: {raw}"
        ) from None


# Epoch-millisecond fields of the REST items (products, sales history, subscriptions).
DATE_KEYS = frozenset(
    {
        "created_at",
        "order_date",
        "approved_date",
        "accession_date",
        "end_accession_date",
        "date_next_charge",
    }
)


def with_date_unit(value: object, unit: str) -> object:
    """``value`` with every REST date in ``unit``: ``ms`` as built, ``s`` divided by 1000."""
    if unit != "s":
        return value
    if isinstance(value, dict):
        return {
            k: v // 1000
            if k in DATE_KEYS and isinstance(v, int) and not isinstance(v, bool)
            else with_date_unit(v, unit)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_date_unit(v, unit) for v in value]
    return value


def paginate(resource: str, indices: Sequence[int], build: Callable[[int], dict]) -> Response:
    max_results = int_param("max_results")
    if max_results is None:
        max_results = DEFAULT_MAX_RESULTS
    if max_results < 1:
        raise BadRequest("invalid_value_parameter", "max_results must be greater than zero")
    max_results = min(max_results, MAX_RESULTS_CAP)
    page_token = request.args.get("page_token")
    offset = decode_page_token(resource, page_token) if page_token else 0
    total = len(indices)
    unit = emulator().config.hotmart_date_unit
    items = [with_date_unit(build(i), unit) for i in indices[offset : offset + max_results]]
    page_info: dict = {"total_results": total, "results_per_page": max_results}
    if offset + max_results < total:
        page_info["next_page_token"] = encode_page_token(resource, offset + max_results)
    if offset > 0:
        page_info["prev_page_token"] = encode_page_token(resource, max(0, offset - max_results))
    return json_response({"items": items, "page_info": page_info})


def dataset(env: str) -> HotmartData:
    if env not in ENVS:
        abort(404)
    return emulator().data.hotmart[env]


def statuses_param(name: str, allowed: set[str]) -> set[str]:
    values = {v.upper() for v in multi_values(name)}
    bad = values - allowed
    if bad:
        raise BadRequest(
            "invalid_value_parameter", f"Invalid value for parameter {name}: {sorted(bad)[0]}"
        )
    return values


def filtered(key: tuple, lo: int, hi: int, preds: list[Callable[[int], bool]]) -> Sequence[int]:
    if not preds:
        return range(lo, hi)
    return emulator().runtime.cached_indices(
        key, lambda: [i for i in range(lo, hi) if all(p(i) for p in preds)]
    )


# ---------------------------------------------------------------------------- endpoints


@bp.get("/<env>/products/api/v1/products")
def products(env: str) -> Response:
    data = dataset(env)
    preds: list[Callable[[int], bool]] = []
    pid = int_param("id")
    lo, hi = 0, data.n_products
    if pid is not None:
        j = data.product_index(pid)
        lo, hi = (j, j + 1) if j is not None else (0, 0)
    status = statuses_param("status", PRODUCT_STATUSES)
    if status:
        preds.append(lambda j: data.product_status(j) in status)
    formats = {v.upper() for v in multi_values("format")}
    if formats:
        preds.append(lambda j: data.topic(j)[1] in formats)
    key = ("hotmart", env, "products", lo, hi, frozenset(status), frozenset(formats))
    return paginate("products", filtered(key, lo, hi, preds), data.product)


@bp.get("/<env>/payments/api/v1/sales/history")
def sales_history(env: str) -> Response:
    data = dataset(env)
    lo, hi = data.sale_range(int_param("start_date"), int_param("end_date"))
    preds: list[Callable[[int], bool]] = []
    transaction = request.args.get("transaction", "").strip()
    if transaction:
        i = data.transaction_index(transaction)
        lo, hi = (i, i + 1) if i is not None and lo <= i < hi else (0, 0)
    statuses = statuses_param("transaction_status", SALE_STATUSES)
    if statuses:
        preds.append(lambda i: data.sale_status(i) in statuses)
    elif not transaction:
        preds.append(lambda i: data.sale_status(i) in ("APPROVED", "COMPLETE"))
    pid = int_param("product_id")
    product = data.product_index(pid) if pid is not None else None
    if pid is not None:
        preds.append(lambda i: data.sale_product(i) == product)
    email = request.args.get("buyer_email", "").strip()
    buyer = data.people.index_of_email(email) if email else None
    if email:
        preds.append(lambda i: data.sale_buyer(i) == buyer)
    payments = {v.upper() for v in multi_values("payment_type")}
    if payments:
        preds.append(lambda i: data.sale_payment(i) in payments)
    offer = request.args.get("offer_code", "").strip()
    if offer:
        preds.append(lambda i: data.sale_offer(i) == offer)
    key = (
        "hotmart",
        env,
        "sales",
        lo,
        hi,
        frozenset(statuses),
        bool(transaction),
        pid,
        email,
        frozenset(payments),
        offer,
    )
    return paginate("sales", filtered(key, lo, hi, preds), data.sale)


def _sub_range(data: HotmartData) -> tuple[int, int]:
    start, end = int_param("accession_date"), int_param("end_accession_date")
    lo = 0 if start is None else first_at_or_after(data.n_subs, start, data.sub_ms)
    hi = data.n_subs if end is None else first_at_or_after(data.n_subs, end + 1, data.sub_ms)
    return lo, max(lo, hi)


@bp.get("/<env>/payments/api/v1/subscriptions")
def subscriptions(env: str) -> Response:
    data = dataset(env)
    lo, hi = _sub_range(data)
    preds: list[Callable[[int], bool]] = []
    pid = int_param("product_id")
    product = data.product_index(pid) if pid is not None else None
    if pid is not None:
        preds.append(lambda k: data.sub_product(k) == product)
    plan_id = int_param("plan_id")
    if plan_id is not None:
        preds.append(lambda k: data.plan_id(data.sub_product(k), data.sub_plan(k)) == plan_id)
    statuses = statuses_param("status", SUB_STATUSES)
    if statuses:
        preds.append(lambda k: data.sub_status(k) in statuses)
    codes = set(multi_values("subscriber_code"))
    if codes:
        preds.append(lambda k: data.subscriber_code(k) in codes)
    email = request.args.get("subscriber_email", "").strip()
    buyer = data.people.index_of_email(email) if email else None
    if email:
        preds.append(lambda k: data.sub_buyer(k) == buyer)
    transaction = request.args.get("transaction", "").strip().upper()
    if transaction:
        preds.append(lambda k: data.sub_transaction(k) == transaction)
    key = (
        "hotmart",
        env,
        "subs",
        lo,
        hi,
        pid,
        plan_id,
        frozenset(statuses),
        frozenset(codes),
        email,
        transaction,
    )
    return paginate("subscriptions", filtered(key, lo, hi, preds), data.subscription)
