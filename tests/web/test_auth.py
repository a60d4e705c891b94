"""Setup, login/logout, throttling, CSRF, safe redirects, roles, password reset."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail, PasswordResetToken, User
from app.models.types import utcnow
from tests.conftest import csrf_token


def test_every_page_redirects_to_setup_until_an_operator_exists(client):
    for path in ("/", "/login", "/configuracoes", "/vendas"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/setup")
    assert client.get("/healthz").status_code == 200


def test_setup_creates_first_operator_once(client, app):
    token = csrf_token(client, "/setup")
    response = client.post(
        "/setup",
        data={
            "name": "Ana",
            "email": "Ana@Example.com ",
            "password": "senha-forte-1",
            "password_confirm": "senha-forte-1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    user = db.session.scalar(select(User))
    assert user.email == "ana@example.com" and user.is_admin
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/").status_code == 200  # logged in right away
    # Setup is closed now, for everyone.
    other = app.test_client()
    assert other.get("/setup").headers["Location"].endswith("/login")
    token = csrf_token(other, "/login")
    other.post(
        "/setup",
        data={
            "name": "X",
            "email": "x@example.com",
            "password": "outra-senha-1",
            "password_confirm": "outra-senha-1",
            "csrf_token": token,
        },
    )
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_setup_rejects_weak_password_and_mismatch(client):
    token = csrf_token(client, "/setup")
    response = client.post(
        "/setup",
        data={
            "name": "Ana",
            "email": "ana@example.com",
            "password": "curta",
            "password_confirm": "curta",
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    assert "pelo menos 8 caracteres" in response.get_data(as_text=True)
    response = client.post(
        "/setup",
        data={
            "name": "Ana",
            "email": "ana@example.com",
            "password": "senha-forte-1",
            "password_confirm": "senha-forte-2",
            "csrf_token": token,
        },
    )
    assert "As senhas não conferem" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(User.id))) == 0


def test_login_success_and_generic_failure(client, auth):
    auth.create()
    wrong_password = auth.login(password="errada-123456")
    unknown_email = auth.login(email="ninguem@example.com")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert "E-mail ou senha inválidos." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_login_starts_a_fresh_session(client, auth):
    auth.create()
    with client.session_transaction() as sess:
        sess["planted"] = "attacker-value"
    auth.login()
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert "_remember" not in sess or sess["_remember"] != "set"


def test_logout_requires_post(client, auth):
    auth.operator()
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_is_throttled_per_ip(client, auth):
    auth.create()
    statuses = [auth.login(email=f"x{i}@example.com").status_code for i in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert "Muitas tentativas" in auth.login().get_data(as_text=True)


def test_login_is_throttled_per_account(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_IP="1000 per minute", LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
    with app.app_context():
        from tests.conftest import Auth

        client = app.test_client()
        auth = Auth(app, client)
        auth.create()
        statuses = [auth.login(password="errada-999").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert auth.login(email="outra@example.com").status_code == 200  # other account ok


def test_csrf_is_enforced(client, auth):
    auth.create()
    response = client.post(
        "/login", data={"email": "operador@example.com", "password": auth.PASSWORD}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    response = client.post(
        "/login",
        data={"email": "operador@example.com", "password": auth.PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/",
        "//evil.example.com/x",
        "/\\evil.example.com",
        "javascript:x",
        "http:/evil.example.com",
        "/%0d%0aevil",
    ],
)
def test_login_next_rejects_external_targets(client, auth, target):
    auth.create()
    response = auth.login(next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/", "/%0d%0aevil"), location
    assert "evil" not in location or location.startswith("/%0d")


def test_login_next_allows_local_paths(client, auth):
    auth.create()
    response = auth.login(next_url="/configuracoes")
    assert response.headers["Location"] == "/configuracoes"


def test_member_gets_403_on_operator_pages(client, auth):
    auth.member()
    assert client.get("/conta").status_code == 200
    for path in ("/configuracoes", "/vendas", "/webhooks"):
        assert client.get(path).status_code == 403
    assert client.get("/").headers["Location"].endswith("/conta")  # a buyer's home
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def _request_reset(client, email="operador@example.com"):
    token = csrf_token(client, "/esqueci-senha")
    return client.post("/esqueci-senha", data={"email": email, "csrf_token": token})


def _reset_link() -> str:
    mail = db.session.scalar(select(OutboxEmail).order_by(OutboxEmail.id.desc()))
    assert mail.kind == "password_reset"
    line = next(ln for ln in mail.body_text.splitlines() if "/redefinir-senha/" in ln)
    return line.strip().replace("http://localhost", "")


def test_password_reset_is_single_use(client, auth):
    auth.create()
    response = _request_reset(client)
    assert response.status_code == 302
    link = _reset_link()
    raw_token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(PasswordResetToken))
    assert stored.token_hash != raw_token and len(stored.token_hash) == 64  # only the hash
    assert client.get(link).status_code == 200
    token = csrf_token(client, link)
    response = client.post(
        link,
        data={
            "password": "nova-senha-123",
            "password_confirm": "nova-senha-123",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert auth.login(password="nova-senha-123").status_code == 302
    # Second use of the same link fails.
    assert client.get(link).status_code == 410
    token = csrf_token(client, "/conta")
    response = client.post(
        link,
        data={
            "password": "outra-senha-123",
            "password_confirm": "outra-senha-123",
            "csrf_token": token,
        },
    )
    assert response.status_code == 410


def test_password_reset_expires(client, auth):
    auth.create()
    _request_reset(client)
    link = _reset_link()
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        assert client.get(link).status_code == 410


def test_password_reset_does_not_reveal_accounts(client, auth):
    auth.create()
    known = _request_reset(client)
    unknown = _request_reset(client, "ninguem@example.com")
    assert known.status_code == unknown.status_code == 302
    assert db.session.scalar(select(db.func.count(OutboxEmail.id))) == 1


def test_password_change_ends_other_sessions(app, client, auth):
    auth.operator()
    other = app.test_client()
    from tests.conftest import Auth

    Auth(app, other).login()
    assert other.get("/").status_code == 200
    token = csrf_token(client, "/conta")
    response = client.post(
        "/conta/senha",
        data={
            "current_password": auth.PASSWORD,
            "password": "trocada-123456",
            "password_confirm": "trocada-123456",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session continues
    assert other.get("/").status_code == 302  # the other one is logged out
