"""Sync status that tells the truth (issue 17): done/total only with a known total, a running
count otherwise; "Sincronização completa" ignores the incremental cursor; a run's page lists
its failed records and their reasons."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import SyncFailure
from app.models.types import utcnow
from app.services import sync
from tests import sync_testkit
from tests.conftest import Auth
from tests.sync_testkit import SOURCE, wait_finished

sync_app = sync_testkit.sync_app
syncers = sync_testkit.syncers


client = sync_testkit.client
operator = sync_testkit.operator
_run = sync_testkit.run_row


def test_known_total_shows_done_of_total_and_a_bar(client, operator, syncers):
    run = _run(status="running", progress_done=250, progress_total=1000, started_at=utcnow())
    html = client.get(f"/sincronizacoes/{run.id}/progresso").get_data(as_text=True)
    assert "250 de 1.000 registros (25%)" in html
    assert "<progress" in html and 'max="1000"' in html and 'value="250"' in html
    assert "até agora" not in html


def test_unknown_total_shows_a_running_count_without_a_bar(client, operator, syncers):
    run = _run(status="running", progress_done=1250, progress_total=None, started_at=utcnow())
    html = client.get(f"/sincronizacoes/{run.id}/progresso").get_data(as_text=True)
    assert "1.250 registros até agora" in html
    assert "<progress" not in html and "%)" not in html and "1.250 de" not in html
    assert "não informa o total" in html
    # finished: the count of what was read, no "até agora"
    run.status, run.finished_at = "failed", utcnow()
    db.session.commit()
    html = client.get(f"/sincronizacoes/{run.id}/progresso").get_data(as_text=True)
    assert "1.250 registros" in html and "até agora" not in html and "<progress" not in html
    assert f'href="/sincronizacoes/{run.id}"' in html


def test_syncers_report_a_total_only_when_the_api_gives_it():
    """Hotmart and Gestão Click sales read several passes: no made-up total for them; a
    first page without a total does not become one."""
    from app.services import gestao_click_sync, hotmart_sync

    class Page:
        number, total, items = 1, None, [{"id": 1}, {"id": 2}]

    assert gestao_click_sync._first_page_total(Page()) is None
    Page.total = 40
    assert gestao_click_sync._first_page_total(Page()) == 40
    import inspect

    for source in (hotmart_sync.sync_sales, gestao_click_sync.sync_sales):
        assert "set_total" not in inspect.getsource(source)


def test_full_sync_ignores_the_incremental_cursor(client, operator, syncers):
    first = client.post(f"/api/sync/{SOURCE}/counting", headers=operator).get_json()["run_id"]
    done = wait_finished(first)
    assert done.status == "succeeded"
    second = client.post(f"/api/sync/{SOURCE}/counting", headers=operator).get_json()["run_id"]
    assert wait_finished(second).cursor_at == done.started_at
    assert syncers.calls[-1] == {"full": False, "since": done.started_at}
    response = client.post(f"/api/sync/{SOURCE}/counting", data={"full": "1"}, headers=operator)
    assert response.status_code == 202
    full = wait_finished(response.get_json()["run_id"])
    assert full.full is True and full.cursor_at is None
    assert syncers.calls[-1] == {"full": True, "since": None}


def test_run_detail_lists_failed_records_paged(client, operator, syncers):
    now = utcnow()
    run = _run(
        status="succeeded",
        started_at=now - timedelta(seconds=90),
        finished_at=now,
        progress_done=120,
        progress_total=120,
        created_count=40,
        updated_count=10,
        unchanged_count=10,
        failed_count=60,
    )
    db.session.add_all(
        SyncFailure(
            run_id=run.id,
            resource="counting",
            remote_id=f"HP{i:04d}",
            error=f"Não foi possível salvar: um dado obrigatório veio vazio ({i}).",
        )
        for i in range(60)
    )
    db.session.commit()
    html = client.get(f"/sincronizacoes/{run.id}").get_data(as_text=True)
    assert f"Execução #{run.id}" in html and "Teste counting" in html
    assert "1 min 30 s" in html
    assert "criados 40" in html and "atualizados 10" in html and "sem mudança 10" in html
    assert "falhas 60" in html and "Registros lidos" in html and ">120<" in html
    assert "HP0000" in html and "um dado obrigatório veio vazio (0)" in html
    assert "HP0049" in html and "HP0050" not in html  # 50 per page
    assert "Reprocessar falhas" in html and f"/sincronizacoes/{run.id}/reprocessar" in html
    page2 = client.get(f"/sincronizacoes/{run.id}?page=2").get_data(as_text=True)
    assert "HP0050" in page2 and "HP0059" in page2 and "HP0000" not in page2
    assert "style=" not in html and "<script>" not in html
    history = client.get("/sincronizacoes").get_data(as_text=True)
    assert f'href="/sincronizacoes/{run.id}"' in history
    assert client.get("/sincronizacoes/999999").status_code == 404


def test_clean_run_detail_says_nothing_failed(client, operator, syncers):
    run = _run(started_at=utcnow(), finished_at=utcnow(), created_count=3, progress_done=3)
    html = client.get(f"/sincronizacoes/{run.id}").get_data(as_text=True)
    assert "Nenhum registro falhou" in html and "Reprocessar falhas" not in html


def test_run_detail_needs_an_operator(sync_app, client, syncers):
    Auth(sync_app, client).create()
    run = _run(failed_count=1)
    db.session.add(SyncFailure(run_id=run.id, resource="counting", remote_id="X1", error="e"))
    db.session.commit()
    response = client.get(f"/sincronizacoes/{run.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth = Auth(sync_app, client)
    auth.create(email="membro@example.com", role="member", name="Bia")
    auth.login(email="membro@example.com")
    assert client.get(f"/sincronizacoes/{run.id}").status_code == 403


def test_failures_noted_by_a_syncer_are_stored_with_the_run(sync_app, syncers):
    def partly(ctx: sync.SyncContext, full: bool) -> None:
        ctx.item("created")
        ctx.item("failed")
        ctx.fail("A-1", "Não foi possível salvar: motivo um.")
        ctx.fail("A-1", "repetido: não conta de novo")
        ctx.item("failed")
        ctx.fail(None, "Sem código.")

    sync.register(SOURCE, "partly", partly, "Teste parcial", source_label="Teste")
    try:
        run = sync.run_sync(SOURCE, "partly")
    finally:
        sync.unregister(SOURCE, "partly")
    assert (run.status, run.failed_count) == ("succeeded", 2)
    rows = db.session.scalars(
        db.select(SyncFailure).where(SyncFailure.run_id == run.id).order_by(SyncFailure.id)
    ).all()
    assert [(r.remote_id, r.resource, r.error) for r in rows] == [
        ("A-1", "partly", "Não foi possível salvar: motivo um."),
        (None, "partly", "Sem código."),
    ]
    assert sync.incremental_cursor(SOURCE, "partly") is None  # failures keep the cursor back
