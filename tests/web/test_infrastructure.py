"""Errors by content negotiation, 413, health, request ids, secret masking, mail delivery."""

import logging

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.logs import mask, mask_text
from app.models import OutboxEmail
from app.services import outbox
from tests.conftest import Auth, csrf_token, free_port


def test_404_html_and_json(app, client):
    Auth(app, client).create()
    html = client.get("/nao-existe")
    assert html.status_code == 404 and html.mimetype == "text/html"
    assert "Página não encontrada" in html.get_data(as_text=True)
    api = client.get("/api/nao-existe")
    assert api.status_code == 404 and api.mimetype == "application/json"
    assert api.get_json() == {
        "success": False,
        "error": {"code": "not_found", "message": "Página não encontrada."},
    }
    negotiated = client.get("/nao-existe", headers={"Accept": "application/json"})
    assert negotiated.get_json()["error"]["code"] == "not_found"


def test_413_for_bodies_over_one_mebibyte(app, client):
    Auth(app, client).create()
    body = b"x" * (1024 * 1024 + 1)
    response = client.post("/login", data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "1 MiB" in response.get_data(as_text=True)
    response = client.post("/api/qualquer", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_500_never_shows_a_stack_trace(app_factory):
    app = app_factory()

    @app.get("/boom")
    def boom():
        raise RuntimeError("segredo interno")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("segredo interno")

    with app.app_context():
        client = app.test_client()
        Auth(app, client).create()
        response = client.get("/boom")
        assert response.status_code == 500
        text = response.get_data(as_text=True)
        assert "segredo interno" not in text and "Traceback" not in text
        assert "erro inesperado" in text
        api = client.get("/api/boom")
        assert api.status_code == 500 and api.get_json()["error"]["code"] == "internal_error"


def test_healthz_ok_and_503_when_database_down(app, client, monkeypatch):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_security_headers_and_request_id(app, client):
    response = client.get("/healthz")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.headers["X-Request-ID"]) >= 8
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc12345-from-proxy"})
    assert echoed.headers["X-Request-ID"] == "abc12345-from-proxy"
    hostile = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert "<" not in hostile.headers["X-Request-ID"]


def test_htmx_config_fits_the_csp(app, client):
    """The CSP forbids inline styles (style-src 'self'), so htmx must never write one: no
    indicator <style> of its own, and no `style` among the attributes it carries over from an
    element to its same-id replacement (copying an empty style="" left by a browser extension
    or a test's screenshot was a blocked setAttribute("style"): test_sync_failures_page.py)."""
    import html as html_lib
    import json
    import re

    Auth(app, client).create()
    response = client.get("/login")
    assert response.status_code == 200
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert meta, "templates/base.html lost its htmx-config"
    config = json.loads(html_lib.unescape(meta.group(1)))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert "style" not in config["attributesToSettle"]
    assert "class" in config["attributesToSettle"]


def test_session_cookie_flags(app, client):
    Auth(app, client).operator()
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_mask_helpers():
    # Under 20 characters nothing of the secret shows; from 20 on, its last 4 only.
    assert mask("short") == "••••••"
    assert mask("abcdefghijklmnopqrs") == "••••••"  # 19
    assert mask("abcdefghijklmnopqrst") == "••••••qrst"  # 20
    assert mask("x" * 300 + "tail") == "••••••tail"
    for n in range(1, 64):
        secret = "".join(chr(ord("A") + i % 26) for i in range(n))
        shown = mask(secret).removeprefix("••••••")
        assert len(shown) == (4 if n >= 20 else 0), n
    text = mask_text("Authorization: Bearer abcdefghijklmnopqrstuvwxyz token=supersecret123")
    assert "abcdefghijklmnopqrstuvwxyz" not in text and "supersecret123" not in text


def test_secrets_are_masked_in_logs(app_factory, caplog):
    secret = "kommo-jwt-very-secret-value-0123456789"
    app = app_factory(KOMMO_JWT_TOKEN=secret)
    with app.app_context(), caplog.at_level(logging.INFO):
        log = logging.getLogger("app.test")
        log.info("calling kommo with %s", secret)
        log.info("headers: {'access-token': 'gc-live-token-abcdef', 'password': 'p4ssw0rd!!'}")
        log.info("url https://x/security/oauth/token?client_secret=cs-12345678abc&grant_type=x")
    output = caplog.text
    assert secret not in output and "calling kommo with ••••••6789" in output
    # 20 characters: the last 4; shorter secrets show nothing of themselves, not even a tail.
    assert "gc-live-token-abcdef" not in output and "'access-token': '••••••cdef'" in output
    assert "p4ssw0rd!!" not in output and "'password': '••••••'" in output
    assert "cs-12345678abc" not in output and "client_secret=••••••&grant_type" in output
    for tail in ("bcdef", "w0rd", "8abc", "rd!!"):
        assert tail not in output


def test_request_id_on_log_lines(app, client, caplog):
    auth = Auth(app, client)
    auth.create()
    with caplog.at_level(logging.INFO):
        response = auth.login(password="senha-errada-1")
    record = next(r for r in caplog.records if r.getMessage() == "failed login attempt")
    assert record.request_id == response.headers["X-Request-ID"]


def test_password_reset_mail_is_delivered_over_smtp(app_factory, smtp_server):
    app = app_factory(**smtp_server.config())
    with app.app_context():
        client = app.test_client()
        Auth(app, client).create()
        token = csrf_token(client, "/esqueci-senha")
        client.post("/esqueci-senha", data={"email": "operador@example.com", "csrf_token": token})
        assert len(smtp_server.messages) == 1
        message = smtp_server.messages[0]
        assert message["To"] == "operador@example.com"
        assert "Redefinição de senha" in message["Subject"]
        text = smtp_server.text_of(message)
        assert "http://localhost/redefinir-senha/" in text
        assert "Redefinir senha" in smtp_server.html_of(message)
        email = db.session.scalar(select(OutboxEmail))
        assert email.status == "sent" and email.attempts == 1


def test_smtp_down_keeps_mail_queued_and_retries(app_factory, smtp_server):
    import time_machine

    from app.models.types import utcnow

    dead_port = free_port()
    app = app_factory(SMTP_HOST="127.0.0.1", MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    with app.app_context():
        client = app.test_client()
        Auth(app, client).create()
        token = csrf_token(client, "/esqueci-senha")
        client.post("/esqueci-senha", data={"email": "operador@example.com", "csrf_token": token})
        email = db.session.scalar(select(OutboxEmail))
        assert email.status == "pending" and email.attempts == 1
        assert "ConnectionRefused" in email.last_error
        # Not due yet: nothing attempted.
        assert outbox.send_pending() == {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
        app.config["MAIL_PORT"] = smtp_server.port  # the server is back
        with time_machine.travel(utcnow() + outbox.BASE_BACKOFF * 2):
            assert outbox.send_pending()["sent"] == 1
        assert len(smtp_server.messages) == 1


def test_without_smtp_mail_stays_queued(app, client):
    Auth(app, client).create()
    token = csrf_token(client, "/esqueci-senha")
    client.post("/esqueci-senha", data={"email": "operador@example.com", "csrf_token": token})
    email = db.session.scalar(select(OutboxEmail))
    assert email.status == "pending" and email.attempts == 0
