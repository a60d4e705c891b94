"""Scheduler: one leader through the database lease, takeover, recorded failures, live settings."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
import time_machine

from app import scheduler as scheduler_module
from app.extensions import db
from app.models import JobSetting, SchedulerLease, SyncRun
from app.models.types import utcnow
from app.scheduler import Lease, Scheduler
from app.services import jobs as jobs_service
from app.services import sync
from tests import sync_testkit
from tests.sync_testkit import SOURCE, wait_for

# Shared fixtures (bound here so pytest finds them in this module).
sync_app = sync_testkit.sync_app
syncers = sync_testkit.syncers


class Recorder:
    """Jobs that record which scheduler ran them (and one that always fails)."""

    def __init__(self):
        self.runs: list[tuple[str, float]] = []
        self.failures = 0
        self.lock = threading.Lock()

    def job(self, holder_box: dict) -> jobs_service.Job:
        def run():
            with self.lock:
                self.runs.append((holder_box["holder"], time.monotonic()))
            return "ok"

        return jobs_service.Job("test_count", "Contar", run, 0.05)

    def failing(self) -> jobs_service.Job:
        def run():
            self.failures += 1
            raise RuntimeError("falha proposital")

        return jobs_service.Job("test_fail", "Falhar", run, 0.05)


@pytest.fixture
def schedulers(app):
    created: list[Scheduler] = []

    def make(holder: str, jobs=None, lease_seconds=30.0, renew_seconds=30.0) -> Scheduler:
        s = Scheduler(
            app,
            holder=holder,
            lease_seconds=lease_seconds,
            renew_seconds=renew_seconds,
            jobs=jobs if jobs is not None else [],
        )
        created.append(s)
        return s

    yield make
    for s in created:
        s.shutdown(release=False)


def _fresh(model, key):
    db.session.rollback()
    return db.session.get(model, key)


def test_lease_single_holder_then_takeover_after_expiry(app):
    a = Lease("scheduler", "host-a:1", timedelta(seconds=45))
    b = Lease("scheduler", "host-b:2", timedelta(seconds=45))
    assert a.acquire() is True
    assert b.acquire() is False
    assert a.acquire() is True  # renewal
    assert _fresh(SchedulerLease, "scheduler").holder == "host-a:1"
    with time_machine.travel(utcnow() + timedelta(seconds=46), tick=False):
        assert not a.valid()
        assert b.acquire() is True
        assert a.acquire() is False
    assert _fresh(SchedulerLease, "scheduler").holder == "host-b:2"
    b.release()
    assert a.acquire() is True  # released: no need to wait for the expiry


def test_only_the_leader_runs_jobs_and_the_other_takes_over(app, schedulers):
    recorder = Recorder()
    box_a, box_b = {"holder": "a"}, {"holder": "b"}
    a = schedulers("a", jobs=[recorder.job(box_a)])
    b = schedulers("b", jobs=[recorder.job(box_b)])
    assert a.tick() is True
    assert b.tick() is False
    assert (a.is_leader, b.is_leader) == (True, False)
    assert b.run_job("test_count") is None  # not the leader: nothing runs
    assert a.run_job("test_count") == "ok"
    assert [h for h, _ in recorder.runs] == ["a"]
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        assert b.tick() is True
        assert a.run_job("test_count") is None  # its lease expired
        assert a.tick() is False
        assert not a.is_leader
        assert b.run_job("test_count") == "ok"
    assert [h for h, _ in recorder.runs] == ["a", "b"]
    assert _fresh(JobSetting, "test_count").last_status == "ok"


def test_two_running_schedulers_one_leader_and_takeover_when_it_dies(app, schedulers):
    recorder = Recorder()
    box_a, box_b = {"holder": "a"}, {"holder": "b"}
    # A lease well above the renew interval: a loaded machine may pause a renewal thread.
    a = schedulers("a", jobs=[recorder.job(box_a)], lease_seconds=3.0, renew_seconds=0.1)
    b = schedulers("b", jobs=[recorder.job(box_b)], lease_seconds=3.0, renew_seconds=0.1)
    a.start()
    wait_for(lambda: a.is_leader)
    b.start()
    wait_for(lambda: len(recorder.runs) >= 3)
    time.sleep(0.3)  # b had several chances to grab the lease
    assert a.is_leader and not b.is_leader
    assert {h for h, _ in recorder.runs} == {"a"}
    a.shutdown(release=False)  # the leader's process dies without releasing the lease
    died_at = time.monotonic()
    wait_for(lambda: b.is_leader, timeout=20)
    wait_for(lambda: any(h == "b" for h, _ in recorder.runs), timeout=20)
    first_b = min(t for h, t in recorder.runs if h == "b")
    assert first_b - died_at >= 0.5  # only after the lease expired
    assert all(t <= first_b for h, t in recorder.runs if h == "a")


def test_a_failing_job_is_recorded_and_the_scheduler_keeps_going(app, schedulers):
    recorder = Recorder()
    s = schedulers(
        "solo",
        jobs=[recorder.failing(), recorder.job({"holder": "solo"})],
        renew_seconds=0.1,
    )
    s.start()
    wait_for(lambda: recorder.failures >= 3 and len(recorder.runs) >= 3)
    assert s.running
    failed = _fresh(JobSetting, "test_fail")
    assert failed.last_status == "error"
    assert "falha proposital" in failed.last_message
    assert failed.last_run_at is not None
    assert _fresh(JobSetting, "test_count").last_status == "ok"


def test_becoming_leader_marks_stale_runs(app, schedulers):
    run = SyncRun(
        source="teste",
        resource="x",
        status="running",
        heartbeat_at=utcnow() - timedelta(hours=1),
    )
    db.session.add(run)
    db.session.commit()
    assert schedulers("a").tick()
    assert _fresh(SyncRun, run.id).status == "failed"


def test_saved_intervals_apply_without_restart(app, schedulers):
    recorder = Recorder()
    job = jobs_service.Job("test_count", "Contar", recorder.job({"holder": "a"}).func, 600)
    s = schedulers("a", jobs=[job])
    s.start()
    recorded = wait_for(lambda: getattr(_fresh(JobSetting, "test_count"), "next_run_at", None))
    first_next = s.next_run_time("test_count")
    assert recorded == first_next
    assert jobs_service.save(job, 120, True, by="op@example.com")
    db.session.commit()
    s.reload()
    aps_job = s._aps.get_job("test_count")
    assert aps_job.trigger.interval == timedelta(seconds=120)
    assert _fresh(JobSetting, "test_count").next_run_at == aps_job.next_run_time
    assert aps_job.next_run_time < first_next
    jobs_service.save(job, 120, False)
    db.session.commit()
    s.reload()
    assert s._aps.get_job("test_count") is None
    # Back to the default: the row stores None (so a new default in code applies).
    jobs_service.save(job, 600, True)
    db.session.commit()
    assert _fresh(JobSetting, "test_count").interval_seconds is None
    s.reload()
    assert s._aps.get_job("test_count").trigger.interval == timedelta(seconds=600)


def test_catalogue_has_maintenance_and_sync_jobs(syncers):
    ids = {job.id for job in jobs_service.catalogue()}
    assert {"outbox_send", "webhook_replay", "activation_cleanup", "stale_sync_runs"} <= ids
    assert "sync:teste:counting" in ids  # registered with a default interval
    assert "sync:teste:gated" not in ids  # manual only
    assert "sync:webhooks:failed" not in ids


def test_scheduled_sync_job_runs_or_skips_when_not_configured(syncers, sync_app):
    job = jobs_service.find("sync:teste:counting")
    assert jobs_service.execute(job) == "ok"
    run = db.session.scalar(db.select(SyncRun).where(SyncRun.source == SOURCE))
    assert (run.trigger, run.status) == ("scheduled", "succeeded")
    syncers.enabled = False
    assert jobs_service.execute(job) == "skipped"
    setting = _fresh(JobSetting, job.id)
    assert setting.last_status == "skipped"
    assert "Credenciais não configuradas" in setting.last_message
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 1


def test_failed_sync_job_is_recorded_as_error(syncers, sync_app):
    sync.register(SOURCE, "fails", syncers.fails, "Teste fails", interval=600)
    job = jobs_service.find("sync:teste:fails")
    assert jobs_service.execute(job) == "error"
    assert "A API recusou o token" in _fresh(JobSetting, job.id).last_message


def test_maintenance_jobs_run(app):
    for job_id in ("activation_cleanup", "webhook_replay", "stale_sync_runs"):
        assert jobs_service.execute(jobs_service.find(job_id)) == "ok", job_id
    assert jobs_service.execute(jobs_service.find("outbox_send")) == "skipped"  # no SMTP


def test_init_app_is_a_no_op_when_disabled(app, client):
    client.get("/healthz")
    assert scheduler_module.current(app) is None


def test_init_app_starts_on_the_first_request_when_enabled(app_factory):
    app = app_factory(SCHEDULER_ENABLED=True)
    with app.app_context():
        assert scheduler_module.current(app) is None  # not at import/CLI time
        app.test_client().get("/healthz")
        running = scheduler_module.current(app)
        try:
            assert running is not None and running.running
            wait_for(lambda: running.is_leader)
            app.test_client().get("/healthz")
            assert scheduler_module.current(app) is running  # once per process
        finally:
            running.shutdown()
        assert db.session.get(SchedulerLease, "scheduler") is None  # released


def test_scheduler_run_command_stops_cleanly_on_sigterm(app):
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    finally:
        timer.cancel()
    assert result.exit_code == 0, result.output
    assert "Agendador em execução" in result.output
    assert "Encerrando o agendador" in result.output
    assert _fresh(SchedulerLease, "scheduler") is None


# ------------------------------------------------------------------------------ the settings row


def _inserted_meanwhile(monkeypatch, job_id: str, **row) -> None:
    """The next lookup of ``job_id``'s row misses it, and the other writer (the scheduler's
    ``record``, or the operator's save in another process) commits it right after: the two
    writers' race, made deterministic."""
    from sqlalchemy import insert
    from sqlalchemy.orm import scoped_session

    real_get = scoped_session.get
    pending = [True]

    def get(self, entity, ident, *args, **kwargs):
        if entity is JobSetting and ident == job_id and pending:
            pending.clear()
            found = real_get(self, entity, ident, *args, **kwargs)
            with db.engine.begin() as conn:  # another connection, committed
                conn.execute(insert(JobSetting.__table__).values(job_id=job_id, **row))
            return found  # as it was before the other writer committed: missing
        return real_get(self, entity, ident, *args, **kwargs)

    monkeypatch.setattr(scoped_session, "get", get)


def test_saving_a_job_the_scheduler_has_just_recorded_updates_its_row(app, monkeypatch):
    job = jobs_service.find("automations_send")
    _inserted_meanwhile(monkeypatch, job.id, enabled=True, last_status="ok")
    assert jobs_service.save(job, 300, False, by="op@example.com")
    db.session.commit()  # a plain INSERT here was the UNIQUE job_id error (a 500)
    row = _fresh(JobSetting, job.id)
    assert (row.interval_seconds, row.enabled, row.updated_by) == (300, False, "op@example.com")
    assert row.last_status == "ok"  # the scheduler's part is kept


def test_recording_a_job_the_operator_has_just_saved_keeps_the_choice(app, monkeypatch):
    _inserted_meanwhile(monkeypatch, "outbox_send", enabled=False, interval_seconds=600)
    jobs_service.record("outbox_send", last_status="skipped", last_message="sem SMTP")
    row = _fresh(JobSetting, "outbox_send")
    assert (row.last_status, row.last_message) == ("skipped", "sem SMTP")
    assert (row.enabled, row.interval_seconds) == (False, 600)


def test_the_sender_job_names_every_destination():
    label = jobs_service.find("automations_send").label
    assert label == "Envio ao Kommo, ao Gestão Click e ao Telegram"
