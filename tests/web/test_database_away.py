"""The database away → 503 (HTML or JSON), never 500 and never 2xx without storing; recovery
needs no restart (issue 10)."""

from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import event, func, select

from app.extensions import db
from app.models import WebhookEvent
from tests.conftest import Auth, load_fixture


@contextmanager
def database_away():
    """Every new connection is refused, as when PostgreSQL is stopped; pooled ones are dropped."""
    engine = db.engine
    dbapi = engine.dialect.dbapi

    def refuse(*_args, **_kwargs):
        raise dbapi.OperationalError("connection refused (database stopped by the test)")

    db.session.remove()
    engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)
        engine.dispose()


def _count_events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(WebhookEvent.id)))


def test_webhooks_answer_503_while_the_database_is_away_then_store(send_webhook):
    bodies = {
        "hotmart": load_fixture("hotmart", "purchase_approved"),
        "kiwify": load_fixture("kiwify", "order_approved"),
        "kirvano": load_fixture("kirvano", "sale_approved"),
    }
    with database_away():
        for platform, body in bodies.items():
            response = send_webhook.raw(platform, json.dumps(body).encode())
            assert response.status_code == 503, (platform, response.get_data(as_text=True))
            assert response.json["success"] is False
            assert "Traceback" not in response.get_data(as_text=True)
    assert _count_events() == 0  # nothing answered 2xx, nothing stored
    for platform, body in bodies.items():  # the platform delivers again: accepted and stored
        response = send_webhook.raw(platform, json.dumps(body).encode())
        assert response.status_code == 200 and response.json["status"] == "accepted"
    assert _count_events() == 3


def test_pages_and_api_answer_503_by_content_negotiation(app, client):
    Auth(app, client).operator()
    with database_away():
        for path in ("/", "/vendas", "/ativacoes", "/webhooks", "/login", "/conta"):
            response = client.get(path)
            assert response.status_code == 503, path
            html = response.get_data(as_text=True)
            assert "indisponível" in html and "<html" in html.lower(), path
            assert "Traceback" not in html
            assert response.headers.get("Retry-After")
        for path in ("/api/sync-runs/1", "/api/kommo/contacts"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.json == {
                "success": False,
                "error": {
                    "code": "database_unavailable",
                    "message": response.json["error"]["message"],
                },
            }
        response = client.get("/vendas", headers={"Accept": "application/json"})
        assert response.status_code == 503 and response.json["success"] is False
        assert client.get("/healthz").status_code == 503
    assert client.get("/vendas").status_code == 200  # recovered without a restart
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_forms_answer_503_and_nothing_is_created(app):
    client = app.test_client()
    Auth(app, client).create()
    page = client.get("/login").get_data(as_text=True)
    from tests.conftest import CSRF_RE

    token = next(g for g in CSRF_RE.search(page).groups() if g)
    with database_away():
        response = client.post(
            "/login",
            data={"email": "operador@example.com", "password": Auth.PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 503
        response = client.post("/esqueci-senha", data={"email": "a@b.com", "csrf_token": token})
        assert response.status_code == 503
    assert client.get("/conta").status_code == 302  # the failed login did not sign anyone in


def test_connection_dropped_at_teardown_keeps_the_chosen_answer(app, client, monkeypatch):
    """PostgreSQL stopped right after the answer was chosen: the session's final rollback
    fails at teardown; the client still gets that answer, not a bare 500."""
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    real_remove = db.session.remove
    calls = []

    def remove_once_broken():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("ROLLBACK", {}, Exception("terminating connection"))
        real_remove()

    monkeypatch.setattr(db.session, "remove", remove_once_broken)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert calls  # the teardown really met the broken connection
