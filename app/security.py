"""CSRF, security headers, cookie flags, login wiring, role guards and safe redirects."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from sqlalchemy import exists, select

from app.extensions import csrf, db, login_manager, talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Public endpoints: reached by people who are not (or not acting as) operators, so no operator
# guard applies to them, a read-only operator's session included. The buyer's signup link and
# its resend, the platforms' webhooks, the health check, the ways in (login, first setup,
# password reset by e-mail, logout) and the invite link an invitee opens. The one list for the
# setup redirect, the team blueprint's operator check, the read-only refusal and the UI's
# read-only flag (is_public_endpoint).
PUBLIC_BLUEPRINTS = frozenset({"webhooks", "signup", "health"})
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "auth.login",
        "auth.logout",
        "auth.setup",
        "auth.forgot_password",
        "auth.reset_password",
        "team.accept",
    }
)


def is_public_endpoint(endpoint: str | None = None) -> bool:
    """The endpoint (the current request's by default) is public: see PUBLIC_ENDPOINTS."""
    if endpoint is None:
        endpoint = request.endpoint
    if not endpoint:
        return False
    blueprint = endpoint.rpartition(".")[0]
    return endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS


# Reachable before the first operator exists (everything else redirects to /setup): the public
# endpoints and the buyers' own area (buyers may sign up through webhooks configured by
# environment before /setup is done), except the login, which has its own rule
# (_require_setup), and the invite link, which needs an operator to have been invited by.
SETUP_EXEMPT_BLUEPRINTS = PUBLIC_BLUEPRINTS | {"member"}
SETUP_EXEMPT_ENDPOINTS = PUBLIC_ENDPOINTS - {"auth.login", "team.accept"}


class _SessionInterface(SecureCookieSessionInterface):
    """No session for webhook deliveries: a platform sends no cookie and gets none back, so
    the signing serializer is neither built nor run on the ingest path."""

    def open_session(self, app, request):
        if request.path.startswith(WEBHOOK_PATH):
            return None  # Flask falls back to a read-only null session
        return super().open_session(app, request)


WEBHOOK_PATH = "/webhook/"


def init_app(app: Flask) -> None:
    from app import hostile

    app.request_class = hostile.Request
    app.session_interface = _SessionInterface()
    app.url_map.converters["int"] = hostile.BoundedIntConverter
    app.before_request(_reject_large_bodies)
    app.before_request(hostile.reject_unstorable_input)
    csrf.init_app(app)
    https = app.config.get("FORCE_HTTPS", False) or app.config["APP_URL"].startswith("https://")
    # Session and remember cookies never travel over plain HTTP once HTTPS is the rule.
    secure = bool(https or app.config.get("SESSION_COOKIE_SECURE"))
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    talisman.init_app(
        app,
        force_https=app.config.get("FORCE_HTTPS", False),
        strict_transport_security=https,
        session_cookie_secure=secure,
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        frame_options="DENY",
    )
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Entre para acessar esta página."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_require_setup)
    app.before_request(refuse_read_only_writes)
    app.context_processor(_team_flags)
    app.after_request(_no_store_when_logged_in)


def _no_store_when_logged_in(response):
    """Pages of a logged-in user (operator or member) are never kept by browsers or proxies.

    Decided from the session alone (no database access here): a login response, every page
    after it, and nothing once logout has removed the user from the session.
    """
    if request.endpoint not in ("static", "webhooks.receive") and session.get("_user_id"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def _reject_large_bodies():
    """413 for any declared body over MAX_CONTENT_LENGTH, whatever the route reads."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length is not None and request.content_length > limit:
        abort(413)


def _load_user(user_id: str):
    """``<id>:<nonce>:<session token>``: the user, their nonce (password changes) and a live
    server-side session record (logout) must all still match."""
    from app.models import User
    from app.services import user_sessions

    ident, nonce, token = (user_id.split(":", 2) + ["", ""])[:3]
    if not ident.isdecimal() or len(ident) > 18:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.session_nonce or user.session_nonce != nonce:
        return None
    if not user_sessions.is_open(user.id, token):
        return None
    user.session_token = token
    return user


def wants_json() -> bool:
    """True for API/webhook calls and clients that prefer JSON over HTML."""
    if request.path.startswith(("/api/", "/webhook/")) or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _unauthorized():
    if wants_json():
        abort(401)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def operator_exists() -> bool:
    cache = current_app.extensions.setdefault("vendas_operator_exists", False)
    if cache:
        return True
    from app.models import ROLE_ADMIN, User

    found = db.session.scalar(select(exists().where(User.role == ROLE_ADMIN)))
    if found:
        current_app.extensions["vendas_operator_exists"] = True
    return bool(found)


def _any_user_exists() -> bool:
    from app.models import User

    return bool(db.session.scalar(select(exists().where(User.id.is_not(None)))))


def _require_setup():
    if request.endpoint in SETUP_EXEMPT_ENDPOINTS or request.blueprint in SETUP_EXEMPT_BLUEPRINTS:
        return None
    if request.endpoint is None:  # 404s are answered as such
        return None
    if not operator_exists():
        if request.endpoint == "auth.login" and _any_user_exists():
            return None  # a member signing in before the operator finished the setup
        if wants_json():
            abort(503, description="Nenhum operador configurado: acesse /setup.")
        return redirect(url_for("auth.setup"))
    return None


def require_operator():
    """before_request guard for operator-only blueprints: login, then role."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        if request.endpoint == "dashboard.index" and not wants_json():
            # a buyer's home (in a browser) is their account page
            return redirect(url_for("member.account"))
        abort(403)
    return None


def operator_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        response = require_operator()
        return response if response is not None else view(*args, **kwargs)

    return wrapped


# ------------------------------------------------------------------ team roles (app/team)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_MESSAGE = (
    "Seu acesso é somente leitura: você pode ver as páginas e baixar relatórios, mas não "
    "alterar nada. Peça ao proprietário da conta para mudar seu papel na equipe."
)
OWNER_ONLY_MESSAGE = "Somente o proprietário da conta pode fazer isto."
# Besides the public endpoints, what a read-only operator may still send: their own password
# and profile.
READ_ONLY_OWN_ACCOUNT_ENDPOINTS = frozenset({"member.change_password", "member.update_profile"})


def read_only_may_send(endpoint: str | None) -> bool:
    """A read-only operator's state-changing request to ``endpoint`` goes through."""
    return is_public_endpoint(endpoint) or endpoint in READ_ONLY_OWN_ACCOUNT_ENDPOINTS


def refuse_read_only_writes():
    """App-wide before_request: a read-only operator's state-changing request is a 403 (pt-BR),
    whatever page or API it targets, so routes added later are covered without a decorator.
    Public endpoints (a buyer's signup link opened in the same browser, webhooks…) are not
    operator pages: their own rules apply."""
    if request.method in SAFE_METHODS or read_only_may_send(request.endpoint):
        return None
    if request.path.startswith(WEBHOOK_PATH) or not session.get("_user_id"):
        return None  # platforms and anonymous callers: the route's own rules apply
    if current_user.is_authenticated and current_user.is_read_only:
        abort(403, description=READ_ONLY_MESSAGE)
    return None


def require_owner() -> None:
    """For the team's and the secrets' writes: 403 unless the operator is an owner."""
    if not (current_user.is_authenticated and current_user.is_owner):
        abort(403, description=OWNER_ONLY_MESSAGE)


def _team_flags() -> dict:
    """``read_only`` (the UI disables every form that would change something, see
    static/js/app.js) and ``is_owner`` (team and secret controls)."""
    user = current_user
    if not getattr(user, "is_authenticated", False) or not user.is_admin:
        return {"read_only": False, "is_owner": False}
    if is_public_endpoint():  # e.g. a buyer's signup form: not disabled for a read-only operator
        return {"read_only": False, "is_owner": user.is_owner}
    return {"read_only": user.is_read_only, "is_owner": user.is_owner}


def is_safe_next(target: str | None) -> bool:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str) -> str:
    return target if is_safe_next(target) else url_for(default_endpoint)
