"""POST /webhook/<platform>: public, CSRF-exempt, rate-limited per platform and address.

The hottest path of the app: Flask-Limiter's per-request evaluation is skipped for this
blueprint (``limiter.exempt``) and the per-platform-and-address limit is one counter
(``app.ratelimit.webhook_allowed``); no session is opened (``app.security``).
"""

import json

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from app import worker
from app.extensions import csrf, db, limiter
from app.ratelimit import webhook_allowed
from app.services import webhooks as service
from app.services.webhooks import Outcome, Received
from app.sources import SOURCES

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

# SPEC §5: the answer to each outcome of a delivery.
HTTP_STATUS = {
    Outcome.ACCEPTED: 200,
    Outcome.DUPLICATE: 200,
    Outcome.IGNORED: 200,
    Outcome.UNAUTHORIZED: 401,
    Outcome.INVALID_ENCODING: 400,
    Outcome.INVALID_JSON: 400,
    Outcome.INVALID_EVENT: 422,
    Outcome.UNAVAILABLE: 503,
}


def http_status(result: Received, platform: str | None = None) -> int:
    if result.outcome is Outcome.INVALID_EVENT and platform in SOURCES:
        return SOURCES[platform].invalid_event_status
    return HTTP_STATUS[result.outcome]


# The 2xx bodies, serialized once (what ``jsonify`` gives): a delivery builds no JSON answer.
_OK_BODIES = {
    outcome: json.dumps({"status": outcome.value}).encode() + b"\n"
    for outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE, Outcome.IGNORED)
}


def answer(result: Received, platform: str | None = None):
    status = http_status(result, platform)
    if result.ok:
        return current_app.response_class(
            _OK_BODIES[result.outcome], status, mimetype="application/json"
        )
    error = {"code": result.outcome.value, "message": result.message}
    return jsonify({"success": False, "error": error}), status


def _rate_limited(platform: str):
    """The 429 answer when this platform and address are over ``WEBHOOK_RATE_LIMIT``."""
    app = current_app._get_current_object()
    key = f"webhook:{platform}:{request.remote_addr}"
    if webhook_allowed(app, limiter, key, app.config["WEBHOOK_RATE_LIMIT"]):
        return None
    from app.errors.handlers import error_response

    response = error_response(429)
    response.headers["Retry-After"] = "60"
    return response


@bp.post("/webhook/<platform>")
def receive(platform: str):
    if platform not in SOURCES:  # before counting: made-up names get no counters of their own
        return jsonify(
            {
                "success": False,
                "error": {"code": "not_found", "message": "Plataforma desconhecida."},
            }
        ), 404
    refused = _rate_limited(platform)
    if refused is not None:
        return refused
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        abort(413)  # a chunked body that reached the cap was cut short: refuse, don't guess
    with worker.ingesting():  # this process's worker threads hold processing back meanwhile
        result = service.receive(
            platform,
            raw,
            request.headers,
            request.args,
            remote_addr=request.remote_addr,
        )
    return answer(result, platform)


@bp.post("/webhook/telegram")
def receive_telegram():
    """Telegram Bot API updates (the ``X-Telegram-Bot-Api-Secret-Token`` header is the proof)."""
    from app.services import telegram_webhooks

    refused = _rate_limited("telegram")
    if refused is not None:
        return refused
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        abort(413)
    with worker.ingesting():
        result = telegram_webhooks.receive(raw, request.headers, remote_addr=request.remote_addr)
    return answer(result)


@bp.post("/webhook/kommo/<token>")
def receive_kommo(token: str):
    """Kommo's account webhooks (form-encoded; the token in the URL is the only proof)."""
    from app.services import kommo_webhooks

    # Only wrong tokens are counted: a bulk edit in Kommo sends hundreds of deliveries a minute
    # from a few addresses, and Kommo turns a webhook off after repeated non-2xx answers.
    try:
        valid = kommo_webhooks.token_ok(token[:500])[0]
    except SQLAlchemyError:
        db.session.rollback()
        valid = False
    if not valid:
        refused = _rate_limited("kommo")
        if refused is not None:
            return refused
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        abort(413)
    with worker.ingesting():
        result = kommo_webhooks.receive(
            token[:500], raw, request.headers, remote_addr=request.remote_addr
        )
    return answer(result)
