"""The audit log: every operator action recorded, shown on /auditoria, never editable."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from app.extensions import db
from app.models import ActivationLink, AuditEntry, OutboxEmail, User, WebhookEvent
from app.services import audit, jobs
from tests.conftest import WEBHOOK_SECRETS, Auth, csrf_token


@pytest.fixture
def operator(webhook_app, send_webhook):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    return client


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/auditoria"), **data})


def _entries(action: str | None = None) -> list[AuditEntry]:
    db.session.rollback()  # a fresh snapshot of what the requests committed
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def _only(action: str) -> AuditEntry:
    entries = _entries(action)
    assert len(entries) == 1, entries
    return entries[0]


def _operator_id() -> int:
    return db.session.scalar(select(User.id).where(User.email == "operador@example.com"))


def _link() -> ActivationLink:
    return db.session.scalar(select(ActivationLink).order_by(ActivationLink.id))


def _all_text() -> str:
    """Everything stored in the audit table, as one string (to look for secrets in it)."""
    rows = db.session.execute(text("SELECT * FROM audit_entries")).all()
    return json.dumps([[str(v) for v in row] for row in rows], ensure_ascii=False)


# ------------------------------------------------------------------------- activation links


def test_resend_is_recorded_with_who_when_and_what(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    link = _link()
    assert _post(operator, f"/ativacoes/{link.id}/reenviar").status_code == 302
    entry = _only(audit.ACTIVATION_RESENT)
    assert entry.actor_user_id == _operator_id()
    assert entry.actor_email == "operador@example.com"
    assert entry.target_type == "activation_link" and entry.target_id == str(link.id)
    assert entry.details["email"] == "maria@example.com"
    assert entry.details["new_link_id"] not in (None, link.id)
    assert entry.remote_addr == "127.0.0.1"
    assert entry.created_at.tzinfo is not None
    assert audit.describe(entry) == "Link reenviado: maria@example.com"


def test_revoke_is_recorded(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    link = _link()
    _post(operator, f"/ativacoes/{link.id}/revogar")
    entry = _only(audit.ACTIVATION_REVOKED)
    assert entry.target_id == str(link.id)
    assert audit.describe(entry).startswith("Link revogado: maria@example.com")


def test_corrected_email_is_recorded_with_old_and_new(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    link = _link()
    _post(operator, f"/ativacoes/{link.id}/email", email="Maria.Certa@Example.com")
    entry = _only(audit.ACTIVATION_EMAIL_CHANGED)
    assert entry.details["old_email"] == "maria@example.com"
    assert entry.details["new_email"] == "maria.certa@example.com"
    assert audit.describe(entry) == (
        "E-mail corrigido: maria@example.com → maria.certa@example.com"
    )


def test_refused_actions_leave_no_entry(operator, send_webhook):
    """Same transaction: an action that is rolled back is not in the log either."""
    send_webhook("hotmart", "purchase_approved")
    link = _link()
    _post(operator, f"/ativacoes/{link.id}/revogar")
    _post(operator, f"/ativacoes/{link.id}/revogar")  # only pending links can be revoked
    _post(operator, f"/ativacoes/{link.id}/email", email="not-an-email")
    assert len(_entries(audit.ACTIVATION_REVOKED)) == 1
    assert _entries(audit.ACTIVATION_EMAIL_CHANGED) == []


def test_outbox_retry_is_recorded(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    email = db.session.scalar(select(OutboxEmail))
    email.status, email.attempts = "failed", 8
    db.session.commit()
    _post(operator, f"/ativacoes/emails/{email.id}/reenviar")
    entry = _only(audit.EMAIL_RETRIED)
    assert entry.target_type == "outbox_email" and entry.target_id == str(email.id)
    assert entry.details["to"] == "maria@example.com"


def _failed_push(key: str):
    from app.models import AutomationDelivery

    row = AutomationDelivery(
        target="gestao_click",  # switched off here: a retry re-queues, nothing is sent
        step="gc_venda",
        dedupe_key=key,
        buyer_email="maria@example.com",
        payload={"buyer_email": "maria@example.com"},
        status="failed",
        attempts=12,
        last_error="recusado",
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def test_automation_retry_is_recorded_one_and_all(operator):
    first, second = _failed_push("gestao_click:gc_venda:1"), _failed_push("gestao_click:gc_venda:2")
    _post(operator, f"/automacoes/{first}/retry")
    entry = _only(audit.AUTOMATION_RETRIED)
    assert (entry.actor_user_id, entry.actor_email) == (_operator_id(), "operador@example.com")
    assert (entry.target_type, entry.target_id) == ("automation_delivery", str(first))
    assert entry.details == {"target": "Gestão Click", "step": "gc_venda", "count": 1}
    _post(operator, "/automacoes/retry-failed")
    entries = _entries(audit.AUTOMATION_RETRIED)
    assert len(entries) == 2 and entries[1].target_id is None
    assert entries[1].details == {"target": "todos", "count": 1}  # the one still failed
    _post(operator, "/automacoes/retry-failed")  # none failed any more: no entry
    assert len(_entries(audit.AUTOMATION_RETRIED)) == 2
    page = operator.get("/auditoria").get_data(as_text=True)
    assert page.count("Automação recolocada na fila") >= 2
    assert "Gestão Click" in page and "todos" in page
    from app.models import AutomationDelivery

    assert db.session.get(AutomationDelivery, second).status == "pending"  # re-queued by "all"


# ------------------------------------------------------------------------------- webhooks


def test_webhook_replay_is_recorded_with_its_outcome(operator, send_webhook):
    send_webhook("kiwify", "order_approved")
    event = db.session.scalar(select(WebhookEvent))
    _post(operator, f"/webhooks/{event.id}/reprocessar")
    entry = _only(audit.WEBHOOK_REPLAYED)
    assert entry.target_type == "webhook_event" and entry.target_id == str(event.id)
    assert entry.details["status"] == "processed"
    assert audit.describe(entry) == f"Webhook reprocessado: Kiwify #{event.id} — Processado"
    assert _post(operator, "/webhooks/999999/reprocessar").status_code == 404
    assert len(_entries(audit.WEBHOOK_REPLAYED)) == 1


@pytest.mark.parametrize("platform", ["hotmart", "kiwify", "kirvano"])
def test_signed_test_delivery_is_recorded_without_the_secret(platform, operator):
    _post(operator, "/webhooks/teste", platform=platform, event="approved", email="qa@example.com")
    entry = _only(audit.WEBHOOK_TEST_SENT)
    event = db.session.scalar(select(WebhookEvent))
    assert entry.target_id == str(event.id)
    assert entry.details["status_code"] == 200
    assert entry.details["transaction_id"].startswith("TESTE-")
    assert audit.describe(entry).startswith(f"Webhook de teste enviado: {platform.title()}")
    stored = _all_text()
    for secret in WEBHOOK_SECRETS.values():
        assert secret not in stored


# ------------------------------------------------------------------------------- settings


def test_settings_change_records_which_field_never_the_value(operator):
    secret, access = "kommo-jwt-super-secreto-0123456789", "gc-access-abcdef123456"
    _post(
        operator,
        "/configuracoes/kommo",
        KOMMO_JWT_TOKEN=secret,
        KOMMO_API_URL="https://loja.kommo.com",
    )
    _post(operator, "/configuracoes/gestao_click", GESTAOCLICK_ACCESS_TOKEN=access)
    _post(operator, "/configuracoes/kommo", clear_KOMMO_JWT_TOKEN="1")
    _post(operator, "/configuracoes/kommo")  # nothing changed: nothing recorded
    entries = _entries(audit.SETTINGS_CHANGED)
    assert len(entries) == 3
    kommo, gestao, cleared = entries
    assert kommo.target_id == "kommo"
    assert set(kommo.details["keys"]) == {"KOMMO_JWT_TOKEN", "KOMMO_API_URL"}
    assert audit.describe(kommo).startswith("Configuração alterada: Kommo — Token")
    assert gestao.details["keys"] == ["GESTAOCLICK_ACCESS_TOKEN"]
    assert cleared.details["cleared"] == ["KOMMO_JWT_TOKEN"]
    stored = _all_text()
    assert secret not in stored and access not in stored
    assert "loja.kommo.com" not in stored  # no values at all, secret or not
    page = operator.get("/auditoria").get_data(as_text=True)
    assert "Configuração alterada" in page and secret not in page


def test_schedule_change_is_recorded(operator):
    job = jobs.catalogue()[0]
    _post(
        operator,
        "/configuracoes/agendamentos",
        **{f"interval-{job.id}": "45", f"enabled-{job.id}": "1"},
    )
    entry = _only(audit.SCHEDULES_CHANGED)
    assert entry.details["jobs"] == [
        {"job_id": job.id, "job": job.label, "interval_minutes": 45, "enabled": True}
    ]
    assert "a cada 45 min" in audit.describe(entry)


# -------------------------------------------------------------------------- operators, login


def test_first_operator_via_setup_is_recorded(app, client):
    token = csrf_token(client, "/setup")
    response = client.post(
        "/setup",
        data={
            "csrf_token": token,
            "name": "Ana",
            "email": "ana@example.com",
            "password": Auth.PASSWORD,
            "password_confirm": Auth.PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = _only(audit.OPERATOR_CREATED)
    user_id = db.session.scalar(select(User.id).where(User.email == "ana@example.com"))
    assert entry.actor_user_id == user_id and entry.target_id == str(user_id)
    assert "configuração inicial" in audit.describe(entry)
    assert Auth.PASSWORD not in _all_text()


def test_create_operator_cli_is_recorded(app, runner):
    result = runner.invoke(
        args=["create-operator", "--email", "ops@example.com", "--password", Auth.PASSWORD]
    )
    assert result.exit_code == 0, result.output
    entry = _only(audit.OPERATOR_CREATED)
    assert entry.actor_user_id is None and entry.actor_email == audit.ACTOR_CLI
    assert entry.details["email"] == "ops@example.com"
    assert Auth.PASSWORD not in _all_text()
    failed = runner.invoke(
        args=["create-operator", "--email", "ops@example.com", "--password", "x"]
    )
    assert failed.exit_code != 0
    assert len(_entries(audit.OPERATOR_CREATED)) == 1


def test_operator_login_and_logout_are_recorded_members_are_not(app, client):
    auth = Auth(app, client)
    auth.operator()
    auth.logout()
    auth.create(email="membro@example.com", role="member")
    auth.login(email="membro@example.com")
    auth.logout()
    assert [e.actor_email for e in _entries(audit.LOGIN)] == ["operador@example.com"]
    assert [e.actor_email for e in _entries(audit.LOGOUT)] == ["operador@example.com"]
    assert Auth.PASSWORD not in _all_text()


# --------------------------------------------------------------------------------- the page


def test_page_requires_an_operator(app, client):
    auth = Auth(app, client)
    auth.create()
    response = client.get("/auditoria")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.create(email="membro@example.com", role="member")
    auth.login(email="membro@example.com")
    assert client.get("/auditoria").status_code == 403


def test_page_lists_filters_and_paginates(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    link = _link()
    _post(operator, f"/ativacoes/{link.id}/reenviar")
    for n in range(55):
        audit.record(audit.SYNC_CANCELED, actor_label="outra@example.com", target_id=n)
    db.session.commit()
    html = operator.get("/auditoria").get_data(as_text=True)
    assert "Auditoria" in html
    assert 'href="/auditoria"' in operator.get("/configuracoes").get_data(as_text=True)
    assert "registros" in html and "Próxima" in html
    only = operator.get("/auditoria?action=activation.resent").get_data(as_text=True)
    assert "Link reenviado" in only and "maria@example.com" in only
    assert "Sincronização cancelada</span>" not in only
    by_actor = operator.get("/auditoria?actor=outra@example.com").get_data(as_text=True)
    assert "Sincronização cancelada" in by_actor and "maria@example.com" not in by_actor
    page2 = operator.get("/auditoria?actor=outra@example.com&page=2").get_data(as_text=True)
    assert "55 registros" in page2
    assert page2.count("<tr>") == 1 + 5
    for junk in ("?action=nope", "?page=abc", "?page=99999999999"):
        assert operator.get("/auditoria" + junk).status_code == 200
    assert operator.get("/auditoria?actor=%00").status_code == 400  # NUL: refused app-wide
    none = operator.get("/auditoria?actor=ninguem@example.com").get_data(as_text=True)
    assert "com estes filtros" in none
    assert "<script>" not in html and "style=" not in html


def test_page_escapes_what_was_recorded(operator):
    audit.record(
        audit.ACTIVATION_REVOKED,
        actor_label="<i>x</i>",
        details={"email": "<script>alert(1)</script>@example.com", "product": "<b>P</b>"},
    )
    db.session.commit()
    html = operator.get("/auditoria").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<b>P</b>" not in html and "<i>x</i>" not in html
    assert "&lt;b&gt;P&lt;/b&gt;" in html


def test_there_is_no_way_to_edit_or_delete_from_the_app(operator):
    audit.record(audit.LOGIN, actor_label="alguem@example.com")
    db.session.commit()
    entry_id = _entries()[-1].id
    for method in ("put", "patch", "delete"):
        assert getattr(operator, method)("/auditoria").status_code in (404, 405)
    assert operator.post(f"/auditoria/{entry_id}").status_code in (400, 404, 405)


# ---------------------------------------------------------------------- append-only, secrets


def test_database_refuses_update_and_delete(app):
    audit.record(audit.LOGIN, actor_label="alguem@example.com")
    db.session.commit()
    for statement in (
        "UPDATE audit_entries SET actor_email = 'outro@example.com'",
        "DELETE FROM audit_entries",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert [e.actor_email for e in _entries()] == ["alguem@example.com"]


def test_scrub_drops_secret_keys_and_masks_secret_looking_text(app):
    from app.logs import add_known_secret

    add_known_secret("valor-secreto-conhecido-42")
    clean = audit.scrub(
        {
            "password": "p",
            "KOMMO_JWT_TOKEN": "x",
            "nested": {"client_secret": "y", "ok": "Authorization: Bearer abcdefghijklmnop"},
            "note": "falhou com valor-secreto-conhecido-42",
            "nul": "a\x00b\ud800c",
            "big": 2**70,
            "list": ["token=abcdef123456789"],
        }
    )
    dumped = json.dumps(clean)
    assert "password" not in clean and "KOMMO_JWT_TOKEN" not in clean
    assert "client_secret" not in clean["nested"]
    for secret in ("abcdefghijklmnop", "valor-secreto-conhecido-42", "abcdef123456789"):
        assert secret not in dumped
    assert clean["nul"] == "ab?c" and clean["big"] == str(2**70)
    entry = audit.record(audit.LOGIN, actor_label="a\x00b", details={"nul": "\x00\ud800"})
    db.session.commit()
    assert entry.actor_email == "ab"
    with pytest.raises(ValueError):
        audit.record("not.an.action")
