"""Test-only syncers and fixtures for the sync engine, the scheduler and the sync pages."""

from __future__ import annotations

import threading
import time

import pytest

from app.extensions import db
from app.models import SyncRun
from app.services import sync

SOURCE = "teste"
TIMEOUT = 10


class TestSyncers:
    """Syncers under the ``teste`` source whose pace the test controls."""

    __test__ = False

    def __init__(self, items: int = 5):
        self.items = items
        self.started = threading.Event()
        self.release = threading.Event()
        self.steps = threading.Semaphore(0)
        self.enabled = True
        self.calls: list[dict] = []

    def counting(self, ctx: sync.SyncContext, full: bool) -> None:
        self.calls.append({"full": full, "since": ctx.last_success_at})
        ctx.set_total(self.items)
        for i in range(self.items):
            ctx.item("created" if i % 2 == 0 else "unchanged")

    def stepped(self, ctx: sync.SyncContext, full: bool) -> None:
        """One item each time the test calls ``step()``."""
        ctx.set_total(self.items)
        self.started.set()
        for _ in range(self.items):
            if not self.steps.acquire(timeout=TIMEOUT):
                raise sync.SyncError("teste: passo não liberado a tempo")
            ctx.item("created")

    def step(self) -> None:
        self.steps.release()

    def gated(self, ctx: sync.SyncContext, full: bool) -> None:
        self.started.set()
        if not self.release.wait(TIMEOUT):
            raise sync.SyncError("teste: não liberado a tempo")
        ctx.item("updated")

    def waits_for_cancel(self, ctx: sync.SyncContext, full: bool) -> None:
        self.started.set()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                ctx.check_cancel()
            except Exception:  # a careless syncer: must not swallow the cancellation
                pass
            ctx.advance()
            time.sleep(0.01)
        raise sync.SyncError("teste: cancelamento não chegou")

    def fails(self, ctx: sync.SyncContext, full: bool) -> None:
        ctx.set_total(3)
        ctx.item("created")
        raise sync.SyncError("A API recusou o token (401).")

    def crashes(self, ctx: sync.SyncContext, full: bool) -> None:
        raise RuntimeError("boom token=abcdef1234567890")

    def register(self) -> None:
        for resource, func in (
            ("counting", self.counting),
            ("stepped", self.stepped),
            ("gated", self.gated),
            ("cancelable", self.waits_for_cancel),
            ("fails", self.fails),
            ("crashes", self.crashes),
        ):
            sync.register(
                SOURCE,
                resource,
                func,
                f"Teste {resource}",
                interval=3600 if resource == "counting" else None,
                enabled=lambda: self.enabled,
                source_label="Teste",
            )

    def unregister(self) -> None:
        for syncer in sync.syncers(SOURCE):
            sync.unregister(syncer.source, syncer.resource)


@pytest.fixture
def sync_app(app_factory):
    app = app_factory(SYNC_PROGRESS_INTERVAL=0.0)
    with app.app_context():
        yield app


@pytest.fixture
def syncers(sync_app):
    kit = TestSyncers()
    kit.register()
    yield kit
    kit.release.set()
    for _ in range(kit.items):
        kit.step()
    assert sync.wait_idle(TIMEOUT), "background sync runs still going at teardown"
    kit.unregister()


@pytest.fixture
def client(sync_app):
    return sync_app.test_client()


@pytest.fixture
def operator(sync_app, client):
    """A signed-in operator; the headers carry the CSRF token for the JSON API."""
    from tests.conftest import Auth, csrf_token

    Auth(sync_app, client).operator()
    return {"X-CSRFToken": csrf_token(client, "/sincronizacoes")}


def run_row(**values) -> SyncRun:
    """A committed ``SyncRun`` of the kit's source (succeeded unless told otherwise)."""
    defaults = {"source": SOURCE, "resource": "counting", "status": "succeeded"}
    run = SyncRun(**{**defaults, **values})
    db.session.add(run)
    db.session.commit()
    return run


def wait_for(predicate, timeout: float = TIMEOUT, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def run_status(run_id: int) -> str:
    db.session.rollback()  # a fresh snapshot
    return db.session.get(SyncRun, run_id).status


def wait_finished(run_id: int) -> SyncRun:
    wait_for(lambda: run_status(run_id) not in ("queued", "running"))
    db.session.expire_all()
    return db.session.get(SyncRun, run_id)
