"""Error pages in HTML or JSON by content negotiation; never a stack trace."""

from __future__ import annotations

import logging

from flask import g, jsonify, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from app.database import database_unavailable
from app.errors import bp
from app.extensions import db, login_manager
from app.security import wants_json

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("bad_request", "Requisição inválida."),
    401: ("unauthorized", "É preciso entrar para acessar este recurso."),
    403: ("forbidden", "Você não tem permissão para acessar esta página."),
    404: ("not_found", "Página não encontrada."),
    405: ("method_not_allowed", "Método não permitido."),
    409: ("conflict", "A operação conflita com o estado atual."),
    410: ("gone", "Este recurso não está mais disponível."),
    413: ("payload_too_large", "O conteúdo enviado excede o limite de 1 MiB."),
    422: ("unprocessable", "Os dados enviados estão incompletos ou inválidos."),
    429: ("rate_limited", "Muitas tentativas. Aguarde um pouco e tente novamente."),
    500: ("internal_error", "Ocorreu um erro inesperado. A equipe foi avisada pelos logs."),
    503: ("unavailable", "Serviço temporariamente indisponível."),
}


def error_response(status: int, message: str | None = None, code: str | None = None):
    default_code, default_message = MESSAGES.get(status, ("error", "Erro."))
    code = code or default_code
    message = message or default_message
    if wants_json():
        response = jsonify({"success": False, "error": {"code": code, "message": message}})
        response.status_code = status
        return response
    template = (
        f"errors/{status}.html" if status in (403, 404, 410, 429, 500) else "errors/generic.html"
    )
    return render_template(template, status=status, message=message, code=code), status


def _description(exc: HTTPException) -> str | None:
    """Our own abort(…, description=…) messages are pt-BR; werkzeug's defaults are not."""
    if exc.code == 429:  # Flask-Limiter puts the raw limit ("10 per 1 minute") there
        return None
    default = type(exc).description
    return exc.description if exc.description and exc.description != default else None


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    return error_response(
        400,
        "O formulário expirou ou é inválido (CSRF). Recarregue a página e tente de novo.",
        code="csrf_failed",
    )


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    if exc.code >= 500:
        _rollback_quietly()
    return error_response(exc.code, _description(exc))


# The database is away (refused connection, dropped socket, pool exhausted, lock timeout):
# a temporary condition, answered 503 so clients and platforms try again later.
UNAVAILABLE_MESSAGE = "O banco de dados está indisponível no momento. Tente novamente em instantes."
RETRY_AFTER_SECONDS = "5"


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:  # the connection is gone: nothing to undo
        log.debug("rollback after a database error failed", exc_info=True)


def unavailable_response(exc: BaseException):
    first_line = (str(exc).splitlines() or [""])[0][:300]
    log.error("database unavailable: %s: %s", type(exc).__name__, first_line)
    _rollback_quietly()
    if "_login_user" not in g:  # the page must not need the database to say it is away
        g._login_user = login_manager.anonymous_user()
    response = error_response(503, UNAVAILABLE_MESSAGE, code="database_unavailable")
    if isinstance(response, tuple):
        body, status = response
        return body, status, {"Retry-After": RETRY_AFTER_SECONDS}
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


@bp.app_errorhandler(Exception)
def unhandled_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return http_error(exc)
    if database_unavailable(exc):
        return unavailable_response(exc)
    log.exception("unhandled error", exc_info=exc)
    _rollback_quietly()
    return error_response(InternalServerError.code)
