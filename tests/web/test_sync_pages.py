"""Sync pages and JSON API: start, live progress, cancel, history, dashboard, schedules."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models import JobSetting, SyncRun
from app.models.types import utcnow
from app.services import sync
from tests import sync_testkit
from tests.conftest import Auth, csrf_token
from tests.sync_testkit import SOURCE, TIMEOUT, wait_finished, wait_for

# Shared fixtures (bound here so pytest finds them in this module).
sync_app = sync_testkit.sync_app
syncers = sync_testkit.syncers


client = sync_testkit.client
operator = sync_testkit.operator
_run = sync_testkit.run_row


def test_login_required_and_members_get_403(sync_app, client, syncers):
    Auth(sync_app, client).create()  # setup done, nobody logged in
    run = _run()
    response = client.get(f"/api/sync-runs/{run.id}")
    assert response.status_code == 401
    assert response.get_json()["success"] is False
    assert client.get("/sincronizacoes").status_code == 302
    auth = Auth(sync_app, client)
    auth.create(email="membro@example.com", role="member", name="Bia")
    assert auth.login(email="membro@example.com").status_code == 302
    assert client.get(f"/api/sync-runs/{run.id}").status_code == 403
    assert client.get("/sincronizacoes").status_code == 403
    assert client.get(f"/sincronizacoes/{run.id}/progresso").status_code == 403
    token = csrf_token(client, "/conta")
    response = client.post(f"/api/sync/{SOURCE}/counting", headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(SyncRun.id))) == 1


def test_json_shape(client, operator, syncers):
    run = _run(
        status="failed",
        progress_done=3,
        progress_total=None,
        created_count=1,
        updated_count=2,
        failed_count=4,
        error="A API recusou o token (401).",
    )
    body = client.get(f"/api/sync-runs/{run.id}").get_json()
    assert body == {
        "id": run.id,
        "source": SOURCE,
        "resource": "counting",
        "status": "failed",
        "progress": {"done": 3, "total": None},
        "counts": {"created": 1, "updated": 2, "unchanged": 0, "failed": 4},
        "error": "A API recusou o token (401).",
    }
    missing = client.get("/api/sync-runs/999999")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"


def test_start_answers_202_and_a_second_click_joins_the_run(client, operator, syncers):
    first = client.post(f"/api/sync/{SOURCE}/stepped", headers=operator)
    assert first.status_code == 202
    body = first.get_json()
    assert body["success"] is True and isinstance(body["run_id"], int)
    second = client.post(f"/api/sync/{SOURCE}/stepped", headers=operator)
    assert second.status_code == 202
    assert second.get_json()["run_id"] == body["run_id"]
    assert second.get_json()["created"] is False
    for _ in range(syncers.items):
        syncers.step()
    wait_finished(body["run_id"])


def test_progress_increases_to_done_equals_total(client, operator, syncers):
    run_id = client.post(f"/api/sync/{SOURCE}/stepped", headers=operator).get_json()["run_id"]
    assert syncers.started.wait(TIMEOUT)
    seen = []

    def poll():
        data = client.get(f"/api/sync-runs/{run_id}").get_json()
        seen.append(data)
        return data

    wait_for(lambda: poll()["progress"]["total"] == syncers.items)
    for step in range(1, syncers.items + 1):
        syncers.step()
        wait_for(lambda step=step: poll()["progress"]["done"] >= step)
    final = wait_for(lambda: (d := poll())["status"] == "succeeded" and d)
    done_values = [d["progress"]["done"] for d in seen]
    assert done_values == sorted(done_values)
    assert len(set(done_values)) == syncers.items + 1  # 0, 1, …, N all observed
    assert final["progress"] == {"done": syncers.items, "total": syncers.items}
    assert final["counts"]["created"] == syncers.items
    assert {d["status"] for d in seen} <= {"queued", "running", "succeeded"}


def test_start_requires_csrf(client, operator, syncers):
    response = client.post(f"/api/sync/{SOURCE}/counting")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_start_unknown_or_not_configured(client, operator, syncers):
    response = client.post(f"/api/sync/{SOURCE}/nope", headers=operator)
    assert response.status_code == 404
    syncers.enabled = False
    response = client.post(f"/api/sync/{SOURCE}/counting", headers=operator)
    assert response.status_code == 409
    assert "credenciais não configuradas" in response.get_json()["error"]["message"]


def test_full_flag(client, operator, syncers):
    run_id = client.post(
        f"/api/sync/{SOURCE}/counting", headers=operator, json={"full": True}
    ).get_json()["run_id"]
    assert wait_finished(run_id).full is True
    run_id = client.post(
        f"/api/sync/{SOURCE}/counting", headers=operator, data={"full": "1"}
    ).get_json()["run_id"]
    assert wait_finished(run_id).full is True


def test_cancel_through_the_api(client, operator, syncers):
    run_id = client.post(f"/api/sync/{SOURCE}/cancelable", headers=operator).get_json()["run_id"]
    assert syncers.started.wait(TIMEOUT)
    response = client.post(f"/api/sync-runs/{run_id}/cancel", headers=operator)
    assert response.status_code == 200
    assert response.get_json()["success"] is True
    assert wait_finished(run_id).status == "canceled"
    assert client.get(f"/api/sync-runs/{run_id}").get_json()["status"] == "canceled"
    done = _run()
    response = client.post(f"/api/sync-runs/{done.id}/cancel", headers=operator)
    assert response.status_code == 409
    assert client.post("/api/sync-runs/999999/cancel", headers=operator).status_code == 404
    assert client.post(f"/api/sync-runs/{run_id}/cancel").status_code == 400  # no CSRF


def test_progress_partial_polls_while_active_and_stops_when_done(client, operator, syncers):
    active = _run(status="running", progress_done=2, progress_total=8, started_at=utcnow())
    html = client.get(f"/sincronizacoes/{active.id}/progresso").get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="/sincronizacoes/{active.id}/progresso"' in html
    assert "<progress" in html and 'max="8"' in html and 'value="2"' in html
    assert "Cancelar" in html and f"/api/sync-runs/{active.id}/cancel" in html
    assert "style=" not in html and "<script" not in html
    db.session.get(SyncRun, active.id).status = "succeeded"
    db.session.commit()
    html = client.get(f"/sincronizacoes/{active.id}/progresso").get_data(as_text=True)
    assert "hx-trigger" not in html and "Cancelar" not in html
    assert "concluída" in html
    assert client.get("/sincronizacoes/999999/progresso").status_code == 404


def test_history_page_filters_and_paginates(client, operator, syncers):
    now = utcnow()
    for i in range(30):
        _run(created_at=now - timedelta(minutes=i), started_at=now - timedelta(minutes=i))
    _run(
        resource="fails",
        status="failed",
        error="Tempo esgotado ao falar com a API.",
        started_at=now,
        finished_at=now + timedelta(seconds=75),
    )
    html = client.get("/sincronizacoes").get_data(as_text=True)
    assert "Sincronizações" in html
    assert "Tempo esgotado ao falar com a API." in html
    assert "table-danger" in html
    assert "1 min 15 s" in html
    assert "Teste counting" in html  # resource label from the registry
    assert "31 registros" in html
    assert "style=" not in html and "<script>" not in html
    page2 = client.get("/sincronizacoes?page=2").get_data(as_text=True)
    assert "31 registros" in page2
    failed = client.get("/sincronizacoes?status=failed").get_data(as_text=True)
    assert "1 registro" in failed and "Tempo esgotado" in failed
    other = client.get("/sincronizacoes?source=hotmart").get_data(as_text=True)
    assert "Nenhuma sincronização com estes filtros" in other


def test_page_offers_sync_buttons_and_shows_the_running_one(client, operator, syncers):
    html = client.get("/sincronizacoes").get_data(as_text=True)
    assert f'hx-post="/api/sync/{SOURCE}/counting"' in html
    assert "data-sync-button" in html
    assert 'data-progress-url="/sincronizacoes/0/progresso"' in html
    assert 'hx-post="/api/sync/webhooks/failed"' in html  # the built-in syncer
    running = _run(resource="gated", status="running", started_at=utcnow())
    html = client.get("/sincronizacoes").get_data(as_text=True)
    assert f'id="sync-run-{running.id}"' in html
    syncers.enabled = False
    html = client.get("/sincronizacoes").get_data(as_text=True)
    assert "não configurado" in html


def test_dashboard_highlights_failures_of_the_last_24h(client, operator, syncers):
    _run(status="failed", error="Falha recente da Hotmart", created_at=utcnow())
    _run(
        status="failed",
        error="Falha antiga",
        created_at=utcnow() - timedelta(hours=30),
    )
    html = client.get("/").get_data(as_text=True)
    assert "Falha recente da Hotmart" in html
    assert "Falha antiga" not in html
    assert "1 sincronização falhou nas últimas 24 h" in html


def test_dashboard_without_failures_says_nothing(client, operator, syncers):
    _run()
    assert "nas últimas 24 h</h2>" not in client.get("/").get_data(as_text=True)


def test_settings_lists_and_saves_schedules(client, operator, syncers):
    html = client.get("/configuracoes").get_data(as_text=True)
    assert 'id="agendamentos"' in html
    assert "Envio de e-mails pendentes" in html
    assert 'name="interval-sync:teste:counting"' in html
    assert "agendador parado" in html
    token = csrf_token(client, "/configuracoes")
    response = client.post(
        "/configuracoes/agendamentos",
        data={
            "csrf_token": token,
            "interval-outbox_send": "5",
            "enabled-outbox_send": "1",
            "interval-activation_cleanup": "60",  # unchecked: disabled
        },
    )
    assert response.status_code == 302
    outbox = db.session.get(JobSetting, "outbox_send")
    assert (outbox.interval_seconds, outbox.enabled) == (300, True)
    assert outbox.updated_by == "operador@example.com"
    cleanup = db.session.get(JobSetting, "activation_cleanup")
    assert (cleanup.interval_seconds, cleanup.enabled) == (None, False)
    assert db.session.get(JobSetting, "webhook_replay") is None  # not on the form: untouched
    html = client.get("/configuracoes").get_data(as_text=True)
    assert "Agendamentos salvos" in html
    assert re.search(r'name="interval-outbox_send" value="5"', html)
    assert "desativada" in html


def test_settings_rejects_bad_intervals(client, operator, syncers):
    token = csrf_token(client, "/configuracoes")
    response = client.post(
        "/configuracoes/agendamentos",
        data={"csrf_token": token, "interval-outbox_send": "0", "enabled-outbox_send": "1"},
        follow_redirects=True,
    )
    assert "Intervalo inválido" in response.get_data(as_text=True)
    assert db.session.get(JobSetting, "outbox_send") is None


def test_settings_shows_next_run_when_the_scheduler_is_active(client, operator, syncers):
    from app.scheduler import Lease

    Lease("scheduler", "host:1:abc", timedelta(seconds=45)).acquire()
    next_run = utcnow() + timedelta(minutes=3)
    db.session.add(JobSetting(job_id="outbox_send", enabled=True, next_run_at=next_run))
    db.session.commit()
    html = client.get("/configuracoes").get_data(as_text=True)
    assert "agendador ativo" in html and "host:1:abc" in html
    from app.formatting import datetime_br

    assert datetime_br(next_run) in html


def test_registered_syncer_visible_in_api_list(client, operator, syncers):
    run = sync.run_sync(SOURCE, "counting")
    body = client.get(f"/api/sync-runs?source={SOURCE}").get_json()
    assert body["success"] is True
    assert [r["id"] for r in body["runs"]] == [run.id]
    assert client.get("/api/sync-runs?status=bogus").status_code == 400


def test_sync_start_and_cancel_are_audited(client, operator, syncers):
    from app.models import AuditEntry
    from app.services import audit

    run_id = client.post(f"/api/sync/{SOURCE}/cancelable", headers=operator).get_json()["run_id"]
    assert syncers.started.wait(TIMEOUT)
    joined = client.post(f"/api/sync/{SOURCE}/cancelable", headers=operator).get_json()
    assert joined["run_id"] == run_id and joined["created"] is False  # a join is no new start
    client.post(f"/api/sync-runs/{run_id}/cancel", headers=operator)
    wait_finished(run_id)
    db.session.rollback()
    entries = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.action.in_([audit.SYNC_STARTED, audit.SYNC_CANCELED]))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.target_id) for e in entries] == [
        (audit.SYNC_STARTED, str(run_id)),
        (audit.SYNC_CANCELED, str(run_id)),
    ]
    assert entries[0].actor_email == "operador@example.com"
    assert entries[0].details["resource"] == "cancelable"
    assert audit.describe(entries[0]).startswith("Sincronização iniciada:")
