"""The status card tells the truth (issue #17): "Conectado" only after a connection test or a
sync with the current credentials succeeded; saved but untested credentials ask for a test;
a failed test or sync says so with its message. Gestão Click against the live emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.clients.gestao_click import usage_counter
from app.extensions import db
from app.models import IntegrationCheck
from app.services import settings, sync
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, csrf_token


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    usage_counter.reset()
    return start_emulator(
        gc_sales=5, gc_clients=5, gc_products=5, gc_rate_limit=0, now=datetime.now(UTC)
    )


def _config(emu: LiveEmulator) -> dict:
    return {
        "GESTAOCLICK_ACCESS_TOKEN": emu.config.gc_access_token,
        "GESTAOCLICK_SECRET_TOKEN": emu.config.gc_secret_token,
        "GESTAOCLICK_API_URL": emu.gestaoclick,
        "RETRY_ATTEMPTS": 1,
        "RETRY_DELAY": 0.01,
        "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
        "GESTAOCLICK_TIMEOUT": 3.0,
    }


def _state(client) -> tuple[str, str]:
    html = client.get("/gestao-click").get_data(as_text=True)
    start = html.index('data-integration-status="') + len('data-integration-status="')
    return html[start : html.index('"', start)], html


def test_missing_credentials_say_so(app_factory):
    app = app_factory()
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        state, html = _state(client)
    assert state == "missing" and "tokens não configurados" in html
    assert "Conectado" not in html


def test_saved_tested_changed_and_failed(app_factory, emu):
    app = app_factory(**_config(emu))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        state, html = _state(client)
        assert state == "untested"
        assert "Credenciais salvas — teste a conexão" in html and "Conectado" not in html

        body = client.get("/api/gestao-click/test-connection").get_json()
        assert body["success"] is True
        state, html = _state(client)
        assert state == "ok" and "Conectado" in html and "teste de conexão" in html
        check = db.session.scalar(select(IntegrationCheck))
        assert (check.platform, check.ok, check.kind) == ("gestao_click", True, "test")
        assert emu.config.gc_access_token not in check.fingerprint

        # Typed credentials (seed 003) are tested without touching the recorded outcome.
        headers = {"X-CSRFToken": csrf_token(client, "/gestao-click")}
        typed = {"accessToken": "typed-wrong", "secretToken": "typed-wrong"}
        body = client.post("/api/gestao-click/test-connection", json=typed, headers=headers)
        assert body.get_json()["success"] is False
        assert _state(client)[0] == "ok"

        # New credentials: the old verdict no longer applies.
        settings.set_value("GESTAOCLICK_ACCESS_TOKEN", "wrong-access-token", by="t@example.com")
        db.session.commit()
        assert _state(client)[0] == "untested"

        body = client.get("/api/gestao-click/test-connection").get_json()
        assert (body["success"], body["code"]) == (False, "invalid_credentials")
        state, html = _state(client)
        assert state == "error" and "Credenciais com erro" in html
        assert body["message"] in html
        assert "Conectado" not in html


def test_a_sync_is_a_verdict_too(app_factory, emu):
    app = app_factory(**_config(emu))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        assert sync.run_sync("gestao_click", "products").status == "succeeded"
        state, html = _state(client)
        assert state == "ok" and "sincronização" in html

        settings.set_value("GESTAOCLICK_ACCESS_TOKEN", "wrong-access-token", by="t@example.com")
        db.session.commit()
        run = sync.run_sync("gestao_click", "clients")
        assert run.status == "failed"
        check = db.session.scalar(select(IntegrationCheck))
        db.session.refresh(check)
        assert (check.ok, check.kind, check.code) == (False, "sync", "invalid_credentials")
        state, html = _state(client)
        assert state == "error" and "Credenciais com erro" in html


def test_an_expired_kommo_token_is_an_error_without_asking(app_factory, start_emulator):
    import time

    from tests.integrations.test_kommo_integration import kommo_config

    emu = start_emulator()
    past = int(time.time()) - 86400
    app = app_factory(**kommo_config(emu, KOMMO_JWT_TOKEN=emu.config.kommo_token(exp=past)))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        html = client.get("/kommo").get_data(as_text=True)
    assert 'data-integration-status="error"' in html and "Credenciais com erro" in html
    assert "O token de longa duração expirou em" in html and "Conectado" not in html
