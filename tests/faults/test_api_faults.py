"""The platform APIs failing in the middle of a sync: 5xx that outlast the retries, and
timeouts. Each run ends failed with a readable message, what it stored is whole (every row it
counted is there and identical to the API, nothing uncounted), the incremental cursor does not
move, and the next run, with the API healthy again, completes the set exactly once.

Faults come from the emulator's fault rules (the ``/_emulator/faults`` API); "after N good
pages" is done by adding the rule from inside the live emulator when the N+1-th list request
arrives, so the failure lands mid-run deterministically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, GcSale, KommoContact, OutboxEmail, Sale, SyncRun
from app.services import sync
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401

NOW = datetime.now(UTC).replace(microsecond=0)
# Read timeout of the app's clients, seconds. Generous so that a loaded machine never times
# out a healthy request; the emulator's "timeout" fault hangs until the test releases it.
CLIENT_TIMEOUT = 1.5


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@dataclass
class Case:
    emulator: dict
    config: Callable[[LiveEmulator], dict]
    source: str
    resource: str
    path: str  # list endpoint the fault hits
    good_requests: int  # list requests answered normally before the fault starts
    model: type


CASES = {
    "hotmart-sales": Case(
        emulator={"sales": 120, "hotmart_rate_limit": 0},
        config=lambda emu: {
            "HOTMART_CLIENT_ID": emu.sandbox_credentials[0],
            "HOTMART_CLIENT_SECRET": emu.sandbox_credentials[1],
            "HOTMART_API_URL": emu.hotmart_sandbox,
            "HOTMART_AUTH_URL": emu.hotmart_auth,
            "HOTMART_ENV": "sandbox",
            "HOTMART_THROTTLE_PER_SECOND": 0,
            "HOTMART_TIMEOUT": CLIENT_TIMEOUT,
            "HOTMART_SYNC_LOOKBACK_DAYS": 400,
            "HOTMART_SYNC_WINDOW_DAYS": 60,
            "HOTMART_PAGE_SIZE": 20,
        },
        source="hotmart",
        resource="sales",
        path="/payments/api/v1/sales/history",
        good_requests=5,
        model=Sale,
    ),
    "kommo-contacts": Case(
        emulator={"contacts": 120, "leads": 10, "kommo_rate_limit": 0},
        config=lambda emu: {
            "KOMMO_JWT_TOKEN": emu.config.kommo_token(),
            "KOMMO_API_URL": emu.kommo,
            "KOMMO_TIMEOUT": str(CLIENT_TIMEOUT),
            "KOMMO_THROTTLE_PER_SECOND": 0,
            "KOMMO_PAGE_SIZE": 25,
        },
        source="kommo",
        resource="contacts",
        path="/api/v4/contacts",
        good_requests=2,
        model=KommoContact,
    ),
    "gestaoclick-sales": Case(
        emulator={"gc_sales": 120, "gc_page_size": 15, "gc_rate_limit": 0},
        config=lambda emu: {
            "GESTAOCLICK_ACCESS_TOKEN": emu.config.gc_access_token,
            "GESTAOCLICK_SECRET_TOKEN": emu.config.gc_secret_token,
            "GESTAOCLICK_API_URL": emu.gestaoclick,
            "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
            "GESTAOCLICK_TIMEOUT": CLIENT_TIMEOUT,
            "GESTAOCLICK_FULL_SYNC_DAYS": 400,
            "GESTAOCLICK_SYNC_DAYS": 400,  # the first, incremental run reads everything too
        },
        source="gestao_click",
        resource="sales",
        path="/vendas",
        good_requests=4,
        model=GcSale,
    ),
}

FAULTS = {
    "5xx": ({"status": 503}, "erro interno"),
    "timeout": ({"timeout": True}, "Tempo limite esgotado"),
}


@contextmanager
def _released(event: threading.Event):
    try:
        yield
    finally:
        event.set()


def fail_after(emu: LiveEmulator, path: str, good: int, rule: dict) -> None:
    """Add ``rule`` (a fault API rule) for ``path`` when its ``good + 1``-th request arrives."""
    runtime = emu.app.extensions["emulator"].runtime
    original = runtime.decide_fault
    seen = [0]

    def decide(api: str, request_path: str):
        if path in request_path:
            seen[0] += 1
            if seen[0] == good + 1:
                runtime.add_fault({"path": path, **rule})
        return original(api, request_path)

    runtime.decide_fault = decide


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_api_failing_mid_sync_fails_the_run_cleanly_and_the_next_run_completes(
    app_factory,
    start_emulator,  # noqa: F811
    case_id,
    fault,
):
    case = CASES[case_id]
    rule, message = FAULTS[fault]
    hung = threading.Event()  # set: the emulator's hanging requests return at once
    emu = start_emulator(
        now=NOW, fault_timeout_seconds=60.0, sleep=lambda s: hung.wait(s), **case.emulator
    )
    app = app_factory(**case.config(emu), RETRY_ATTEMPTS=1, RETRY_DELAY=0.01)
    with app.app_context(), _released(hung):
        fail_after(emu, case.path, case.good_requests, rule)
        first = sync.run_sync(case.source, case.resource)
        assert first.status == "failed", (first.status, first.error)
        assert message in first.error, first.error
        assert "Traceback" not in first.error and len(first.error) < 500
        stored_by_first = _count(case.model)
        # whole pages only: every counted row is there, nothing uncounted, some but not all
        assert stored_by_first == first.created_count > 0
        assert first.failed_count == 0
        assert sync.last_success(case.source, case.resource) is None  # cursor not advanced
        assert sync.active_run(case.source, case.resource) is None

        assert requests.delete(f"{emu.url}/_emulator/faults", timeout=5).status_code < 300
        hung.set()
        second = sync.run_sync(case.source, case.resource)
        assert second.status == "succeeded", second.error
        assert second.failed_count == 0
        # what the failed run wrote was identical to the API: found again, unchanged
        assert (second.unchanged_count, second.updated_count) == (stored_by_first, 0)
        total = _count(case.model)
        assert total == second.created_count + stored_by_first > stored_by_first
        assert sync.last_success(case.source, case.resource).id == second.id

        third = sync.run_sync(case.source, case.resource, full=True)
        assert (third.status, third.created_count, third.updated_count) == ("succeeded", 0, 0)
        assert third.unchanged_count == total == _count(case.model)
        # a sync never issues links or e-mails, whatever happened to it
        assert _count(ActivationLink) == 0 and _count(OutboxEmail) == 0
        runs = db.session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [r.status for r in runs] == ["failed", "succeeded", "succeeded"]
        sync.wait_idle(10)
