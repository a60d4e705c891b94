"""The webhook path with processing in the background worker (WEBHOOK_PROCESS_INLINE=False):
a burst answered at once and processed exactly once, retries with back-off, a worker killed
mid-way re-claimed, two ``flask worker`` processes sharing one queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from app.models.types import utcnow
from app.services import sales, webhooks
from tests.conftest import TEST_KEY, WEBHOOK_SECRETS, WebhookSender, load_fixture
from tests.faults.faultkit import ROOT, wait_until


def approval(i: int, prefix: str = "BG") -> dict:
    body = load_fixture("kiwify", "order_approved")
    body["order_id"] = f"{prefix}-{i:04d}"
    body["Customer"]["email"] = f"{prefix.lower()}{i}@example.com"
    return body


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def background(app_factory, smtp_server):
    """Background processing with no worker threads: the test drains the queue itself."""
    app = app_factory(
        **WEBHOOK_SECRETS,
        **smtp_server.config(),
        WEBHOOK_PROCESS_INLINE=False,
        WORKER_THREADS=0,
    )
    with app.app_context():
        yield app


def test_stored_and_answered_before_processing_then_drained(background, drain, smtp_server):
    sender = WebhookSender(background.test_client())
    assert sender("kiwify", approval(1)).get_json() == {"status": "accepted"}
    row = db.session.scalar(select(WebhookEvent))
    assert row.status == "received" and count(Sale) == 0  # durable, not processed yet
    assert sender("kiwify", approval(1)).get_json() == {"status": "duplicate"}
    assert drain() >= 1  # the event, and its e-mail
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    assert (row.status, row.attempts) == ("processed", 1)
    assert count(Sale) == 1 and count(ActivationLink) == 1
    assert [str(m["To"]) for m in smtp_server.messages] == ["bg1@example.com"]
    assert drain() == 0


def test_informational_events_are_answered_ignored_as_the_inline_path_does(background, drain):
    sender = WebhookSender(background.test_client())
    assert sender("kiwify", "pix_created").get_json() == {"status": "ignored"}
    assert sender("eduzz", "ping").get_json() == {"status": "ignored"}
    assert sender("kiwify", approval(7)).get_json() == {"status": "accepted"}
    drain()
    db.session.rollback()
    statuses = dict(db.session.execute(select(WebhookEvent.event_type, WebhookEvent.status)).all())
    assert statuses["pix_created"] == "ignored" and statuses["order_approved"] == "processed"


def test_a_redelivery_of_an_event_whose_retries_ran_out_is_processed(background, drain):
    sender = WebhookSender(background.test_client())
    body = approval(8, "EX")
    assert sender("kiwify", body).get_json() == {"status": "accepted"}
    # it failed every automatic attempt (a bug, since fixed)
    db.session.execute(
        db.update(WebhookEvent).values(status="failed", attempts=webhooks.MAX_ATTEMPTS)
    )
    db.session.commit()
    # the platform (or the seller, from its panel) delivers it again: 2xx, and it is processed
    assert sender("kiwify", body).get_json() == {"status": "accepted"}
    drain()
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    assert row.status == "processed" and count(Sale) == 1


def test_a_failure_is_retried_after_its_back_off(background, drain, monkeypatch):
    real = sales.apply_event
    calls = []

    def flaky(event, **kwargs):
        calls.append(event.transaction_id)
        if len(calls) == 1:
            raise RuntimeError("falha passageira")
        return real(event, **kwargs)

    monkeypatch.setattr(sales, "apply_event", flaky)
    WebhookSender(background.test_client())("kiwify", approval(2))
    drain()
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    assert row.status == "failed" and row.attempts == 1 and "falha passageira" in row.last_error
    assert row.next_attempt_at > utcnow()
    drain()
    assert len(calls) == 1  # not due before its back-off
    with time_machine.travel(utcnow() + webhooks.backoff(1) + timedelta(seconds=1)):
        drain()
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    assert (row.status, row.attempts, len(calls)) == ("processed", 2, 2)
    assert count(Sale) == 1


def test_a_burst_is_processed_by_the_worker_threads_exactly_once(app_factory, smtp_server):
    app = app_factory(
        **WEBHOOK_SECRETS,
        **smtp_server.config(),
        SEND_MAIL_IN_BACKGROUND=True,
        WEBHOOK_PROCESS_INLINE=False,
        WORKER_THREADS=2,
        WORKER_POLL_SECONDS=0.2,
    )
    burst = 30
    with app.app_context():
        sender = WebhookSender(app.test_client())
        answers = [sender("kiwify", approval(i, "BURST")).get_json() for i in range(burst)]
        assert answers == [{"status": "accepted"}] * burst
        wait_until(
            lambda: count(WebhookEvent, WebhookEvent.status == "processed") == burst,
            what="the burst processed in the background",
        )
        wait_until(
            lambda: count(OutboxEmail, OutboxEmail.status == "sent") == burst,
            what="every e-mail sent and recorded",
        )
        db.session.rollback()
        assert {r.attempts for r in db.session.scalars(select(WebhookEvent))} == {1}
        assert count(Sale) == burst and count(ActivationLink) == burst
        assert count(OutboxEmail, OutboxEmail.status == "sent") == burst
        received = Counter(str(m["To"]) for m in smtp_server.messages)
        assert set(received.values()) == {1}


def _env(database_url: str) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "worker-test-secret-key",
        "SETTINGS_ENCRYPTION_KEYS": TEST_KEY,
        "APP_URL": "http://localhost",
        "LOG_LEVEL": "WARNING",
        "WORKER_POLL_SECONDS": "0.1",
        **WEBHOOK_SECRETS,
    }


HANGS_MID_WAY = textwrap.dedent(
    """
    import sys, time
    from app import create_app
    from app.services import sales, webhooks
    real = sales.apply_event

    def hang(event, **kwargs):
        real(event, **kwargs)  # the sale, link and e-mail written, not committed
        open(sys.argv[1], "w").write("mid-way")
        time.sleep(600)

    sales.apply_event = hang
    app = create_app()
    with app.app_context():
        webhooks.process_due(grace=webhooks.timedelta(0))
    """
)


@pytest.mark.process
def test_a_worker_killed_mid_way_leaves_the_event_to_the_claim_after_its_lease(
    background, drain, tmp_path
):
    WebhookSender(background.test_client())("kiwify", approval(3))
    marker = tmp_path / "mid-way"
    script = tmp_path / "hang.py"
    script.write_text(HANGS_MID_WAY)
    env = _env(background.config["SQLALCHEMY_DATABASE_URI"])
    child = subprocess.Popen(
        [sys.executable, str(script), str(marker)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}
    )
    try:
        wait_until(lambda: marker.exists() or child.poll() is not None, what="worker mid-way")
        assert child.poll() is None, "the worker exited before reaching the middle"
        if db.engine.dialect.name == "postgresql":  # (SQLite: would wait out its write lock)
            assert drain() == 0  # locked by the hung worker: skipped, nobody else takes it
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert count(Sale) == 0  # its work died with it
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    # the killed attempt counts (a poison event runs out of attempts), under a lease
    assert (row.status, row.attempts) == ("received", 1) and row.next_attempt_at > utcnow()
    assert drain() == 0  # not before the lease ends
    with time_machine.travel(utcnow() + webhooks.PROCESS_LEASE + timedelta(seconds=1)):
        drain()
    db.session.rollback()
    row = db.session.scalar(select(WebhookEvent))
    assert (row.status, row.attempts) == ("processed", 2)
    assert count(Sale) == 1 and count(ActivationLink) == 1 and count(OutboxEmail) == 1


@pytest.mark.process
def test_two_worker_processes_share_the_queue_and_process_each_event_once(background):
    sender = WebhookSender(background.test_client())
    events = 40
    for i in range(events):
        assert sender("kiwify", approval(i, "TWO")).status_code == 200
    assert count(WebhookEvent, WebhookEvent.status == "received") == events
    env = _env(background.config["SQLALCHEMY_DATABASE_URI"])
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "2"]
    workers = [
        subprocess.Popen(flask, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        wait_until(
            lambda: count(WebhookEvent, WebhookEvent.status == "processed") == events,
            what="both workers through the queue",
        )
    finally:
        for worker in workers:  # up and serving (its SIGTERM handler installed)
            assert "Worker em execução" in worker.stdout.readline()
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(timeout=30) == 0
            worker.stdout.close()
    db.session.rollback()
    assert {r.attempts for r in db.session.scalars(select(WebhookEvent))} == {1}
    assert count(Sale) == events and count(ActivationLink) == events
    assert count(OutboxEmail) == events


class _ProcessKilled(BaseException):
    """Stands for what kills a worker mid-way (OOM, segfault, SIGKILL): nothing catches it and
    the transaction it was in never commits."""


def test_a_poison_event_that_kills_processing_ends_failed_and_stays_replayable(
    background, monkeypatch, smtp_server
):
    from tests.conftest import Auth, csrf_token

    real = sales.apply_event
    calls = []

    def poison(event, **kwargs):
        calls.append(event.transaction_id)
        raise _ProcessKilled

    monkeypatch.setattr(sales, "apply_event", poison)
    WebhookSender(background.test_client())("kiwify", approval(7, "POISON"))
    event_id = db.session.scalar(select(WebhookEvent.id))
    # the hand-over died with its process; sweeps then claim it, each attempt counted before
    # the processing that dies, and due again only once its lease is over
    step = webhooks.HANDOFF_GRACE + webhooks.PROCESS_LEASE + timedelta(seconds=1)
    start = utcnow()
    for sweep in range(1, webhooks.MAX_ATTEMPTS + 3):
        with time_machine.travel(start + step * sweep, tick=False):
            try:
                webhooks.process_batch(grace=webhooks.HANDOFF_GRACE)
            except _ProcessKilled:
                db.session.rollback()
            assert webhooks.process_batch(grace=webhooks.HANDOFF_GRACE) == []  # under lease
    db.session.rollback()
    row = db.session.get(WebhookEvent, event_id)
    assert len(calls) == webhooks.MAX_ATTEMPTS  # never once more
    assert (row.status, row.attempts) == ("failed", webhooks.MAX_ATTEMPTS)
    assert "interrompido" in row.last_error
    assert event_id not in webhooks.replayable_ids(backoff_over=False)  # no automatic retries
    assert count(Sale) == 0

    # visible on /webhooks, and the operator's button processes it once the cause is fixed
    monkeypatch.setattr(sales, "apply_event", real)
    client = background.test_client()
    Auth(background, client).operator()
    page = client.get("/webhooks?status=failed").get_data(as_text=True)
    assert f"#{event_id}" in page or f"/webhooks/{event_id}" in page
    token = csrf_token(client, f"/webhooks/{event_id}")
    client.post(f"/webhooks/{event_id}/reprocessar", data={"csrf_token": token})
    db.session.rollback()
    assert db.session.get(WebhookEvent, event_id).status == "processed"
    assert count(Sale) == 1


def test_a_batch_keeps_the_changes_it_did_not_flush_itself(background, drain):
    """A subscription cancelled with paid time left keeps its ``access_until`` when the
    worker processes it in a batch (the batch's direct UPDATE of the events used to drop the
    session's unflushed changes)."""
    from app.models import Access
    from app.services import accounts

    accounts.create_user("carla@example.com", "senha-da-carla-1", name="Carla")
    db.session.commit()
    sender = WebhookSender(background.test_client())
    assert sender("hotmart", "purchase_approved_renewal").status_code == 200
    drain()
    cancellation = load_fixture("hotmart", "subscription_cancellation")
    next_charge = utcnow() + timedelta(days=20)
    cancellation["data"]["date_next_charge"] = int(next_charge.timestamp() * 1000)
    assert sender("hotmart", cancellation).get_json() == {"status": "accepted"}
    drain()
    db.session.rollback()
    access = db.session.scalar(select(Access))
    assert access.status == "active"
    assert access.access_until is not None
    assert abs((access.access_until - next_charge).total_seconds()) < 1
