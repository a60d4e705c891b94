"""Sync engine: runs, counts, progress, duplicates, cancel, failures and stale detection."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import JobSetting, SyncRun
from app.models.types import utcnow
from app.services import sync
from tests import sync_testkit
from tests.sync_testkit import SOURCE, TIMEOUT, wait_finished, wait_for

# Shared fixtures (bound here so pytest finds them in this module).
sync_app = sync_testkit.sync_app
syncers = sync_testkit.syncers


def test_run_sync_records_counts_and_progress(syncers):
    run = sync.run_sync(SOURCE, "counting")
    assert run.status == "succeeded"
    assert run.trigger == "manual"
    assert (run.progress_done, run.progress_total) == (5, 5)
    assert (run.created_count, run.unchanged_count, run.updated_count) == (3, 2, 0)
    assert run.started_at is not None and run.finished_at >= run.started_at
    assert run.error is None
    assert run.to_dict() == {
        "id": run.id,
        "source": "teste",
        "resource": "counting",
        "status": "succeeded",
        "progress": {"done": 5, "total": 5},
        "counts": {"created": 3, "updated": 0, "unchanged": 2, "failed": 0},
        "error": None,
    }


def test_incremental_runs_get_the_last_success_time(syncers):
    first = sync.run_sync(SOURCE, "counting")
    sync.run_sync(SOURCE, "counting")
    sync.run_sync(SOURCE, "counting", full=True)
    assert syncers.calls[0]["since"] is None
    assert syncers.calls[1]["since"] == first.started_at
    assert syncers.calls[2] == {"full": True, "since": None}


def test_a_failure_is_recorded_with_a_readable_message(syncers):
    run = sync.run_sync(SOURCE, "fails")
    assert run.status == "failed"
    assert run.error == "A API recusou o token (401)."
    assert run.created_count == 1 and run.progress_done == 1


def test_an_unexpected_error_is_recorded_without_trace_or_secret(syncers):
    run = sync.run_sync(SOURCE, "crashes")
    assert run.status == "failed"
    assert run.error.startswith("Erro inesperado (RuntimeError): boom")
    assert "Traceback" not in run.error
    assert "abcdef1234567890" not in run.error


def test_api_client_errors_are_shown_as_written(syncers):
    from app.clients.errors import AuthenticationError

    def refused(ctx, full):
        raise AuthenticationError(api="Hotmart", status=401)

    sync.register(SOURCE, "refused", refused, "Teste refused")
    try:
        run = sync.run_sync(SOURCE, "refused")
    finally:
        sync.unregister(SOURCE, "refused")
    assert run.status == "failed"
    assert run.error == str(AuthenticationError(api="Hotmart", status=401))
    assert "Erro inesperado" not in run.error


def test_background_run_finishes(syncers):
    run, created = sync.start_run(SOURCE, "counting")
    assert created and run.status == "queued"
    finished = wait_finished(run.id)
    assert finished.status == "succeeded"
    assert finished.progress_done == finished.progress_total == 5


def test_a_second_trigger_returns_the_running_run(syncers):
    first, created = sync.start_run(SOURCE, "gated")
    assert created
    assert syncers.started.wait(TIMEOUT)
    again, created_again = sync.start_run(SOURCE, "gated")
    assert (again.id, created_again) == (first.id, False)
    # The scheduler (synchronous path) does not start a duplicate either.
    scheduled = sync.run_sync(SOURCE, "gated", trigger="scheduled")
    assert scheduled.id == first.id and scheduled.is_active
    syncers.release.set()
    assert wait_finished(first.id).status == "succeeded"
    # Once finished, a new click starts a new run.
    later, created_later = sync.start_run(SOURCE, "counting")
    assert created_later and later.id != first.id
    wait_finished(later.id)
    assert db.session.scalar(select(func.count(SyncRun.id)).where(SyncRun.resource == "gated")) == 1


def test_two_racing_clicks_start_one_run(syncers, sync_app):
    barrier = threading.Barrier(4)
    results, errors = [], []

    def click():
        with sync_app.app_context():
            try:
                barrier.wait(TIMEOUT)
                run, created = sync.start_run(SOURCE, "gated")
                results.append((run.id, created))
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not errors
    assert len({run_id for run_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    syncers.release.set()
    wait_finished(results[0][0])
    assert db.session.scalar(select(func.count(SyncRun.id))) == 1


def test_cancel_a_running_run(syncers):
    run, _ = sync.start_run(SOURCE, "cancelable")
    assert syncers.started.wait(TIMEOUT)
    canceled = sync.cancel(run.id)
    assert canceled.cancel_requested
    finished = wait_finished(run.id)
    assert finished.status == "canceled"
    assert finished.finished_at is not None


def test_cancel_a_queued_run_never_starts_it(syncers):
    run = SyncRun(source=SOURCE, resource="counting", status="queued", heartbeat_at=utcnow())
    db.session.add(run)
    db.session.commit()
    assert sync.cancel(run.id).status == "canceled"
    sync._execute(run.id)  # the worker picking it up afterwards does nothing
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "canceled"
    assert syncers.calls == []


def test_cancel_unknown_or_finished(syncers):
    with pytest.raises(LookupError):
        sync.cancel(999_999)
    run = sync.run_sync(SOURCE, "counting")
    assert sync.cancel(run.id).status == "succeeded"


def test_stale_runs_are_marked_failed(syncers):
    now = utcnow()
    dead = SyncRun(
        source=SOURCE,
        resource="counting",
        status="running",
        started_at=now - timedelta(minutes=40),
        heartbeat_at=now - timedelta(minutes=30),
    )
    dead_queue = SyncRun(
        source=SOURCE,
        resource="fails",
        status="queued",
        created_at=now - timedelta(minutes=30),
        heartbeat_at=now - timedelta(minutes=30),
    )
    alive = SyncRun(
        source=SOURCE,
        resource="gated",
        status="running",
        started_at=now - timedelta(minutes=40),
        heartbeat_at=now - timedelta(seconds=5),
    )
    db.session.add_all([dead, dead_queue, alive])
    db.session.commit()
    assert sync.mark_stale_runs(timedelta(minutes=10)) == 2
    db.session.expire_all()
    assert dead.status == dead_queue.status == "failed"
    assert "interrompida: processo encerrado" in dead.error
    assert dead.finished_at is not None
    assert alive.status == "running"
    # The slot is free again: a new run of that resource can start.
    again = sync.run_sync(SOURCE, "counting")
    assert again.id != dead.id and again.status == "succeeded"


def test_heartbeat_moves_while_running(syncers):
    run, _ = sync.start_run(SOURCE, "stepped")
    assert syncers.started.wait(TIMEOUT)
    first = wait_for(lambda: _heartbeat(run.id))
    time.sleep(0.02)
    syncers.step()
    wait_for(lambda: (_heartbeat(run.id) or first) > first)
    for _ in range(syncers.items - 1):
        syncers.step()
    assert wait_finished(run.id).status == "succeeded"


def _heartbeat(run_id):
    db.session.rollback()
    return db.session.get(SyncRun, run_id).heartbeat_at


def test_uncommitted_work_does_not_block_progress_writes(sync_app):
    """SQLite: the syncer's own write lock must not make progress writes hang."""

    def holds_a_write(ctx, full):
        db.session.add(JobSetting(job_id="teste:pendente", enabled=True))
        db.session.flush()  # write lock held by this session until the syncer returns
        ctx.set_total(20)
        for _ in range(20):
            ctx.item("created")

    sync.register(SOURCE, "lock", holds_a_write, "Teste lock")
    try:
        # A hang would end in SQLite's busy timeout and a failed run (no wall-clock assert).
        run = sync.run_sync(SOURCE, "lock")
    finally:
        sync.unregister(SOURCE, "lock")
    assert run.status == "succeeded"
    assert (run.progress_done, run.progress_total, run.created_count) == (20, 20, 20)
    assert db.session.get(JobSetting, "teste:pendente") is not None


def test_not_configured_and_unknown(syncers):
    syncers.enabled = False
    with pytest.raises(sync.SyncNotConfigured):
        sync.start_run(SOURCE, "counting")
    with pytest.raises(sync.UnknownSyncer):
        sync.start_run(SOURCE, "nope")
    assert db.session.scalar(select(func.count(SyncRun.id))) == 0


def test_registry_names(syncers):
    sync.register("gestao-click", "teste", syncers.counting, "Teste GC")
    try:
        assert sync.get_syncer("gestao_click", "teste") is sync.get_syncer("gestao-click", "teste")
        assert sync.source_label("gestao_click") == "Gestão Click"
        assert "teste" in sync.sources()
    finally:
        sync.unregister("gestao-click", "teste")
    assert sync.get_syncer(SOURCE, "counting").job_id == "sync:teste:counting"
    assert sync.get_syncer("webhooks", "failed") is not None  # the built-in one


def test_webhook_replay_syncer_reprocesses_failed_events(send_webhook, webhook_app):
    from app.models import WebhookEvent

    assert send_webhook("hotmart", "purchase_approved").status_code == 200
    event = db.session.scalar(select(WebhookEvent))
    event.status, event.last_error = "failed", "simulated"
    db.session.commit()
    run = sync.run_sync("webhooks", "failed")
    assert run.status == "succeeded"
    assert (run.progress_total, run.progress_done) == (1, 1)
    assert run.updated_count + run.unchanged_count == 1
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).status in ("processed", "ignored")


def test_cli_sync_runs_every_resource_of_a_source(syncers, sync_app):
    syncers.unregister()
    sync.register(SOURCE, "counting", syncers.counting, "Teste counting")
    sync.register(SOURCE, "fails", syncers.fails, "Teste fails")
    result = sync_app.test_cli_runner().invoke(args=["sync", "teste"])
    assert result.exit_code == 1, result.output
    assert "teste/counting: succeeded" in result.output
    assert "criados 3" in result.output
    assert "A API recusou o token (401)." in result.output
    result = sync_app.test_cli_runner().invoke(args=["sync", "teste", "--resource", "counting"])
    assert result.exit_code == 0, result.output


def test_cli_sync_unknown_source_lists_the_available_ones(syncers, sync_app):
    result = sync_app.test_cli_runner().invoke(args=["sync", "hotmartt"])
    assert result.exit_code != 0
    assert "Nenhuma sincronização registrada para 'hotmartt'" in result.output
    assert "teste" in result.output and "webhooks" in result.output


# ------------------------------------------------------------------ failures and the cursor


class Partial:
    """A syncer that fails ``failures`` items on its next run and records where it read from."""

    def __init__(self):
        self.failures = 0
        self.since: list = []

    def __call__(self, ctx, full):
        self.since.append(ctx.last_success_at)
        ctx.set_total(3)
        for i in range(3):
            ctx.item("failed" if i < self.failures else "unchanged")
        self.failures = 0


@pytest.fixture
def partial(sync_app):
    syncer = Partial()
    sync.register(SOURCE, "partial", syncer, "Teste parcial")
    yield syncer
    sync.unregister(SOURCE, "partial")


def test_a_run_with_failed_records_never_advances_the_cursor(partial):
    first = sync.run_sync(SOURCE, "partial")
    partial.failures = 2
    with_failures = sync.run_sync(SOURCE, "partial")
    assert (with_failures.status, with_failures.failed_count) == ("succeeded", 2)
    after_failures = sync.run_sync(SOURCE, "partial")
    last = sync.run_sync(SOURCE, "partial")
    assert partial.since == [
        None,
        first.started_at,
        first.started_at,  # not past the run with failures: its records are read again
        after_failures.started_at,
    ]
    assert (with_failures.cursor_at, after_failures.cursor_at) == (first.started_at,) * 2
    assert last.cursor_at == after_failures.started_at


def test_failures_on_a_first_or_full_run_make_the_next_run_read_everything(partial):
    partial.failures = 1
    sync.run_sync(SOURCE, "partial")
    sync.run_sync(SOURCE, "partial")
    partial.failures = 1
    sync.run_sync(SOURCE, "partial", full=True)
    sync.run_sync(SOURCE, "partial")
    assert partial.since == [None, None, None, None]


def test_failed_and_canceled_runs_never_move_the_cursor(syncers):
    first = sync.run_sync(SOURCE, "counting")
    assert sync.run_sync(SOURCE, "fails").status == "failed"
    assert sync.incremental_cursor(SOURCE, "fails") is None
    assert sync.incremental_cursor(SOURCE, "counting") == first.started_at


def test_reprocess_reads_the_window_of_the_run_again(partial, sync_app):
    first = sync.run_sync(SOURCE, "partial")
    partial.failures = 3
    bad = sync.run_sync(SOURCE, "partial")
    assert bad.can_reprocess and not first.can_reprocess
    retry, created = sync.reprocess(bad.id, requested_by="ana@example.com", background=False)
    assert created and retry.retry_of_id == bad.id and retry.status == "succeeded"
    assert (retry.failed_count, retry.requested_by) == (0, "ana@example.com")
    assert partial.since[-1] == bad.cursor_at == first.started_at
    # the clean retry covered the window: the cursor moves on from it
    assert sync.incremental_cursor(SOURCE, "partial") == retry.started_at
    with pytest.raises(sync.SyncError, match="não tem falhas"):
        sync.reprocess(first.id)
    with pytest.raises(LookupError):
        sync.reprocess(999_999)


def test_reprocess_in_the_background_and_while_a_run_is_going(syncers):
    syncers.release.clear()
    bad = sync.run_sync(SOURCE, "fails")
    assert bad.can_reprocess  # failed as a whole: its window can be read again
    retry, created = sync.reprocess(bad.id)
    assert created
    assert wait_finished(retry.id).retry_of_id == bad.id
    sync.register(SOURCE, "fails", syncers.gated, "Teste fails")  # now slow and clean
    going, _ = sync.start_run(SOURCE, "fails")
    assert syncers.started.wait(TIMEOUT)
    again, created = sync.reprocess(bad.id)
    assert (again.id, created) == (going.id, False)
    syncers.release.set()
    assert wait_finished(going.id).status == "succeeded"


def test_cli_reprocess(partial, sync_app):
    partial.failures = 1
    runner = sync_app.test_cli_runner()
    result = runner.invoke(args=["sync", "teste", "--resource", "partial"])
    bad = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert bad.failed_count == 1
    assert f"flask sync teste --reprocess {bad.id}" in result.output
    result = runner.invoke(args=["sync", "teste", "--reprocess", str(bad.id)])
    assert result.exit_code == 0, result.output
    assert f"reprocessa #{bad.id}" in result.output and "falhas 0" in result.output
    missing = runner.invoke(args=["sync", "kommo", "--reprocess", str(bad.id)])
    assert missing.exit_code != 0 and "não encontrada" in missing.output
