"""The records a Hotmart sync could not save are listed on the run's page with their reason,
and "Reprocessar falhas" on /hotmart fetches exactly those again (issue 17)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import SyncFailure, SyncRun
from app.services import sync
from tests.conftest import Auth, csrf_token
from tests.integrations.test_sync_failures import BROKEN, _stored  # start_emulator: conftest
from tests.integrations.test_sync_failures import broken as broken  # noqa: F401
from tests.integrations.test_sync_failures import emu as emu  # noqa: F401
from tests.integrations.test_sync_failures import hm_app as hm_app  # noqa: F401


def test_failed_records_are_listed_and_reprocessed_from_the_integration_page(hm_app, emu, broken):
    client = hm_app.test_client()
    Auth(hm_app, client).operator()
    bad = sync.run_sync("hotmart", "sales", full=True)
    assert bad.failed_count == BROKEN
    failures = db.session.scalars(select(SyncFailure).where(SyncFailure.run_id == bad.id)).all()
    assert {f.remote_id for f in failures} == set(broken)
    assert {f.resource for f in failures} == {"sales"}
    assert all(f.error.startswith("Não foi possível salvar:") for f in failures)
    assert all("disk I/O error" in f.error for f in failures)  # the technical cause, last

    detail = client.get(f"/sincronizacoes/{bad.id}").get_data(as_text=True)
    for transaction in broken:
        assert transaction in detail
    assert "Não foi possível salvar" in detail and "detalhe técnico" in detail

    page = client.get("/hotmart").get_data(as_text=True)
    action = f"/sincronizacoes/{bad.id}/reprocessar"
    assert f'action="{action}"' in page and "Reprocessar falhas" in page
    assert "Sincronização completa" in page and "pode demorar" in page
    assert f'href="/sincronizacoes/{bad.id}"' in page  # the last-run cell links the run

    fixed = set(broken)
    broken.clear()
    response = client.post(
        action, data={"csrf_token": csrf_token(client, "/hotmart"), "voltar": "/hotmart"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/hotmart")
    assert sync.wait_idle(120)  # a bound for a hung run, not a speed assertion
    db.session.rollback()
    retry = db.session.scalar(select(SyncRun).where(SyncRun.retry_of_id == bad.id))
    assert (retry.status, retry.created_count, retry.failed_count) == ("succeeded", BROKEN, 0)
    assert _stored(fixed) == BROKEN
    assert (
        db.session.scalar(
            select(func.count()).select_from(SyncFailure).where(SyncFailure.run_id == retry.id)
        )
        == 0
    )
    detail = client.get(f"/sincronizacoes/{bad.id}").get_data(as_text=True)
    assert "já foram reprocessadas" in detail and f"Execução #{retry.id}" in detail
    # "voltar" never leaves the site
    bad_again = sync.run_sync("hotmart", "sales", full=True)
    db.session.execute(
        SyncRun.__table__.update().where(SyncRun.id == bad_again.id).values(failed_count=1)
    )
    db.session.commit()
    response = client.post(
        f"/sincronizacoes/{bad_again.id}/reprocessar",
        data={"csrf_token": csrf_token(client, "/hotmart"), "voltar": "//evil.example/x"},
    )
    assert response.headers["Location"].endswith("/sincronizacoes")
    assert sync.wait_idle(120)
