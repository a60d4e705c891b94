"""Records that failed in a sync are fetched again: by the next incremental run, and by
"Reprocessar falhas" on /sincronizacoes (issue 10).

The failures are old sales (outside the incremental overlap): before the fix the next
incremental run read only the last two days and never saw them again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Sale, SyncRun
from app.services import sync
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, csrf_token
from tests.integrations.test_hotmart_integration import expected_sales, hotmart_config

SALES = 200
BROKEN = 7


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        products=5,
        sales=SALES,
        subscriptions=0,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def hm_app(app_factory, emu):
    app = app_factory(**hotmart_config(emu, HOTMART_SYNC_WINDOW_DAYS=200))
    with app.app_context():
        yield app
        sync.wait_idle(120)


def _old_transactions(emu: LiveEmulator, count: int) -> set[str]:
    """Transactions approved weeks ago: an incremental run's window never reaches them."""
    limit = (datetime.now(UTC) - timedelta(days=20)).timestamp() * 1000
    found: list[str] = []
    with emu.hotmart() as client:
        for page in client.sales_pages(page_size=100):
            for item in page.items:
                if (item["purchase"].get("approved_date") or limit) < limit:
                    found.append(item["purchase"]["transaction"])
    assert len(found) >= count
    return set(found[:count])


class BrokenSet(set):
    """Transactions the database refuses to store while they are in the set.

    A trigger raises for them, as a real write error would: the page's bulk statement fails,
    the page is written row by row and only these records fail."""

    def __init__(self, transactions: set[str]):
        super().__init__(transactions)
        self._sync()

    def _sync(self) -> None:
        db.session.execute(text("DELETE FROM broken_transactions"))
        if self:
            db.session.execute(
                text("INSERT INTO broken_transactions (transaction_id) VALUES (:t)"),
                [{"t": t} for t in self],
            )
        db.session.commit()

    def clear(self) -> None:
        super().clear()
        self._sync()

    def update(self, *others) -> None:
        super().update(*others)
        self._sync()


def install_broken_trigger() -> None:
    """``broken_transactions`` plus a trigger refusing inserts and updates of their sales."""
    db.session.execute(text("CREATE TABLE broken_transactions (transaction_id VARCHAR(255))"))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                """CREATE FUNCTION refuse_broken_sale() RETURNS trigger AS $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM broken_transactions b
                             WHERE b.transaction_id = NEW.transaction_id) THEN
                    RAISE EXCEPTION 'disk I/O error (injected)';
                  END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql"""
            )
        )
        for when in ("INSERT", "UPDATE"):
            db.session.execute(
                text(
                    f"CREATE TRIGGER refuse_broken_{when.lower()} BEFORE {when} ON sales "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_broken_sale()"
                )
            )
    else:
        for when in ("INSERT", "UPDATE"):
            db.session.execute(
                text(
                    f"CREATE TRIGGER refuse_broken_{when.lower()} BEFORE {when} ON sales "
                    "WHEN NEW.transaction_id IN (SELECT transaction_id FROM broken_transactions) "
                    "BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END"
                )
            )
    db.session.commit()


def drop_broken_trigger() -> None:
    db.session.rollback()
    for when in ("insert", "update"):
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"DROP TRIGGER IF EXISTS refuse_broken_{when} ON sales"))
        else:
            db.session.execute(text(f"DROP TRIGGER IF EXISTS refuse_broken_{when}"))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP FUNCTION IF EXISTS refuse_broken_sale()"))
    db.session.execute(text("DROP TABLE IF EXISTS broken_transactions"))
    db.session.commit()


@pytest.fixture
def broken(hm_app, emu):
    """These transactions fail to be written while the set is not emptied."""
    install_broken_trigger()
    try:
        yield BrokenSet(_old_transactions(emu, BROKEN))
    finally:
        drop_broken_trigger()


def _stored(transactions: set[str]) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(Sale).where(Sale.transaction_id.in_(transactions))
    )


def test_the_next_incremental_run_fetches_the_failed_records_again(hm_app, emu, broken):
    total = sum(expected_sales(emu).values())
    first = sync.run_sync("hotmart", "sales")  # first run: the lookback window
    assert (first.status, first.failed_count) == ("succeeded", BROKEN)
    assert first.created_count == total - BROKEN and _stored(broken) == 0

    fixed = set(broken)
    broken.clear()  # the cause went away
    second = sync.run_sync("hotmart", "sales")  # incremental: must not start after `first`
    assert (second.status, second.created_count, second.failed_count) == ("succeeded", BROKEN, 0)
    assert _stored(fixed) == BROKEN

    third = sync.run_sync("hotmart", "sales")  # clean history: a short incremental window again
    assert third.cursor_at == second.started_at
    assert (third.created_count, third.failed_count) == (0, 0)
    assert third.unchanged_count < total


def test_failures_after_a_clean_run_keep_its_cursor(hm_app, emu, broken):
    failing = set(broken)
    broken.clear()
    clean = sync.run_sync("hotmart", "sales")
    assert clean.failed_count == 0
    db.session.execute(Sale.__table__.delete().where(Sale.transaction_id.in_(failing)))
    db.session.commit()
    broken.update(failing)
    with_failures = sync.run_sync("hotmart", "sales", full=True)
    assert with_failures.failed_count == BROKEN
    broken.clear()
    after = sync.run_sync("hotmart", "sales")
    assert after.cursor_at is None  # the failed run read everything: so does the next one
    assert (after.created_count, after.failed_count) == (BROKEN, 0)
    assert _stored(failing) == BROKEN


def test_reprocessar_falhas_from_the_sync_page(hm_app, emu, broken):
    client = hm_app.test_client()
    Auth(hm_app, client).operator()
    bad = sync.run_sync("hotmart", "sales", full=True)
    assert bad.failed_count == BROKEN
    page = client.get("/sincronizacoes").get_data(as_text=True)
    action = f"/sincronizacoes/{bad.id}/reprocessar"
    assert f'action="{action}"' in page and "Reprocessar falhas" in page

    assert client.post(action).status_code == 400  # no CSRF token
    fixed = set(broken)
    broken.clear()
    response = client.post(action, data={"csrf_token": csrf_token(client, "/sincronizacoes")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sincronizacoes")
    assert sync.wait_idle(120)  # a bound for a hung run, not a speed assertion
    db.session.rollback()
    retry = db.session.scalar(select(SyncRun).where(SyncRun.retry_of_id == bad.id))
    assert (retry.status, retry.full, retry.created_count, retry.failed_count) == (
        "succeeded",
        True,
        BROKEN,
        0,
    )
    assert retry.requested_by == "operador@example.com"
    assert _stored(fixed) == BROKEN
    page = client.get("/sincronizacoes").get_data(as_text=True)
    assert f"reprocessa a execução #{bad.id}" in page
    assert "Reprocessamento das falhas" in page  # the flash message
    # The reprocess finished clean: the old run says so instead of offering the button again.
    assert f'action="{action}"' not in page and "falhas reprocessadas" in page
    # a clean run has nothing to reprocess; members and anonymous users cannot reach it
    clean = client.post(
        f"/sincronizacoes/{retry.id}/reprocessar",
        data={"csrf_token": csrf_token(client, "/sincronizacoes")},
        follow_redirects=True,
    )
    assert "não tem falhas para reprocessar" in clean.get_data(as_text=True)
    assert (
        client.post(
            "/sincronizacoes/999999/reprocessar",
            data={"csrf_token": csrf_token(client, "/sincronizacoes")},
        ).status_code
        == 404
    )
    anonymous = hm_app.test_client()
    assert anonymous.post(action).status_code in (302, 400, 401)
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 2
