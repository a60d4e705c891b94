"""The team (app/team, app/services/team.py): invites are single-use, hashed, expiring and
revocable; roles owner / operator / read-only; read-only operators change nothing anywhere;
there is always an owner; removal ends sessions; a reset by e-mail beats the login limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import (
    OPERATOR_OPERATOR,
    OPERATOR_OWNER,
    OPERATOR_READ_ONLY,
    AuditEntry,
    OperatorInvite,
    OutboxEmail,
    User,
    UserSession,
)
from app.models.types import utcnow
from app.security import is_public_endpoint, read_only_may_send
from app.services import audit
from tests.conftest import Auth, count_rows, csrf_token, post_password_form

NEW_PASSWORD = "senha-da-equipe-1"
INVITE_LINK = re.compile(
    r'id="invite-link" type="text" readonly value="http://localhost(/convite/[^"]+)"'
)


def _make_operator(app, email, role, name="Bruno"):
    from app.services import accounts

    with app.app_context():
        user = accounts.create_operator(email, Auth.PASSWORD, name, operator_role=role)
        db.session.commit()
        return user.id


def _login_as(app, email):
    client = app.test_client()
    assert Auth(app, client).login(email=email).status_code == 302
    return client


def _invite(client, email="nova@example.com", role=OPERATOR_OPERATOR):
    token = csrf_token(client, "/equipe")
    return client.post("/equipe/convites", data={"email": email, "role": role, "csrf_token": token})


def _invite_path(response) -> str:
    match = INVITE_LINK.search(response.get_data(as_text=True))
    assert match, "the invite link is not shown to copy"
    return match.group(1)


def _accept(client, path, name="Carla Nova", password=NEW_PASSWORD, confirm=None):
    return post_password_form(client, path, name, password, confirm)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def owner(auth):
    auth.operator()  # /setup's operator: the owner
    return auth.client


# ------------------------------------------------------------------------------ invites


def test_owner_invites_and_the_invitee_joins_once(app, owner):
    response = _invite(owner)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "na fila" in page or "copie o link" in page
    path = _invite_path(response)
    raw = path.rsplit("/", 1)[1]
    row = db.session.scalar(select(OperatorInvite))
    assert row.token_hash != raw and len(row.token_hash) == 64  # only the hash is stored
    assert row.expires_at - row.created_at == timedelta(days=7)
    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "operator_invite"))
    assert mail.to_email == "nova@example.com" and path in mail.body_text
    assert "Operador" in mail.body_text

    invitee = app.test_client()
    opened = invitee.get(path)
    assert opened.status_code == 200 and "nova@example.com" in opened.get_data(as_text=True)
    joined = _accept(invitee, path)
    assert joined.status_code == 302 and joined.headers["Location"] == "/"
    assert invitee.get("/").status_code == 200  # logged in, on the dashboard
    user = db.session.scalar(select(User).where(User.email == "nova@example.com"))
    assert user.is_admin and user.operator_role == OPERATOR_OPERATOR and user.name == "Carla Nova"
    assert user.password_hash.startswith("$argon2")

    again = app.test_client().get(path)  # single use
    assert again.status_code == 410
    assert "já foi usado" in again.get_data(as_text=True)
    assert audit.OPERATOR_INVITED in _actions() and audit.OPERATOR_JOINED in _actions()


def test_a_used_invite_posted_again_is_refused(app, owner):
    path = _invite_path(_invite(owner))
    first, second = app.test_client(), app.test_client()
    token = csrf_token(second, path)  # the form was open in a second browser
    assert _accept(first, path).status_code == 302
    response = second.post(
        path,
        data={
            "name": "Outra",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 410
    assert "já foi usado" in response.get_data(as_text=True)
    assert count_rows(User, User.email == "nova@example.com") == 1


def test_invite_expires(app, owner):
    path = _invite_path(_invite(owner))
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        response = app.test_client().get(path)
    assert response.status_code == 410
    assert "expirou" in response.get_data(as_text=True)


def test_wrong_token_is_a_readable_404(client, owner):
    response = client.get("/convite/nao-existe-este-token")
    assert response.status_code == 404
    assert "Este convite não existe" in response.get_data(as_text=True)


def test_revoked_invite_stops_working_and_is_logged(app, owner):
    path = _invite_path(_invite(owner))
    row = db.session.scalar(select(OperatorInvite))
    token = csrf_token(owner, "/equipe")
    response = owner.post(f"/equipe/convites/{row.id}/cancelar", data={"csrf_token": token})
    assert response.status_code == 302
    gone = app.test_client().get(path)
    assert gone.status_code == 410 and "cancelado" in gone.get_data(as_text=True)
    assert audit.OPERATOR_INVITE_REVOKED in _actions()
    # the e-mail still waiting in the outbox would carry a dead link: it is cancelled
    from app.services.outbox_messages import _stale_reason

    mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "operator_invite"))
    assert "cancelado" in _stale_reason(mail)


def test_a_new_invite_voids_the_previous_one(app, owner):
    first = _invite_path(_invite(owner))
    second = _invite_path(_invite(owner, role=OPERATOR_READ_ONLY))
    assert app.test_client().get(first).status_code == 410
    assert _accept(app.test_client(), second).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "nova@example.com"))
    assert user.operator_role == OPERATOR_READ_ONLY


def test_invite_accept_follows_the_password_rules(app, owner):
    path = _invite_path(_invite(owner))
    invitee = app.test_client()
    short = _accept(invitee, path, password="curta")
    assert short.status_code == 200 and "pelo menos 8 caracteres" in short.get_data(as_text=True)
    same = _accept(invitee, path, password="nova@example.com")
    assert "igual ao e-mail" in same.get_data(as_text=True)
    mismatch = _accept(invitee, path, confirm="outra-senha-99")
    assert "As senhas não conferem." in mismatch.get_data(as_text=True)
    assert db.session.scalar(select(OperatorInvite.used_at)) is None  # not consumed
    assert _accept(invitee, path).status_code == 302


@pytest.mark.parametrize(
    "email, message",
    [
        ("operador@example.com", "já faz parte da equipe"),
        ("membro@example.com", "é de um comprador"),
        ("sem-arroba", "Informe um e-mail válido."),
    ],
)
def test_invite_refusals_are_readable(app, owner, auth, email, message):
    auth.create(email="membro@example.com", role="member")
    response = _invite(owner, email=email)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_rows(OperatorInvite) == 0


def test_invite_with_an_unknown_role_is_refused_in_portuguese(owner):
    response = _invite(owner, role="superuser")
    assert response.status_code == 422
    assert "Escolha um papel" in response.get_data(as_text=True)
    assert "Not a valid choice" not in response.get_data(as_text=True)


def test_team_forms_need_csrf(app, owner):
    response = owner.post("/equipe/convites", data={"email": "x@example.com", "role": "operator"})
    assert response.status_code == 400
    assert count_rows(OperatorInvite) == 0
    path = _invite_path(_invite(owner))
    response = app.test_client().post(
        path, data={"name": "X", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(OperatorInvite.used_at)) is None


def test_only_the_owner_manages_the_team(app, owner):
    _make_operator(app, "op@example.com", OPERATOR_OPERATOR)
    operator = _login_as(app, "op@example.com")
    page = operator.get("/equipe")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "op@example.com" in html and "Somente o proprietário" in html
    assert "Enviar convite" not in html
    refused = _invite(operator)
    assert refused.status_code == 403
    assert "Somente o proprietário" in refused.get_data(as_text=True)
    owner_id = db.session.scalar(select(User.id).where(User.email == "operador@example.com"))
    token = csrf_token(operator, "/equipe")
    assert (
        operator.post(f"/equipe/{owner_id}/remover", data={"csrf_token": token}).status_code == 403
    )
    assert (
        operator.post(
            f"/equipe/{owner_id}/papel", data={"role": "read_only", "csrf_token": token}
        ).status_code
        == 403
    )


def test_the_team_list_shows_name_email_role_last_login_and_status(app, owner):
    _make_operator(app, "leitor@example.com", OPERATOR_READ_ONLY, name="Lia")
    html = owner.get("/equipe").get_data(as_text=True)
    assert "Lia" in html and "leitor@example.com" in html
    assert "Somente leitura" in html and "Proprietário" in html
    assert "nunca entrou" in html and "Ativo" in html
    assert 'data-label="Último acesso"' in html  # the stacked-table macro


def test_a_removed_operator_can_be_invited_back(app, owner):
    uid = _make_operator(app, "volta@example.com", OPERATOR_OPERATOR)
    token = csrf_token(owner, "/equipe")
    owner.post(f"/equipe/{uid}/remover", data={"csrf_token": token})
    path = _invite_path(_invite(owner, email="volta@example.com", role=OPERATOR_READ_ONLY))
    assert _accept(app.test_client(), path, name="De Volta").status_code == 302
    user = db.session.get(User, uid)
    db.session.refresh(user)
    assert user.active and user.operator_role == OPERATOR_READ_ONLY and user.name == "De Volta"


# ---------------------------------------------------------------------------- read-only


@pytest.fixture
def reader(app, owner):
    _make_operator(app, "leitor@example.com", OPERATOR_READ_ONLY, name="Lia")
    return _login_as(app, "leitor@example.com")


def test_read_only_sees_every_page_and_downloads_csvs(reader):
    for path in ("/", "/vendas", "/ativacoes", "/webhooks", "/configuracoes", "/equipe"):
        response = reader.get(path)
        assert response.status_code == 200, path
    html = reader.get("/vendas").get_data(as_text=True)
    assert "data-read-only" in html and "Acesso somente leitura" in html
    for path in ("/vendas/exportar.csv", "/auditoria/exportar.csv"):
        response = reader.get(path)
        assert response.status_code == 200 and "text/csv" in response.content_type, path


@pytest.mark.parametrize(
    "path",
    [
        "/configuracoes/hotmart",
        "/configuracoes/agendamentos",
        "/ativacoes/1/reenviar",
        "/webhooks/teste",
        "/automacoes/retry-failed",
        "/equipe/convites",
    ],
)
def test_read_only_posts_are_refused_in_portuguese(reader, path):
    token = csrf_token(reader, "/vendas")
    response = reader.post(path, data={"csrf_token": token, "HOTMART_CLIENT_ID": "x"})
    assert response.status_code == 403
    assert "somente leitura" in response.get_data(as_text=True)


def test_read_only_api_writes_are_refused_with_json(reader):
    token = csrf_token(reader, "/vendas")
    response = reader.post(
        "/api/sync/hotmart/sales", headers={"X-CSRFToken": token}, json={"full": True}
    )
    assert response.status_code == 403
    assert "somente leitura" in response.get_json()["error"]["message"]
    assert reader.get("/api/sync-runs/1").status_code in (200, 404)  # reads still answer


def test_read_only_without_csrf_is_still_a_csrf_failure(reader):
    response = reader.post("/configuracoes/hotmart", data={"HOTMART_CLIENT_ID": "x"})
    assert response.status_code == 400


def _url_for_rule(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if "Int" in type(converter).__name__ else "hotmart"
    return rule.build(values, append_unknown=False)[1]


def test_every_state_changing_route_is_refused_to_read_only(app, reader):
    """Walks the url_map, so a route added later is covered without touching this test."""
    token = csrf_token(reader, "/vendas")
    checked = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"GET", "HEAD", "OPTIONS"}
        if not methods or read_only_may_send(rule.endpoint):
            continue  # public endpoints (buyers, webhooks, ways in) and their own account
        url = _url_for_rule(rule)
        for method in sorted(methods):
            response = reader.open(
                url,
                method=method,
                data={"csrf_token": token},
                headers={"X-CSRFToken": token},
            )
            assert response.status_code == 403, (method, url, response.status_code)
            assert "somente leitura" in response.get_data(as_text=True), (method, url)
            checked.append(rule.endpoint)
    assert {"settings.save", "team.invite", "api.start_sync", "access.create_item"} <= set(checked)
    assert len(checked) >= 40
    assert count_rows(OperatorInvite) == 0


def test_public_endpoints_are_the_buyers_and_the_ways_in(app):
    """One list (app/security.py PUBLIC_*) for the setup redirect, the team blueprint and the
    read-only guard; no operator page is in it."""
    public = {r.endpoint for r in app.url_map.iter_rules() if is_public_endpoint(r.endpoint)}
    assert {
        "signup.activate",
        "signup.resend",
        "webhooks.receive",
        "health.healthz",
        "auth.login",
        "auth.logout",
        "auth.forgot_password",
        "auth.reset_password",
        "team.accept",
        "static",
    } <= public
    operator_blueprints = ("dashboard.", "api.", "settings.", "team.", "member.", "access.")
    assert not [e for e in public if e.startswith(operator_blueprints) and e != "team.accept"]
    assert not is_public_endpoint("") and not is_public_endpoint("dashboard.index")


def test_read_only_operator_can_use_a_buyers_activation_link(app_factory, smtp_server):
    """A read-only operator signed in on the shop's computer opens a buyer's link (to help,
    or their own purchase): the signup is the buyer's page, not an operator write."""
    from tests.conftest import WEBHOOK_SECRETS, WebhookSender
    from tests.web.test_signup import link_path, submit

    webhook_app = app_factory(**WEBHOOK_SECRETS, **smtp_server.config())
    with webhook_app.app_context():
        Auth(webhook_app, webhook_app.test_client()).operator()
        _make_operator(webhook_app, "leitor@example.com", OPERATOR_READ_ONLY, name="Lia")
        reader = _login_as(webhook_app, "leitor@example.com")
        WebhookSender(webhook_app.test_client())("hotmart", "purchase_approved")
        path = link_path(smtp_server)

        page = reader.get(path)
        assert page.status_code == 200
        body = re.search(r"<body[^>]*>", page.get_data(as_text=True)).group(0)
        assert "data-read-only" not in body  # static/js/app.js leaves the form usable
        # an expired link's "send me a new one" is the buyer's too
        with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
            token = csrf_token(reader, path)
            resent = reader.post(path + "/reenviar", data={"csrf_token": token})
        assert resent.status_code == 200 and "Novo link enviado" in resent.get_data(as_text=True)
        path = link_path(smtp_server)
        response = submit(reader, path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/conta")
        buyer = db.session.scalar(select(User).where(User.email == "maria@example.com"))
        assert buyer is not None and buyer.role == "member"
        reader = _login_as(webhook_app, "leitor@example.com")  # the signup signed the buyer in
        # ...while an operator page still refuses the same session's writes
        token = csrf_token(reader, "/vendas")
        refused = reader.post("/equipe/convites", data={"csrf_token": token, "email": "x@y.z"})
        assert refused.status_code == 403


def test_read_only_keeps_their_own_password_and_logout(app, reader):
    token = csrf_token(reader, "/conta")
    changed = reader.post(
        "/conta/senha",
        data={
            "current_password": Auth.PASSWORD,
            "password": "outra-senha-123",
            "password_confirm": "outra-senha-123",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 302
    html = reader.get("/conta").get_data(as_text=True)
    assert html.count("data-read-only-ok") >= 3  # logout, profile and password stay usable
    token = csrf_token(reader, "/conta")
    assert reader.post("/logout", data={"csrf_token": token}).status_code == 302
    assert reader.get("/").status_code == 302


def test_a_role_change_applies_on_the_next_request(app, owner):
    uid = _make_operator(app, "op@example.com", OPERATOR_OPERATOR)
    operator = _login_as(app, "op@example.com")
    token = csrf_token(owner, "/equipe")
    response = owner.post(f"/equipe/{uid}/papel", data={"role": "read_only", "csrf_token": token})
    assert response.status_code == 302
    token = csrf_token(operator, "/vendas")
    refused = operator.post("/webhooks/teste", data={"csrf_token": token})
    assert refused.status_code == 403
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == audit.OPERATOR_ROLE_CHANGED)
    )
    assert audit.summary(entry) == "op@example.com — Operador → Somente leitura"


# ------------------------------------------------------------------------------ secrets


def test_an_operator_changes_settings_but_not_secrets(app, owner):
    _make_operator(app, "op@example.com", OPERATOR_OPERATOR)
    operator = _login_as(app, "op@example.com")
    html = operator.get("/configuracoes").get_data(as_text=True)
    assert "Senhas e tokens só podem ser alterados pelo proprietário" in html
    token = csrf_token(operator, "/configuracoes")
    secret = operator.post(
        "/configuracoes/hotmart", data={"HOTMART_CLIENT_SECRET": "s3cr3t", "csrf_token": token}
    )
    assert secret.status_code == 403
    assert "Somente o proprietário" in secret.get_data(as_text=True)
    generated = operator.post("/configuracoes/kiwify/gerar-token", data={"csrf_token": token})
    assert generated.status_code == 403
    plain = operator.post(
        "/configuracoes/hotmart", data={"HOTMART_CLIENT_ID": "client-123", "csrf_token": token}
    )
    assert plain.status_code == 302
    token = csrf_token(owner, "/configuracoes")
    by_owner = owner.post(
        "/configuracoes/hotmart", data={"HOTMART_CLIENT_SECRET": "s3cr3t", "csrf_token": token}
    )
    assert by_owner.status_code == 302


# --------------------------------------------------------------------------- last owner


def test_the_last_owner_cannot_demote_or_remove_themself(app, owner):
    me = db.session.scalar(select(User.id).where(User.email == "operador@example.com"))
    token = csrf_token(owner, "/equipe")
    demote = owner.post(f"/equipe/{me}/papel", data={"role": "operator", "csrf_token": token})
    assert demote.status_code == 409
    assert "pelo menos um proprietário" in demote.get_data(as_text=True)
    remove = owner.post(f"/equipe/{me}/remover", data={"csrf_token": token})
    assert remove.status_code == 409
    user = db.session.get(User, me)
    assert user.active and user.operator_role == OPERATOR_OWNER
    # with a second owner, stepping down is fine, and then the other one is the last
    other = _make_operator(app, "socia@example.com", OPERATOR_OWNER)
    assert (
        owner.post(f"/equipe/{me}/papel", data={"role": "operator", "csrf_token": token})
    ).status_code == 302
    partner = _login_as(app, "socia@example.com")
    token = csrf_token(partner, "/equipe")
    assert partner.post(f"/equipe/{other}/remover", data={"csrf_token": token}).status_code == 409
    owners = db.session.scalar(
        select(func.count(User.id)).where(
            User.operator_role == OPERATOR_OWNER, User.active.is_(True)
        )
    )
    assert owners == 1


# ------------------------------------------------------------------------------ removal


def test_removal_ends_every_session_of_the_operator(app, owner):
    uid = _make_operator(app, "op@example.com", OPERATOR_OPERATOR)
    laptop, phone = _login_as(app, "op@example.com"), _login_as(app, "op@example.com")
    assert count_rows(UserSession, UserSession.user_id == uid) == 2
    token = csrf_token(owner, "/equipe")
    response = owner.post(f"/equipe/{uid}/remover", data={"csrf_token": token})
    assert response.status_code == 302
    assert count_rows(UserSession, UserSession.user_id == uid) == 0
    for client in (laptop, phone):
        page = client.get("/vendas")
        assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert Auth(app, app.test_client()).login(email="op@example.com").status_code == 200
    assert "Removido" in owner.get("/equipe").get_data(as_text=True)
    assert audit.OPERATOR_REMOVED in _actions()


# -------------------------------------------------------------------- lockout and reset


def test_a_reset_by_email_beats_the_per_account_login_limit(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_IP="1000 per minute", LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
    with app.app_context():
        client = app.test_client()
        auth = Auth(app, client)
        auth.create()
        attacker = Auth(app, app.test_client())
        assert [attacker.login(password="chute-0000").status_code for _ in range(3)] == [200] * 3
        assert auth.login().status_code == 429  # the owner is locked out by the guesses
        token = csrf_token(client, "/esqueci-senha")
        asked = client.post(
            "/esqueci-senha", data={"email": "operador@example.com", "csrf_token": token}
        )
        assert asked.status_code == 302
        mail = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "password_reset"))
        link = next(
            ln.strip() for ln in mail.body_text.splitlines() if "/redefinir-senha/" in ln
        ).replace("http://localhost", "")
        token = csrf_token(client, link)
        reset = client.post(
            link,
            data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD, "csrf_token": token},
        )
        assert reset.status_code == 302
        assert auth.login(password=NEW_PASSWORD).status_code == 302  # the limit was cleared


# ------------------------------------------------------------------------------ migration


def test_the_migration_makes_existing_operators_owners(app):
    downgrade(revision="e9b1d3f5a7c2")
    with db.engine.begin() as conn:
        for email, role in (("dono@example.com", "admin"), ("comprador@example.com", "member")):
            conn.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, role, active, session_nonce,"
                    " created_at) VALUES (:e, '', 'x', :r, :a, 'n', :c)"
                ),
                {"e": email, "r": role, "a": True, "c": utcnow()},
            )
    upgrade()
    rows = dict(db.session.execute(select(User.email, User.operator_role)).all())
    assert rows == {"dono@example.com": OPERATOR_OWNER, "comprador@example.com": None}


ENGLISH = re.compile(
    r"\b(Submit|Save|Cancel|Delete|Remove|Invite|Role|Password|Owner|Read-only|Team|"
    r"required|Not a valid choice|Last login|Status|Active)\b"
)


def _visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def test_team_pages_read_in_portuguese(app, owner):
    path = _invite_path(_invite(owner))
    pages = [owner.get("/equipe"), app.test_client().get(path)]
    pages.append(_accept(app.test_client(), path, password="curta"))
    pages.append(app.test_client().get("/convite/errado"))
    for response in pages:
        found = ENGLISH.findall(_visible_text(response.get_data(as_text=True)))
        assert found == [], (response.request.path, found)


# ------------------------------------------------------------------ create-operator --role


def _cli_create(app, *extra):
    args = ["create-operator", "--email", "cli@example.com", "--password", Auth.PASSWORD]
    return app.test_cli_runner().invoke(args=[*args, *extra])


def test_create_operator_cli_is_an_owner_by_default(app):
    result = _cli_create(app)
    assert result.exit_code == 0, result.output
    assert "papel: Proprietário" in result.output
    user = db.session.scalar(select(User).where(User.email == "cli@example.com"))
    assert user.is_admin and user.operator_role == OPERATOR_OWNER


@pytest.mark.parametrize(
    ("given", "stored", "label"),
    [
        ("operator", OPERATOR_OPERATOR, "Operador"),
        ("read_only", OPERATOR_READ_ONLY, "Somente leitura"),
        ("read-only", OPERATOR_READ_ONLY, "Somente leitura"),
        ("OWNER", OPERATOR_OWNER, "Proprietário"),
    ],
)
def test_create_operator_cli_with_a_role(app, given, stored, label):
    result = _cli_create(app, "--role", given)
    assert result.exit_code == 0, result.output
    assert f"papel: {label}" in result.output
    user = db.session.scalar(select(User).where(User.email == "cli@example.com"))
    assert user.operator_role == stored
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "operator.created"))
    assert entry.details["role"] == label
    assert label in audit.describe(entry)


def test_create_operator_cli_refuses_an_unknown_role_in_portuguese(app):
    result = _cli_create(app, "--role", "admin")
    assert result.exit_code != 0
    assert "Papel inválido: admin" in result.output
    assert "owner" in result.output and "read_only" in result.output
    assert count_rows(User) == 0  # nothing created
    help_text = app.test_cli_runner().invoke(args=["create-operator", "--help"]).output
    assert "--role" in help_text and "somente leitura" in help_text


def test_a_read_only_operator_made_by_the_cli_changes_nothing(app):
    assert _cli_create(app, "--role", "read_only").exit_code == 0
    Auth(app, app.test_client()).create(email="dona@example.com")  # an owner: setup is done
    reader = _login_as(app, "cli@example.com")
    token = csrf_token(reader, "/vendas")
    response = reader.post("/configuracoes/hotmart", data={"csrf_token": token})
    assert response.status_code == 403
