"""SPEC §12: the seeds' own names keep working, against the live emulator.

Environment aliases (the SPEC name wins), Kommo's millisecond knobs, KOMMO_DEBUG /
GESTAO_CLICK_DEBUG request logs with secrets masked, KOMMO_BASE_DOMAIN.
"""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.clients.gestao_click import usage_counter
from app.clients.kommo import normalize_api_url
from app.extensions import db
from app.services import gestao_click, kommo, settings, sync
from config import Config, seconds
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import Auth, csrf_token

CONTACTS = 30
LEADS = 40


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    usage_counter.reset()
    return start_emulator(
        contacts=CONTACTS,
        leads=LEADS,
        gc_sales=20,
        gc_clients=10,
        gc_products=5,
        kommo_rate_limit=0,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


FAST = {
    "RETRY_ATTEMPTS": 2,
    "RETRY_DELAY": 0.01,
    "KOMMO_THROTTLE_PER_SECOND": 0,
    "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
    "GESTAOCLICK_TIMEOUT": 3.0,
}


def seed_env(emu: LiveEmulator, **overrides) -> dict:
    """A seed 002/003 ``.env``: only the seeds' names."""
    env = {
        "KOMMO_LONG_LIVED_TOKEN": emu.config.kommo_token(),
        "KOMMO_API_URL": emu.kommo,
        "KOMMO_TIMEOUT": "30000",
        "GESTAO_CLICK_API_KEY": emu.config.gc_access_token,
        "GESTAO_CLICK_SECRET_TOKEN": emu.config.gc_secret_token,
        "GESTAO_CLICK_API_URL": emu.gestaoclick,
        **FAST,
    }
    env.update(overrides)
    return env


@pytest.fixture
def seed_app(app_factory, emu):
    app = app_factory(**seed_env(emu))
    with app.app_context():
        yield app
        sync.wait_idle(10)


@pytest.fixture
def operator(seed_app):
    client = seed_app.test_client()
    Auth(seed_app, client).operator()
    return client


def post_json(client, url: str, body: dict | None = None, page: str = "/kommo"):
    headers = {"X-CSRFToken": csrf_token(client, page)}
    return client.post(url, json=body if body is not None else {}, headers=headers)


# ------------------------------------------------------------------------------ environment


def test_every_seed_alias_is_read_and_the_spec_name_wins():
    aliases = {
        "HOTMART_BASIC": "HOTMART_BASIC_AUTH",
        "KOMMO_JWT_TOKEN": "KOMMO_LONG_LIVED_TOKEN",
        "GESTAOCLICK_ACCESS_TOKEN": "GESTAO_CLICK_API_KEY",
        "GESTAOCLICK_SECRET_TOKEN": "GESTAO_CLICK_SECRET_TOKEN",
        "GESTAOCLICK_API_URL": "GESTAO_CLICK_API_URL",
    }
    for spec, alias in aliases.items():
        assert getattr(Config({alias: "from-seed"}), spec) == "from-seed", alias
        both = Config({alias: "from-seed", spec: "from-spec"})
        assert getattr(both, spec) == "from-spec", spec
        assert both.ENV_SOURCES[spec] == spec
        assert Config({alias: "x", spec: ""}).ENV_SOURCES[spec] == alias  # empty = unset
    assert Config({"SMTP_PASS": "seed-pass"}).MAIL_PASSWORD == "seed-pass"
    assert Config({"SMTP_PASS": "seed", "SMTP_PASSWORD": "spec"}).MAIL_PASSWORD == "spec"
    assert Config({}).GESTAOCLICK_API_URL == "https://api.gestaoclick.com"


def test_kommo_seed_knobs_milliseconds_retries_debug_and_base_domain():
    cfg = Config(
        {
            "KOMMO_TIMEOUT": "30000",
            "KOMMO_RETRY_DELAY": "1000",
            "KOMMO_RETRY_ATTEMPTS": "2",
            "KOMMO_DEBUG": "true",
            "GESTAO_CLICK_DEBUG": "true",
            "KOMMO_BASE_DOMAIN": "amocrm.com",
        }
    )
    assert cfg.KOMMO_TIMEOUT == "30"
    assert (cfg.KOMMO_RETRY_DELAY, cfg.KOMMO_RETRY_ATTEMPTS) == (1.0, 2)
    assert cfg.KOMMO_DEBUG is True and cfg.GESTAO_CLICK_DEBUG is True
    assert cfg.KOMMO_BASE_DOMAIN == "amocrm.com"
    assert Config({"KOMMO_TIMEOUT": "45"}).KOMMO_TIMEOUT == "45"  # below 1000: seconds
    assert Config({"KOMMO_TIMEOUT": "2500"}).KOMMO_TIMEOUT == "2.5"
    defaults = Config({})
    assert defaults.KOMMO_TIMEOUT == "30" and defaults.KOMMO_RETRY_ATTEMPTS is None
    assert defaults.KOMMO_RETRY_DELAY is None and defaults.KOMMO_DEBUG is False
    assert defaults.KOMMO_BASE_DOMAIN is None and defaults.GESTAO_CLICK_DEBUG is False
    assert seconds("999") == 999 and seconds("1000") == 1 and seconds("0,5") == 0.5
    assert seconds("x", 7) == 7 and seconds(None) is None and seconds("-1", 3) == 3
    assert normalize_api_url("acme", "amocrm.com") == "https://acme.amocrm.com/api/v4"
    assert normalize_api_url("acme") == "https://acme.kommo.com/api/v4"


def test_a_seed_env_talks_to_kommo_and_gestao_click(seed_app, operator, emu):
    assert settings.get("KOMMO_JWT_TOKEN") == emu.config.kommo_token()
    assert settings.source("KOMMO_JWT_TOKEN") == "environment"
    assert settings.get("GESTAOCLICK_API_URL") == emu.gestaoclick
    with kommo.build_client() as client:  # KOMMO_TIMEOUT=30000 is 30 s, not 30000 s
        assert client.gateway.timeout == (5.0, 30.0)
    body = operator.get("/api/kommo/test-connection").get_json()
    assert (body["success"], body["code"]) == (True, "ok")
    body = operator.get("/api/gestao-click/test-connection").get_json()
    assert (body["success"], body["code"]) == (True, "ok")
    assert sync.run_sync("kommo", "contacts").status == "succeeded"
    assert sync.run_sync("gestao_click", "clients").status == "succeeded"
    # the Settings page says the value comes from the environment, never shows it
    html = operator.get("/configuracoes").get_data(as_text=True)
    assert emu.config.gc_secret_token not in html and emu.config.kommo_token() not in html
    for alias in ("KOMMO_LONG_LIVED_TOKEN", "GESTAO_CLICK_API_KEY", "GESTAO_CLICK_SECRET_TOKEN"):
        assert f'<code class="text-reset">{alias}</code>' in html  # where the value came from


def test_hotmart_basic_auth_alias_reaches_the_client(app_factory, start_emulator):  # noqa: F811
    emu = start_emulator(products=3, hotmart_rate_limit=0)
    client_id, secret = emu.sandbox_credentials
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    app = app_factory(
        HOTMART_CLIENT_ID=client_id,
        HOTMART_CLIENT_SECRET=secret,
        HOTMART_BASIC_AUTH=f"Basic {basic}",
        HOTMART_API_URL=emu.hotmart_sandbox,
        HOTMART_AUTH_URL=emu.hotmart_auth,
        HOTMART_THROTTLE_PER_SECOND=0,
        RETRY_ATTEMPTS=0,
    )
    with app.app_context():
        from app.services import hotmart

        assert settings.get("HOTMART_BASIC") == f"Basic {basic}"
        assert hotmart.test_connection().success is True


def test_kommo_timeout_and_retry_delay_in_milliseconds_are_used(app_factory, emu):
    app = app_factory(
        **seed_env(
            emu,
            KOMMO_TIMEOUT="400",  # below 1000: seconds
            KOMMO_RETRY_ATTEMPTS="0",
            KOMMO_RETRY_DELAY="1500",
        )
    )
    with app.app_context():
        with kommo.build_client() as client:
            assert client.gateway.timeout == (5.0, 400.0)
            assert (client.gateway.retry_attempts, client.gateway.retry_delay) == (0, 1.5)
    app = app_factory(**seed_env(emu, KOMMO_TIMEOUT="300000", KOMMO_RETRY_ATTEMPTS="1"))
    with app.app_context():
        with kommo.build_client() as client:
            assert client.gateway.timeout == (5.0, 300.0) and client.gateway.retry_attempts == 1
    # a live timeout: 1200 ms is 1.2 s, and KOMMO_RETRY_ATTEMPTS=0 means one try only
    emu.fault(api="kommo", latency_ms=2500)
    app = app_factory(**seed_env(emu, KOMMO_TIMEOUT="1200", KOMMO_RETRY_ATTEMPTS="0"))
    with app.app_context():
        started = time.monotonic()
        result = kommo.test_connection()
        assert result.code == "timeout" and time.monotonic() - started < 2.4
        assert emu.hits("kommo.account") == 1


def _debug_lines(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if f"{name} debug" in r.getMessage()]


def test_kommo_debug_logs_requests_at_debug_with_secrets_masked(app_factory, emu, caplog):
    token = emu.config.kommo_token()
    app = app_factory(**seed_env(emu))
    with app.app_context():
        assert kommo.test_connection().success
    assert _debug_lines(caplog, "Kommo") == []  # off by default (LOG_LEVEL stays in charge)
    caplog.clear()
    app = app_factory(**seed_env(emu, KOMMO_DEBUG="true"))
    with app.app_context():
        assert kommo.test_connection().success
    lines = _debug_lines(caplog, "Kommo")
    assert len(lines) == 2 and all(r.levelno == logging.DEBUG for r in lines)
    request_line, response_line = (r.getMessage() for r in lines)
    assert "GET /kommo/api/v4/account" in request_line and "Authorization" in request_line
    assert "→ 200" in response_line and "Vendas Hub Demo" in response_line  # the body
    assert token not in caplog.text and token[:20] not in caplog.text
    assert _debug_lines(caplog, "Gestão Click") == []  # only that integration


def test_gestao_click_debug_logs_requests_with_tokens_masked(app_factory, emu, caplog):
    app = app_factory(**seed_env(emu, GESTAO_CLICK_DEBUG="1"))
    with app.app_context():
        assert gestao_click.test_connection().success
        assert kommo.test_connection().success
    lines = [r.getMessage() for r in _debug_lines(caplog, "Gestão Click")]
    assert lines and any("access-token" in line for line in lines)
    for secret in (emu.config.gc_access_token, emu.config.gc_secret_token):
        assert secret not in caplog.text
    assert _debug_lines(caplog, "Kommo") == []


def test_kommo_base_domain_completes_a_bare_subdomain(app_factory, emu):
    token = emu.config.kommo_token(api_domain=None)
    app = app_factory(
        KOMMO_LONG_LIVED_TOKEN=token, KOMMO_API_URL="acme", KOMMO_BASE_DOMAIN="amocrm.com"
    )
    with app.app_context():
        assert kommo.overview()["api_url"] == "https://acme.amocrm.com/api/v4"
        assert kommo.build_client().api_url == "https://acme.amocrm.com/api/v4"
