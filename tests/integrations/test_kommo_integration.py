"""Kommo integration end to end: the app's settings point at a live emulator.

Pagination to the end (204 / no ``next``), full and incremental syncs (``filter[updated_at]``),
idempotent re-runs, 429 ``retry_after`` honoured, 401/402/403 never retried (403 aborts the
sync), every "Testar conexão" message, the JSON API, the /kommo page and secrets kept out of
logs and HTML.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.clients.kommo import KommoClient, base_url_for, jwt_claims, normalize_api_url
from app.extensions import db
from app.models import KommoContact, KommoLead, SyncRun
from app.services import kommo, sync
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, count_rows, csrf_token

CONTACTS = 260
LEADS = 310
PAGE = 50


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        contacts=CONTACTS,
        leads=LEADS,
        kommo_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


def kommo_config(emu: LiveEmulator, **overrides) -> dict:
    config = {
        "KOMMO_JWT_TOKEN": emu.config.kommo_token(),
        "KOMMO_API_URL": emu.kommo,
        "KOMMO_TIMEOUT": "3",
        "RETRY_ATTEMPTS": 3,
        "RETRY_DELAY": 0.01,
        "KOMMO_THROTTLE_PER_SECOND": 0,
        "KOMMO_PAGE_SIZE": PAGE,
    }
    config.update(overrides)
    return config


@pytest.fixture
def km_app(app_factory, emu):
    app = app_factory(**kommo_config(emu))
    with app.app_context():
        yield app
        sync.wait_idle(10)


@pytest.fixture
def operator_client(km_app):
    client = km_app.test_client()
    Auth(km_app, client).operator()
    return client


def direct_client(emu: LiveEmulator, **kw) -> KommoClient:
    kw.setdefault("throttle_per_second", None)
    kw.setdefault("retry_delay", 0.01)
    return KommoClient(emu.config.kommo_token(), emu.kommo, **kw)


# ------------------------------------------------------------------------------ client


def test_base_url_from_setting_or_token_claims(emu):
    token = emu.config.kommo_token()
    assert jwt_claims(token)["api_domain"] == "api-c.kommo.com"
    assert base_url_for(token) == "https://api-c.kommo.com/api/v4"
    assert base_url_for(token, "https://acme.kommo.com/") == "https://acme.kommo.com/api/v4"
    assert normalize_api_url("acme") == "https://acme.kommo.com/api/v4"
    assert normalize_api_url("acme.kommo.com/api/v4") == "https://acme.kommo.com/api/v4"
    assert base_url_for("not-a-jwt") is None and jwt_claims("a.b.c") == {}


def test_pagination_reads_every_page_and_stops_without_next_or_on_204(emu):
    with direct_client(emu) as client:
        pages = list(client.contact_pages(limit=PAGE))
        assert [len(p.items) for p in pages] == [PAGE] * 5 + [CONTACTS - 5 * PAGE]
        assert pages[-1].has_next is False
        ids = [c["id"] for p in pages for c in p.items]
        assert len(set(ids)) == CONTACTS
        assert emu.hits("kommo.contacts") == math.ceil(CONTACTS / PAGE)
        leads = list(client.iter_leads(limit=250))
        assert len(leads) == LEADS
        assert all("contacts" in lead["_embedded"] for lead in leads)  # with=contacts
        # nothing updated after "now": Kommo answers 204 with no body → no pages
        future = int(time.time()) + 86400
        assert list(client.contact_pages(updated_from=future)) == []
        assert emu.statuses("kommo").get("204") == 1
        assert client.get_contact(1) is None and client.get_lead(1) is None  # by id: 204
        assert client.get_contact(ids[0])["id"] == ids[0]
        statuses = {s["id"] for p in client.pipelines() for s in p["_embedded"]["statuses"]}
        assert {142, 143} <= statuses


def test_429_retry_after_is_honoured(start_emulator):
    emu = start_emulator(kommo_rate_limit=2, kommo_retry_after=1, kommo_block_after=0)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with direct_client(emu, sleep=sleep, retry_attempts=3) as client:
        for _ in range(3):
            assert client.account()["name"]
    assert emu.statuses("kommo").get("429", 0) >= 1
    assert any(0.5 <= w <= 1.0 for w in waits), waits  # retry_after 1 s, not a fast retry


@pytest.mark.parametrize("fault", [{"unauthorized": True}, {"blocked": True}, {"status": 402}])
def test_401_402_403_are_never_retried(emu, fault):
    emu.fault(api="kommo", **fault)
    with direct_client(emu, retry_attempts=3) as client:
        result = client.test_connection()
    assert result.success is False
    assert emu.hits("kommo.account") == 1


# ------------------------------------------------------------------------------ syncs


def test_full_sync_then_rerun_is_idempotent(km_app, emu):
    first = sync.run_sync("kommo", "contacts")
    assert (first.status, first.created_count, first.failed_count) == (
        "succeeded",
        CONTACTS,
        0,
    ), first.error
    assert first.progress_done == CONTACTS
    assert count_rows(KommoContact) == CONTACTS
    with_email = db.session.scalars(
        select(KommoContact).where(KommoContact.email.is_not(None))
    ).first()
    assert "@" in with_email.email and with_email.phone.startswith("+55")
    assert with_email.remote_updated_at and with_email.name

    leads = sync.run_sync("kommo", "leads")
    assert (leads.status, leads.created_count) == ("succeeded", LEADS), leads.error
    with direct_client(emu) as client:
        remote = list(client.iter_leads())
    won = sum(1 for lead in remote if lead["status_id"] == 142)
    lost = sum(1 for lead in remote if lead["status_id"] == 143)
    assert count_rows(KommoLead, KommoLead.is_won.is_(True)) == won
    assert count_rows(KommoLead, KommoLead.is_lost.is_(True)) == lost
    assert count_rows(KommoLead, KommoLead.status_name.is_(None)) == 0
    assert count_rows(KommoLead, KommoLead.pipeline_name.is_(None)) == 0
    assert count_rows(KommoLead, KommoLead.contact_id.is_(None)) == 0

    for resource, total in (("contacts", CONTACTS), ("leads", LEADS)):
        again = sync.run_sync("kommo", resource, full=True)
        assert (again.created_count, again.updated_count, again.failed_count) == (0, 0, 0)
        assert again.unchanged_count == total
    assert count_rows(KommoContact) == CONTACTS and count_rows(KommoLead) == LEADS


def test_incremental_sync_reads_only_what_changed_since_the_last_success(km_app, emu):
    first = sync.run_sync("kommo", "contacts")
    assert first.status == "succeeded", first.error
    # pretend the last success was 60 days ago: the next run asks Kommo for changes since then
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
    db.session.execute(update(SyncRun).where(SyncRun.id == first.id).values(started_at=since))
    db.session.commit()
    cutoff = int((since - timedelta(seconds=300)).timestamp())  # 5 min overlap
    with direct_client(emu) as client:
        expected = len(list(client.iter_contacts(updated_from=cutoff)))
    assert 0 < expected < CONTACTS
    before = emu.hits("kommo.contacts")
    second = sync.run_sync("kommo", "contacts")
    assert second.status == "succeeded", second.error
    assert second.progress_done == expected and second.unchanged_count == expected
    assert emu.hits("kommo.contacts") - before == math.ceil(expected / PAGE)
    # the very next run: only the overlap window, almost nothing
    third = sync.run_sync("kommo", "contacts")
    assert third.status == "succeeded" and third.progress_done < 5


def test_403_block_aborts_the_sync_after_one_request(km_app, emu):
    emu.fault(api="kommo", blocked=True)
    run = sync.run_sync("kommo", "contacts")
    assert run.status == "failed"
    assert "403" in run.error and "interrompida" in run.error
    assert emu.hits("kommo.contacts") == 1
    run = sync.run_sync("kommo", "leads")  # the pipelines call is the first to meet the block
    assert run.status == "failed" and "403" in run.error
    assert emu.hits("kommo.pipelines") == 1 and emu.hits("kommo.leads") == 0


def test_429_during_a_sync_is_retried_and_the_sync_succeeds(km_app, emu):
    emu.fault(api="kommo", path="/contacts", status=429, count=2)
    run = sync.run_sync("kommo", "contacts")
    assert (run.status, run.created_count) == ("succeeded", CONTACTS), run.error
    assert emu.statuses("kommo").get("429") == 2


def test_throttle_keeps_a_sync_under_kommo_rate_limit(app_factory, start_emulator):
    emu = start_emulator(contacts=CONTACTS, leads=10, kommo_rate_limit=7)
    app = app_factory(**kommo_config(emu, KOMMO_THROTTLE_PER_SECOND=5))
    with app.app_context():
        run = sync.run_sync("kommo", "contacts")
        assert run.status == "succeeded", run.error
    assert emu.hits("kommo.contacts") == math.ceil(CONTACTS / PAGE)
    assert "429" not in emu.statuses("kommo")


def test_syncers_registered_and_disabled_without_token(app_factory):
    app = app_factory(KOMMO_JWT_TOKEN=None, KOMMO_API_URL=None)
    with app.app_context():
        for resource in ("contacts", "leads"):
            syncer = sync.get_syncer("kommo", resource)
            assert syncer is not None and syncer.interval == 900
            assert syncer.is_enabled() is False
        with pytest.raises(sync.SyncNotConfigured):
            sync.run_sync("kommo", "contacts")


# ------------------------------------------------------------------------------ Test Connection


def _test_via_api(client) -> dict:
    response = client.get("/api/kommo/test-connection")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"success", "message", "code", "details"}
    return body


def _body_for(app_factory, emu, **overrides) -> dict:
    app = app_factory(**kommo_config(emu, **overrides))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        return _test_via_api(client)


def test_connection_ok(operator_client, emu):
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (True, "ok")
    assert "Vendas Hub Demo" in body["message"] and "vendashub" in body["message"]
    assert body["details"]["account"]["currency"] == "BRL"
    assert emu.hits("kommo.account") == 1


def test_connection_ok_warns_when_the_token_expires_soon(app_factory, emu):
    soon = int(time.time()) + 3 * 86400
    body = _body_for(app_factory, emu, KOMMO_JWT_TOKEN=emu.config.kommo_token(exp=soon))
    assert body["success"] is True and "expira em" in body["message"]
    assert body["details"]["token_expiry"] == "soon"


def test_connection_missing_token(app_factory, emu):
    body = _body_for(app_factory, emu, KOMMO_JWT_TOKEN=None)
    assert (body["success"], body["code"]) == (False, "missing_token")
    assert "não configurado" in body["message"]
    assert emu.stats()["total"] == 0


def test_connection_invalid_token(app_factory, emu):
    body = _body_for(app_factory, emu, KOMMO_JWT_TOKEN=emu.config.kommo_token(account_id=1))
    assert (body["success"], body["code"]) == (False, "invalid_token")
    assert "401" in body["message"]
    assert emu.hits("kommo.account") == 1


def test_connection_expired_token(app_factory, emu):
    past = int(time.time()) - 86400
    body = _body_for(app_factory, emu, KOMMO_JWT_TOKEN=emu.config.kommo_token(exp=past))
    assert (body["success"], body["code"]) == (False, "token_expired")
    assert "expirou em" in body["message"]
    assert emu.hits("kommo.account") == 1


def test_connection_subscription_ended(operator_client, emu):
    emu.fault(api="kommo", status=402)
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (False, "payment_required")
    assert "assinatura" in body["message"]


def test_connection_blocked(operator_client, emu):
    emu.fault(api="kommo", blocked=True)
    body = _test_via_api(operator_client)
    assert (body["success"], body["code"]) == (False, "permission_denied")
    assert "403" in body["message"] and "bloqueado" in body["message"]
    assert emu.hits("kommo.account") == 1


def test_connection_timeout(app_factory, emu):
    emu.fault(api="kommo", latency_ms=1500)
    body = _body_for(app_factory, emu, KOMMO_TIMEOUT="0.3", RETRY_ATTEMPTS=0)
    assert (body["success"], body["code"]) == (False, "timeout")
    assert "não respondeu a tempo" in body["message"]


def test_connection_refused(app_factory, emu, refused_url):
    body = _body_for(app_factory, emu, KOMMO_API_URL=refused_url, RETRY_ATTEMPTS=0)
    assert (body["success"], body["code"]) == (False, "connection_error")
    assert "Não foi possível conectar" in body["message"]


# ------------------------------------------------------------------------------ JSON API


def test_api_sync_status_lists_and_details(operator_client, km_app, emu):
    headers = {"X-CSRFToken": csrf_token(operator_client, "/kommo")}
    response = operator_client.post("/api/kommo/sync", headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is True and body["run_id"] == body["run_ids"]["leads"]
    assert set(body["run_ids"]) == {"contacts", "leads"}
    assert sync.wait_idle(120)
    from app.models import AuditEntry

    db.session.rollback()
    started = db.session.scalars(
        db.select(AuditEntry.target_id).where(AuditEntry.action == "sync.started")
    ).all()
    assert sorted(started) == sorted(str(i) for i in body["run_ids"].values())  # audited
    status = operator_client.get("/api/kommo/sync/status").get_json()
    assert status["success"] is True and status["running"] is False
    for resource, total in (("contacts", CONTACTS), ("leads", LEADS)):
        last = status["runs"][resource]["last"]
        assert last["status"] == "succeeded" and last["counts"]["created"] == total
        assert set(last) == {"id", "source", "resource", "status", "progress", "counts", "error"}

    page = operator_client.get("/api/kommo/contacts?page=2&limit=10").get_json()
    assert (page["success"], page["page"], page["limit"], page["total"]) == (
        True,
        2,
        10,
        CONTACTS,
    )
    assert len(page["items"]) == 10
    contact = next(c for c in page["items"] if c["email"])
    assert {"id", "name", "email", "phone", "updated_at"} <= set(contact)
    found = operator_client.get(f"/api/kommo/contacts?query={contact['email']}").get_json()
    assert contact["id"] in {c["id"] for c in found["items"]}
    detail = operator_client.get(f"/api/kommo/contacts/{contact['id']}").get_json()
    assert detail["success"] is True and detail["contact"]["id"] == contact["id"]
    assert isinstance(detail["contact"]["deals"], list)

    deals = operator_client.get("/api/kommo/deals?limit=250").get_json()
    assert deals["total"] == LEADS and len(deals["items"]) == 250
    deal = deals["items"][0]
    assert {"id", "name", "price", "status_name", "pipeline_name", "is_won", "is_lost"} <= set(deal)
    assert deal["contact"] and deal["contact"]["id"] == deal["contact_id"]
    by_contact = operator_client.get(f"/api/kommo/deals?query={deal['contact']['name']}")
    assert deal["id"] in {d["id"] for d in by_contact.get_json()["items"]}
    one = operator_client.get(f"/api/kommo/deals/{deal['id']}").get_json()
    assert one["success"] is True and one["deal"]["id"] == deal["id"]

    for url in ("/api/kommo/contacts/1", "/api/kommo/deals/1"):
        missing = operator_client.get(url)
        assert missing.status_code == 404
        err = missing.get_json()
        assert err["success"] is False and {"code", "message"} <= set(err["error"])
    assert operator_client.get("/api/kommo/deals?limit=251").status_code == 400
    assert operator_client.get("/api/kommo/contacts?page=x").status_code == 400
    assert operator_client.post("/api/kommo/sync").status_code == 400  # no CSRF token


def test_api_sync_without_token_is_409(app_factory):
    app = app_factory(KOMMO_JWT_TOKEN=None, KOMMO_API_URL=None)
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        headers = {"X-CSRFToken": csrf_token(client, "/kommo")}
        response = client.post("/api/kommo/sync", headers=headers)
        assert response.status_code == 409
        assert response.get_json()["success"] is False


# ------------------------------------------------------------------------------ page, secrets


def test_page_renders_for_operator_and_is_forbidden_for_members(km_app, emu):
    assert sync.run_sync("kommo", "contacts").status == "succeeded"
    assert sync.run_sync("kommo", "leads").status == "succeeded"
    client = km_app.test_client()
    auth = Auth(km_app, client)
    auth.member()
    assert client.get("/kommo").status_code == 403
    assert client.get("/api/kommo/contacts").status_code == 403
    auth.logout()
    auth.login()
    html = client.get("/kommo").get_data(as_text=True)
    assert "Testar conexão" in html and html.count("Sincronizar") >= 2
    # issue #17: "Conectado" only once a sync (here) or a connection test succeeded
    assert 'data-integration-status="ok"' in html and "Conectado" in html
    newest = db.session.scalars(kommo.contacts_query()).first()  # the page lists newest first
    assert newest.name in html
    html = client.get("/kommo?aba=negocios").get_data(as_text=True)
    assert "R$" in html and ("ganho" in html or "perdido" in html)
    html = client.get("/kommo?aba=negocios&status=won").get_data(as_text=True)
    assert "ganho" in html and "perdido</span>" not in html
    html = client.get("/kommo?aba=contatos&q=zzzz-nada").get_data(as_text=True)
    assert "Nenhum contato encontrado" in html


def test_page_empty_state_and_expired_token_warning(app_factory, emu):
    app = app_factory(KOMMO_JWT_TOKEN=None, KOMMO_API_URL=None)
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        html = client.get("/kommo").get_data(as_text=True)
    assert "token não configurado" in html and "KOMMO_JWT_TOKEN" not in html
    assert "Configure o token do Kommo" in html
    past = int(time.time()) - 86400
    app = app_factory(**kommo_config(emu, KOMMO_JWT_TOKEN=emu.config.kommo_token(exp=past)))
    with app.app_context():
        client = app.test_client()
        auth = Auth(app, client)
        auth.create(email="outro@example.com")
        auth.login(email="outro@example.com")
        html = client.get("/kommo").get_data(as_text=True)
    assert "token expirado" in html and "expirou em" in html


def test_jwt_never_reaches_logs_or_the_page(operator_client, km_app, emu, caplog):
    caplog.set_level(logging.DEBUG)
    token = emu.config.kommo_token()
    assert sync.run_sync("kommo", "contacts").status == "succeeded"
    emu.fault(api="kommo", unauthorized=True, count=1)
    assert _test_via_api(operator_client)["code"] == "invalid_token"
    assert _test_via_api(operator_client)["success"] is True
    html = operator_client.get("/kommo").get_data(as_text=True)
    assert caplog.records
    for value in (token, token.split(".")[2]):
        assert value not in caplog.text
        assert value not in html


# ------------------------------------------------------------------------------ account currency


def test_deal_amounts_are_in_the_account_currency(app_factory, start_emulator):
    emu = start_emulator(contacts=20, leads=40, kommo_rate_limit=0, kommo_currency="USD")
    app = app_factory(**kommo_config(emu))
    with app.app_context():
        for resource in ("contacts", "leads"):
            assert sync.run_sync("kommo", resource).status == "succeeded"
        assert emu.hits("kommo.account") == 1  # read once per leads run
        assert count_rows(KommoLead, KommoLead.currency == "USD") == 40
        won = db.session.scalars(select(KommoLead).where(KommoLead.is_won.is_(True))).all()
        assert won, "the emulator always has won leads"
        client = app.test_client()
        Auth(app, client).operator()
        html = client.get("/kommo?aba=negocios&status=won").get_data(as_text=True)
        assert "US$" in html and "R$" not in html.split("Negócios ganhos")[1]
        from app.formatting import brl

        total = sum(lead.price for lead in won if lead.price is not None)
        assert brl(total * 100, "USD") in html  # the won total, in dollars
        assert brl(won[0].price * 100, "USD") in html or len(won) > 25
        deal = client.get(f"/api/kommo/deals/{won[0].remote_id}").get_json()["deal"]
        assert (deal["price"], deal["currency"]) == (won[0].price, "USD")
        # a re-run changes nothing; the account changing currency updates every lead
        again = sync.run_sync("kommo", "leads", full=True)
        assert again.unchanged_count == 40
        emu.config.kommo_currency = "EUR"
        assert sync.run_sync("kommo", "leads", full=True).updated_count == 40
        html = client.get("/kommo?aba=negocios").get_data(as_text=True)
        assert "€" in html and "US$" not in html
        sync.wait_idle(10)
