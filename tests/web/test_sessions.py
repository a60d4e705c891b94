"""Server-side sessions: logout kills copied cookies, fresh session at login, cache and cookie
flags on authenticated pages."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import UserSession
from tests.conftest import CSRF_RE, Auth, csrf_token

SESSION_COOKIE = "session"


def _cookie(client) -> str:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return cookie.value


def _client_with(app, value: str):
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def _sessions() -> int:
    return db.session.scalar(select(func.count(UserSession.id)))


def test_operator_cookie_copied_before_logout_is_dead_after_it(app, client, auth):
    auth.operator()
    stolen = _cookie(client)
    thief = _client_with(app, stolen)
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    assert _sessions() == 1
    assert auth.logout().status_code == 302
    assert _sessions() == 0
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    api = thief.get("/api/sync-runs/1", headers={"Accept": "application/json"})
    assert api.status_code == 401


def test_member_cookie_copied_before_logout_is_dead_after_it(app, client, auth):
    auth.member()
    stolen = _cookie(client)
    thief = _client_with(app, stolen)
    assert thief.get("/conta").status_code == 200
    auth.logout()
    response = thief.get("/conta")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_keeps_the_other_devices_of_the_same_user(app, client, auth):
    auth.operator()
    laptop = app.test_client()
    Auth(app, laptop).login()
    assert _sessions() == 2
    auth.logout()
    assert client.get("/").status_code == 302
    assert laptop.get("/").status_code == 200  # logout is per browser, by design


def test_password_change_ends_every_other_session_record(app, client, auth):
    auth.member()
    phone = app.test_client()
    Auth(app, phone).login(email="membro@example.com")
    stolen = _cookie(client)
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
    assert client.get("/conta").status_code == 200  # this browser continues (new session)
    assert phone.get("/conta").status_code == 302
    assert _client_with(app, stolen).get("/conta").status_code == 302  # pre-change cookie dead
    assert _sessions() == 1  # only the new one of this browser


def test_login_renews_the_session_id(app, client, auth):
    auth.create()
    csrf_token(client, "/login")
    before_login = _cookie(client)
    auth.login()
    first = _cookie(client)
    assert first != before_login
    # A cookie planted before login never becomes a logged-in one.
    assert _client_with(app, before_login).get("/").status_code == 302
    with client.session_transaction() as sess:
        first_id = sess["_user_id"]
    # Logging in again (e.g. after logout) gets another server-side session.
    auth.logout()
    auth.login()
    with client.session_transaction() as sess:
        second_id = sess["_user_id"]
    assert first_id.split(":")[2] != second_id.split(":")[2]
    assert _client_with(app, first).get("/").status_code == 302


def test_legacy_or_forged_session_ids_are_refused(app, client, auth):
    auth.operator()
    with client.session_transaction() as sess:
        ident, nonce, _token = sess["_user_id"].split(":")
    for forged in (f"{ident}:{nonce}", f"{ident}:{nonce}:", f"{ident}:{nonce}:guess", "9" * 40):
        other = app.test_client()
        with other.session_transaction() as sess:
            sess["_user_id"] = forged
            sess["_fresh"] = True
        assert other.get("/").status_code == 302, forged


def test_expired_session_record_no_longer_logs_in(app, client, auth):
    from datetime import timedelta

    import time_machine

    from app.models.types import utcnow

    auth.operator()
    assert client.get("/").status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert client.get("/").status_code == 302


def test_authenticated_pages_are_no_store_for_operators(client, auth):
    anonymous = client.get("/login")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    login = auth.operator()
    assert login.headers["Cache-Control"] == "no-store"
    for path in ("/", "/vendas", "/ativacoes", "/webhooks", "/configuracoes", "/conta"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Pragma"] == "no-cache"
    api = client.get("/api/hotmart/products", headers={"Accept": "application/json"})
    assert api.headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    logout = auth.logout()
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    assert logout.status_code == 302


def test_authenticated_pages_are_no_store_for_members(client, auth):
    auth.member()
    response = client.get("/conta")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"  # even the 403


def _set_cookie_headers(response) -> list[str]:
    return [v for k, v in response.headers.items() if k.lower() == "set-cookie"]


def test_session_cookie_is_secure_with_force_https(app_factory):
    app = app_factory(FORCE_HTTPS="true")  # APP_URL stays http://localhost
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    with app.app_context():
        client = app.test_client()
        plain = client.get("/login", base_url="http://localhost")
        assert plain.status_code in (301, 302) and plain.headers["Location"].startswith("https://")
        Auth(app, client).create()
        https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
        page = client.get("/login", base_url="https://localhost")
        token = next(g for g in CSRF_RE.search(page.get_data(as_text=True)).groups() if g)
        response = client.post(
            "/login",
            data={"email": "operador@example.com", "password": Auth.PASSWORD, "csrf_token": token},
            **https,
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        cookies = _set_cookie_headers(response)
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies), cookies
        assert client.get("/", base_url="https://localhost").status_code == 200


def test_session_cookie_is_not_secure_on_plain_http_dev(client, auth):
    response = auth.operator()
    assert all("Secure" not in c for c in _set_cookie_headers(response))
