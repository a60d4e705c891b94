"""SPEC §12: the seeds' own names keep working, against the live emulator.

Environment aliases (the SPEC name wins), Kommo's millisecond knobs, KOMMO_DEBUG /
GESTAO_CLICK_DEBUG request logs with secrets masked, KOMMO_BASE_DOMAIN, and the seed 002/003
endpoints with their request bodies and answer fields.
"""

from __future__ import annotations

import base64
import logging
import math
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.clients.gestao_click import usage_counter
from app.clients.kommo import jwt_claims, normalize_api_url
from app.extensions import db
from app.models import IntegrationSetting, KommoContact, KommoLead
from app.services import gestao_click, kommo, settings, sync
from config import Config, seconds
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, count_rows, csrf_token

CONTACTS = 30
LEADS = 40


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
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
        # where the value came from, under the card's "Detalhes técnicos"
        assert f"(ou <code>{alias}</code>)" in html


def test_hotmart_basic_auth_alias_reaches_the_client(app_factory, start_emulator):
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
        # The emulator answers after 2.5 s: a "timeout" code proves the 1.2 s limit applied.
        result = kommo.test_connection()
        assert result.code == "timeout"
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
        report = kommo.connection_report(emu.config.kommo_token(base_domain=None))
        assert report["account"]["baseDomain"] == "amocrm.com"  # no claim: the setting


# ------------------------------------------------------------------------------- seed 002: Kommo


def test_post_test_connection_tests_the_given_token_without_saving_it(app_factory, emu):
    other = emu.config.kommo_token(exp=int(time.time()) + 90 * 86400)
    app = app_factory(**seed_env(emu, KOMMO_LONG_LIVED_TOKEN="eyJ.invalid.token"))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        assert (
            client.post("/api/kommo/test-connection", json={"jwtToken": other}).status_code == 400
        )
        response = post_json(client, "/api/kommo/test-connection", {"jwtToken": other})
        assert response.status_code == 200
        body = response.get_json()
        assert {"success", "message", "code", "connection", "account", "diagnostics"} <= set(body)
        assert (body["success"], body["code"]) == (True, "ok")
        assert body["connection"]["status"] == "connected"
        assert body["connection"]["tokenSource"] == "request"
        claims = jwt_claims(other)
        account = body["account"]
        assert account["accountId"] == claims["account_id"] == emu.config.kommo_account_id
        assert account["baseDomain"] == "kommo.com" and account["apiDomain"] == "api-c.kommo.com"
        assert account["scopes"] == claims["scopes"] and "crm" in account["scopes"]
        expires = datetime.fromisoformat(account["expiresAt"])
        assert expires == datetime.fromtimestamp(claims["exp"], UTC)
        assert account["currency"] == "BRL" and account["subdomain"] == "vendashub"
        contacts = body["diagnostics"]["contacts"]
        assert contacts["count"] == len(contacts["items"]) == kommo.DIAGNOSTIC_CONTACTS
        assert {"id", "name", "email", "phone"} <= set(contacts["items"][0])
        # not saved: the configured (broken) token is still the one in use
        assert count_rows(IntegrationSetting) == 0
        assert settings.get("KOMMO_JWT_TOKEN") == "eyJ.invalid.token"
        assert count_rows(KommoContact) == 0  # diagnostics are not a sync
        configured = post_json(client, "/api/kommo/test-connection").get_json()
        assert (configured["success"], configured["connection"]["tokenSource"]) == (
            False,
            "settings",
        )
        assert configured["diagnostics"] == {"contacts": {"count": 0, "items": []}}


def test_post_test_connection_with_a_rejected_token(operator, emu):
    bad = emu.config.kommo_token(account_id=1)  # another account: Kommo answers 401
    body = post_json(operator, "/api/kommo/test-connection", {"jwtToken": bad}).get_json()
    assert (body["success"], body["code"]) == (False, "invalid_token")
    assert body["connection"]["status"] == "failed" and "401" in body["connection"]["message"]
    assert body["account"]["accountId"] == 1  # what the token claims, unverified
    assert body["diagnostics"]["contacts"]["count"] == 0
    assert emu.hits("kommo.contacts") == 0
    body = post_json(operator, "/api/kommo/test-connection", {"jwtToken": ""}).get_json()
    assert (body["success"], body["code"]) == (False, "missing_token")
    wrong_type = post_json(operator, "/api/kommo/test-connection", {"jwtToken": 5})
    assert wrong_type.status_code == 400 and wrong_type.get_json()["success"] is False


def test_post_contacts_and_deals_by_id(operator, seed_app, emu):
    with kommo.build_client() as client:
        contact = next(client.contact_pages(limit=1)).items[0]
        lead = next(client.lead_pages(limit=1)).items[0]
    # not synced yet: read from Kommo once, then kept
    response = post_json(operator, "/api/kommo/contacts", {"contactId": contact["id"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is True and body["data"]["id"] == contact["id"]
    assert body["contact"]["name"] == contact["name"] and isinstance(body["data"]["deals"], list)
    assert emu.hits("kommo.contact") == 1
    again = post_json(operator, "/api/kommo/contacts", {"contactId": str(contact["id"])})
    assert again.get_json()["data"]["id"] == contact["id"] and emu.hits("kommo.contact") == 1
    assert count_rows(KommoContact) == 1

    response = post_json(operator, "/api/kommo/deals", {"dealId": lead["id"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    deal = response.get_json()["data"]
    assert deal["id"] == lead["id"] and deal["price"] == lead["price"]
    assert deal["currency"] == "BRL" and response.get_json()["deal"] == deal
    assert emu.hits("kommo.lead") == 1 and count_rows(KommoLead) == 1
    # the next sync completes it (pipeline and status names) without duplicating it
    assert sync.run_sync("kommo", "leads").status == "succeeded"
    db.session.expire_all()
    stored = db.session.scalar(select(KommoLead).where(KommoLead.remote_id == lead["id"]))
    assert stored.status_name and count_rows(KommoLead) == LEADS

    for url, key in (("/api/kommo/contacts", "contactId"), ("/api/kommo/deals", "dealId")):
        missing = post_json(operator, url, {key: 1})
        assert missing.status_code == 404 and missing.get_json()["success"] is False
        for bad in ({}, {key: "abc"}, {key: True}, {key: -3}):
            assert post_json(operator, url, bad).status_code == 400
    assert operator.post("/api/kommo/contacts", json={"contactId": 1}).status_code == 400  # CSRF


def test_post_contact_when_kommo_fails_is_a_clean_error(operator, emu):
    emu.fault(api="kommo", blocked=True)
    response = post_json(operator, "/api/kommo/contacts", {"contactId": 18_000_001})
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert "Kommo" in error["message"] and "403" in error["message"]


def test_get_sync_has_the_seed_status_shape(operator, seed_app, emu):
    body = operator.get("/api/kommo/sync").get_json()
    assert body["success"] is True
    assert body["data"] == {
        "lastSync": None,
        "contactsCount": 0,
        "dealsCount": 0,
        "syncSuccess": False,
        "errors": [],
        "running": False,
    }
    started = post_json(operator, "/api/kommo/sync")
    assert started.status_code == 202
    assert sync.wait_idle(20)
    data = operator.get("/api/kommo/sync").get_json()["data"]
    assert (data["contactsCount"], data["dealsCount"]) == (CONTACTS, LEADS)
    assert data["syncSuccess"] is True and data["errors"] == [] and data["lastSync"]
    assert datetime.fromisoformat(data["lastSync"]).tzinfo is not None
    emu.fault(api="kommo", blocked=True)
    assert sync.run_sync("kommo", "leads").status == "failed"
    data = operator.get("/api/kommo/sync").get_json()["data"]
    assert data["syncSuccess"] is False and len(data["errors"]) == 1
    assert data["errors"][0].startswith("Negócios:") and "403" in data["errors"][0]


def test_list_answers_carry_the_seed_keys(operator, seed_app, emu):
    assert sync.run_sync("kommo", "contacts").status == "succeeded"
    assert sync.run_sync("kommo", "leads").status == "succeeded"
    body = operator.get("/api/kommo/contacts?page=2&limit=7").get_json()
    assert body["data"] == body["items"] and len(body["data"]) == 7
    assert body["pagination"] == {
        "page": 2,
        "limit": 7,
        "pageCount": math.ceil(CONTACTS / 7),
        "total": CONTACTS,
    }
    assert body["message"] == f"{CONTACTS} contatos encontrados"
    deals = operator.get("/api/kommo/deals?limit=250").get_json()
    assert deals["data"] == deals["items"] and deals["pagination"]["pageCount"] == 1
    assert deals["message"] == f"{LEADS} negócios encontrados"
    one = operator.get("/api/kommo/contacts?query=zzz-nobody").get_json()
    assert one["pagination"]["pageCount"] == 0 and one["message"] == "0 contatos encontrados"
    assert sync.run_sync("gestao_click", "clients").status == "succeeded"
    clients = operator.get("/api/gestao-click/clients?limit=3").get_json()
    assert clients["data"] == clients["items"] and clients["pagination"]["limit"] == 3
    assert clients["message"].endswith("clientes encontrados")


def test_seed_endpoints_follow_the_api_login_rules(seed_app, emu):
    client = seed_app.test_client()
    auth = Auth(seed_app, client)
    auth.create()  # setup done: an operator exists
    for method, url in (
        ("post", "/api/kommo/test-connection"),
        ("post", "/api/kommo/contacts"),
        ("post", "/api/kommo/deals"),
        ("get", "/api/kommo/sync"),
        ("post", "/api/gestao-click/test-connection"),
    ):
        response = getattr(client, method)(url, json={}, headers={"Accept": "application/json"})
        # anonymous: a POST fails the CSRF check first (400), a GET asks for a login
        expected = (400,) if method == "post" else (302, 401)
        assert response.status_code in expected, (url, response.status_code)
    auth.create(email="membro@example.com", role="member", name="Bia")
    assert auth.login(email="membro@example.com").status_code == 302
    assert client.get("/api/kommo/sync").status_code == 403
    assert post_json(client, "/api/kommo/test-connection", page="/conta").status_code == 403
    assert emu.stats()["total"] == 0


# ------------------------------------------------------------------------ seed 003: Gestão Click


def test_gestao_click_post_test_connection_env_or_typed_credentials(app_factory, emu):
    app = app_factory(**seed_env(emu))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        url = "/api/gestao-click/test-connection"
        body = post_json(client, url, {"useEnvCredentials": True}, "/gestao-click").get_json()
        assert (body["success"], body["code"], body["credentials"]) == (True, "ok", "settings")
        assert {"message", "details", "usage"} <= set(body)
    # nothing configured: typed tokens are tested, not saved
    app = app_factory(**FAST, GESTAOCLICK_API_URL=emu.gestaoclick)
    with app.app_context():
        client = app.test_client()
        assert Auth(app, client).login().status_code == 302  # same database, same operator
        cfg = emu.config
        typed = {"accessToken": cfg.gc_access_token, "secretToken": cfg.gc_secret_token}
        body = post_json(client, url, typed, "/gestao-click").get_json()
        assert (body["success"], body["code"], body["credentials"]) == (True, "ok", "request")
        assert body["usage"]["used"] >= 1
        assert count_rows(IntegrationSetting) == 0 and not gestao_click.is_configured()
        wrong = {"accessToken": "wrong-access-token", "secretToken": cfg.gc_secret_token}
        body = post_json(client, url, wrong, "/gestao-click").get_json()
        assert (body["success"], body["code"]) == (False, "invalid_credentials")
        env = post_json(client, url, {"useEnvCredentials": True}, "/gestao-click").get_json()
        assert (env["success"], env["code"]) == (False, "missing_credentials")
        half = post_json(client, url, {"accessToken": cfg.gc_access_token}, "/gestao-click")
        assert half.status_code == 400 and "secretToken" in half.get_json()["error"]["message"]
        assert client.post(url, json=typed).status_code == 400  # no CSRF token
