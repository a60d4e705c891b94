"""Seed 003's Gestão Click endpoints: POST /api/gestao-click/auto-import and
GET|POST /api/gestao-click/sync-schedule (stored as the jobs' schedules; the scheduler
honours them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import scheduler as scheduler_module
from app.extensions import db
from app.models import AuditEntry, JobSetting
from app.scheduler import Scheduler
from app.services import sync
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import Auth, csrf_token
from tests.sync_testkit import wait_for

JOBS = ("sync:gestao_click:sales", "sync:gestao_click:clients", "sync:gestao_click:products")
URL = "/api/gestao-click/sync-schedule"


@pytest.fixture
def gc_app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def op(gc_app):
    client = gc_app.test_client()
    Auth(gc_app, client).operator()
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client, "/gestao-click")
    return client


def test_schedule_reads_the_defaults(op):
    body = op.get(URL).get_json()
    assert body["success"] is True
    assert body["interval_minutes"] == 360 and body["enabled"] is True  # sales: every 6 h
    assert body["uniform"] is False
    assert {r["job_id"] for r in body["resources"].values()} == set(JOBS)


def test_setting_the_schedule_stores_it_for_every_resource(gc_app, op):
    resp = op.post(URL, json={"interval_minutes": 30, "enabled": True})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["changed"] is True and body["interval_minutes"] == 30 and body["uniform"]
    for job_id in JOBS:
        setting = db.session.get(JobSetting, job_id)
        assert setting.interval_seconds == 1800 and setting.enabled
        assert setting.updated_by == "operador@example.com"
    assert db.session.query(AuditEntry).filter_by(action="schedules.changed").count() == 1
    off = op.post(URL, json={"enabled": False}).get_json()
    assert off["enabled"] is False and off["interval_minutes"] == 30
    again = op.post(URL, json={"enabled": False}).get_json()
    assert again["changed"] is False
    one = op.post(URL, json={"interval_minutes": 90, "resources": ["clients"]}).get_json()
    assert one["resources"]["clients"]["interval_minutes"] == 90
    assert one["resources"]["sales"]["interval_minutes"] == 30
    # the Settings page shows the same values
    page = op.get("/configuracoes").get_data(as_text=True)
    assert 'value="90"' in page


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {},
        {"interval_minutes": 0},
        {"interval_minutes": 10081},
        {"interval_minutes": "abc"},
        {"interval_minutes": 1.5},
        {"interval_minutes": True},
        {"enabled": "talvez"},
        {"enabled": 1},
        {"interval_minutes": 10, "resources": ["invoices"]},
        {"interval_minutes": 10, "resources": []},
        {"interval_minutes": 10, "foo": 1},
        {"interval_minutes": "²"},  # a Unicode digit int() refuses
        {"interval_minutes": 10, "resources": [{}]},  # unhashable
    ],
)
def test_invalid_schedules_are_400_with_a_message(op, body):
    resp = op.post(URL, json=body) if body is not None else op.post(URL, data="not json")
    assert resp.status_code == 400
    payload = resp.get_json()
    assert payload["success"] is False and payload["error"]["message"]
    assert db.session.query(JobSetting).count() == 0


def test_schedule_and_auto_import_need_an_operator(gc_app):
    member = gc_app.test_client()
    Auth(gc_app, member).member()
    assert member.get(URL).status_code == 403
    anonymous = gc_app.test_client()
    assert anonymous.get(URL).status_code in (302, 401)
    op = gc_app.test_client()
    Auth(gc_app, op).login()
    assert op.post(URL, json={"interval_minutes": 5}).status_code == 400  # no CSRF token
    assert op.post("/api/gestao-click/auto-import").status_code == 400


def test_the_scheduler_honours_the_saved_schedule(gc_app, op):
    s = Scheduler(gc_app, holder="teste", renew_seconds=3600)
    try:
        assert s.tick()  # leader; the default intervals are applied
        s._aps = None  # (no APScheduler threads needed to compare what is applied)
        assert s._applied["sync:gestao_click:sales"] == (6 * 3600.0, True)
        gc_app.extensions[scheduler_module.EXTENSION_KEY] = s
        body = op.post(URL, json={"interval_minutes": 15}).get_json()
        assert body["applied"] is True  # this process leads: applied at once
        for job_id in JOBS:
            assert s._applied[job_id] == (900.0, True)
        op.post(URL, json={"enabled": False})
        assert all(s._applied[job_id] == (900.0, False) for job_id in JOBS)
    finally:
        gc_app.extensions.pop(scheduler_module.EXTENSION_KEY, None)
        s.shutdown(wait=False)


def test_the_running_scheduler_reschedules_the_job(gc_app, op):
    s = Scheduler(gc_app, holder="teste-aps", renew_seconds=3600)
    gc_app.extensions[scheduler_module.EXTENSION_KEY] = s
    try:
        s.start()
        assert wait_for(lambda: s.is_leader and "sync:gestao_click:sales" in s._applied)
        op.post(URL, json={"interval_minutes": 45})
        job = s._aps.get_job("sync:gestao_click:sales")
        assert job is not None and job.trigger.interval == timedelta(minutes=45)
        op.post(URL, json={"enabled": False})
        assert s._aps.get_job("sync:gestao_click:sales") is None
    finally:
        gc_app.extensions.pop(scheduler_module.EXTENSION_KEY, None)
        s.shutdown(wait=False)


# ------------------------------------------------------------------------------ auto-import


def test_auto_import_without_credentials_is_409_like_sync(op):
    resp = op.post("/api/gestao-click/auto-import")
    assert resp.status_code == 409
    assert resp.get_json()["success"] is False


def test_auto_import_starts_every_resource(app_factory, start_emulator):  # noqa: F811
    emu: LiveEmulator = start_emulator(
        gc_sales=30,
        gc_clients=20,
        gc_products=10,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )
    app = app_factory(
        GESTAOCLICK_ACCESS_TOKEN=emu.config.gc_access_token,
        GESTAOCLICK_SECRET_TOKEN=emu.config.gc_secret_token,
        GESTAOCLICK_API_URL=emu.gestaoclick,
        GESTAOCLICK_THROTTLE_PER_SECOND=0,
        GESTAOCLICK_FULL_SYNC_DAYS=400,
        RETRY_DELAY=0.01,
    )
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        headers = {"X-CSRFToken": csrf_token(client, "/gestao-click")}
        resp = client.post("/api/gestao-click/auto-import", headers=headers)
        assert resp.status_code == 202, resp.get_data(as_text=True)
        body = resp.get_json()
        assert set(body["run_ids"]) == {"sales", "clients", "products"}
        assert sync.wait_idle(60)
        runs = sync.latest_runs()
        for resource in ("sales", "clients", "products"):
            assert runs[("gestao_click", resource)].status == "succeeded"
