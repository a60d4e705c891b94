"""An incremental re-run fetches only what changed (issue 13), counted at the emulator.

Kommo has a modified-since filter (``filter[updated_at][from]``, PLATFORMS.md §6.4): a re-run
asks only for the records changed since the last success (minus the overlap) and writes only
those that differ. Hotmart has none (§3.5): a re-run reads the recent date window (one request
per status pass) instead of the whole lookback. Gestão Click has none either (§7.6); its rescans
are full by design and not tested here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import KommoLead, SyncRun
from app.services import hotmart, sync
from tests.clients.conftest import LiveEmulator
from tests.integrations.test_hotmart_integration import hotmart_config
from tests.integrations.test_kommo_integration import direct_client, kommo_config

LEADS = 900
PAGE = 50


@pytest.fixture
def kommo_emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        contacts=100, leads=LEADS, kommo_rate_limit=0, now=datetime.now(UTC).replace(microsecond=0)
    )


def _move_last_success(run_id: int, days: int) -> datetime:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    db.session.execute(update(SyncRun).where(SyncRun.id == run_id).values(started_at=since))
    db.session.commit()
    return since


def test_kommo_rerun_requests_only_the_changed_leads(app_factory, kommo_emu):
    emu = kommo_emu
    app = app_factory(**kommo_config(emu, KOMMO_PAGE_SIZE=PAGE))
    with app.app_context():
        first = sync.run_sync("kommo", "leads")
        assert (first.status, first.created_count) == ("succeeded", LEADS), first.error
        assert emu.hits("kommo.leads") == math.ceil(LEADS / PAGE)

        since = _move_last_success(first.id, days=30)
        cutoff = int((since - timedelta(seconds=300)).timestamp())
        with direct_client(emu) as client:
            changed = [lead["id"] for lead in client.iter_leads(updated_from=cutoff)]
        assert 0 < len(changed) < LEADS / 4
        # one changed lead differs locally (its remote copy "changed"); one outside the
        # window differs too, but is not asked for
        inside, outside = (
            changed[0],
            min(set(db.session.scalars(select(KommoLead.remote_id))) - set(changed)),
        )
        db.session.execute(
            update(KommoLead)
            .where(KommoLead.remote_id.in_((inside, outside)))
            .values(name="editado localmente")
        )
        db.session.commit()

        before = emu.stats()["apis"]["kommo"]["endpoints"]
        second = sync.run_sync("kommo", "leads")
        after = emu.stats()["apis"]["kommo"]["endpoints"]
        assert second.status == "succeeded", second.error
        assert (second.created_count, second.updated_count, second.unchanged_count) == (
            0,
            1,
            len(changed) - 1,
        )
        requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        assert requests["kommo.leads"] == math.ceil(len(changed) / PAGE)
        assert requests["kommo.pipelines"] == 1 and requests["kommo.account"] == 1
        names = dict(db.session.execute(select(KommoLead.remote_id, KommoLead.name)).all())
        assert names[inside] != "editado localmente"
        assert names[outside] == "editado localmente"  # not fetched: a full run repairs it

        # right after a clean run, a re-run asks for the overlap window only: one request
        before = emu.hits("kommo.leads")
        third = sync.run_sync("kommo", "leads")
        assert third.status == "succeeded" and third.progress_done < PAGE
        assert emu.hits("kommo.leads") - before == 1


def test_hotmart_rerun_reads_only_the_recent_window(start_emulator, app_factory):
    emu = start_emulator(
        products=5,
        sales=600,
        subscriptions=0,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )
    app = app_factory(**hotmart_config(emu, HOTMART_PAGE_SIZE=100, HOTMART_SYNC_WINDOW_DAYS=60))
    with app.app_context():
        first = sync.run_sync("hotmart", "sales")
        assert first.status == "succeeded", first.error
        full_requests = emu.hits("hotmart.sales_history")
        passes = 1 + len(hotmart.REVOKED_PASSES)
        assert full_requests >= passes * math.ceil(400 / 60)  # every window of the lookback

        before = emu.hits("hotmart.sales_history")
        second = sync.run_sync("hotmart", "sales")
        assert second.status == "succeeded", second.error
        # since the last success minus the 2-day overlap: one window, one page per pass
        assert emu.hits("hotmart.sales_history") - before == passes
        assert (second.created_count, second.updated_count, second.failed_count) == (0, 0, 0)
