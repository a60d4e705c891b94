"""Login enumeration by timing (checked structurally: the same hashing work runs for known and
unknown e-mails, no clock involved) and open redirects through every ``next``/``back``."""

from __future__ import annotations

from urllib.parse import quote

import argon2
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivationLink, User
from tests.conftest import Auth, csrf_token


class HasherSpy:
    """Counts the Argon2 work of each request and records the parameters it ran with."""

    def __init__(self, monkeypatch):
        self.verify_params, self.hashes = [], 0
        real_verify, real_hash = argon2.PasswordHasher.verify, argon2.PasswordHasher.hash
        spy = self

        def verify(hasher, hash_, password):
            spy.verify_params.append(argon2.extract_parameters(hash_))
            return real_verify(hasher, hash_, password)

        def hash_(hasher, password, *args, **kwargs):
            spy.hashes += 1
            return real_hash(hasher, password, *args, **kwargs)

        monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)
        monkeypatch.setattr(argon2.PasswordHasher, "hash", hash_)

    def take(self):
        taken = (list(self.verify_params), self.hashes)
        self.verify_params.clear()
        self.hashes = 0
        return taken


def test_known_and_unknown_emails_run_the_same_password_hash(app, client, auth, monkeypatch):
    auth.create()
    auth.create(email="inativo@example.com", role="member")
    inactive = db.session.scalar(select(User).where(User.email == "inativo@example.com"))
    inactive.active = False
    db.session.commit()
    real_params = argon2.extract_parameters(
        db.session.scalar(select(User.password_hash).where(User.email == "operador@example.com"))
    )
    # The first password check of the process builds the dummy hash, whatever the e-mail.
    auth.login(password="errada-aquecimento")
    spy = HasherSpy(monkeypatch)
    cases = {
        "known, wrong password": {"password": "errada-123456"},
        "unknown e-mail": {"email": "ninguem@example.com"},
        "inactive account": {"email": "inativo@example.com"},
        "unknown, odd case": {"email": "NINGUEM2@Example.com"},
    }
    work = {}
    for name, kwargs in cases.items():
        response = auth.login(**kwargs)
        assert response.status_code == 200, name
        assert "E-mail ou senha inválidos." in response.get_data(as_text=True)
        work[name] = spy.take()
    for name, (verifies, hashes) in work.items():
        # Exactly one Argon2 verification, with the very parameters of real hashes, no more.
        assert verifies == [real_params], name
        assert hashes == 0, name
    assert len({str(v) for v in work.values()}) == 1  # identical work in every case


def test_the_same_page_answers_known_and_unknown_emails(client, auth):
    auth.create()
    known = auth.login(password="errada-123456")
    unknown = auth.login(email="ninguem@example.com")
    assert known.status_code == unknown.status_code == 200

    def body(response):
        import re

        # Without the per-request CSRF token and the e-mail typed back into the form.
        return re.sub(r'(value|content)="[^"]*"', "", response.get_data(as_text=True))

    assert body(known).replace("operador@example.com", "X") == body(unknown).replace(
        "ninguem@example.com", "X"
    )
    assert set(known.headers.keys()) == set(unknown.headers.keys())


HOSTILE_TARGETS = [
    "https://evil.example.com/",
    "http://evil.example.com",
    "//evil.example.com/x",
    "///evil.example.com/x",
    "////evil.example.com",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "/\\/evil.example.com",
    "\\/evil.example.com",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:/evil.example.com",
    "https:evil.example.com",
    "/\tevil.example.com",
    "/\t/evil.example.com",
    "/\r\n/evil.example.com",
    "/\x00/evil.example.com",
    " //evil.example.com",
    "evil.example.com",
    "@evil.example.com",
    "/%0d%0aSet-Cookie:x=1",
]


def _location_is_local(location: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    return (
        location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
        and not parts.scheme
        and not parts.netloc
        and "\r" not in location
        and "\n" not in location
    )


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_login_next_never_leaves_the_site(client, auth, target):
    auth.create()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=" + quote(target, safe=""),
        data={"email": "operador@example.com", "password": Auth.PASSWORD, "csrf_token": token},
    )
    if "\x00" in target:  # NUL anywhere in a request is refused before any redirect
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302
    location = response.headers["Location"]
    assert _location_is_local(location), (target, location)
    assert "evil" not in location or location.startswith("/%0d"), location


def test_login_redirect_round_trip_keeps_a_local_next(client, auth):
    auth.create()
    first = client.get("/vendas?page=2")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?next=")
    token = csrf_token(client, "/login")
    response = client.post(
        login_url,
        data={"email": "operador@example.com", "password": Auth.PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/vendas?page=2"


def test_activation_back_field_never_leaves_the_site(webhook_app, send_webhook):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    assert send_webhook("hotmart", "purchase_approved").status_code == 200
    link = db.session.scalar(select(ActivationLink))
    token = csrf_token(client, "/ativacoes")
    for target in HOSTILE_TARGETS:  # the first revokes, the others redirect with a warning
        response = client.post(
            f"/ativacoes/{link.id}/revogar", data={"csrf_token": token, "back": target}
        )
        if "\x00" in target:  # NUL anywhere in a request is refused before any redirect
            assert response.status_code == 400 and "Location" not in response.headers
            continue
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert _location_is_local(location), (target, location)
        assert location == "/ativacoes" or location.startswith("/%0d"), location


def test_activation_back_field_keeps_local_filters(webhook_app, send_webhook):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    send_webhook("hotmart", "purchase_approved")
    link = db.session.scalar(select(ActivationLink))
    token = csrf_token(client, "/ativacoes")
    response = client.post(
        f"/ativacoes/{link.id}/revogar",
        data={"csrf_token": token, "back": "/ativacoes?status=pending"},
    )
    assert response.headers["Location"] == "/ativacoes?status=pending"
