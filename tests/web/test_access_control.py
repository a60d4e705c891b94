"""Every route except the public ones requires an operator."""

import re

import pytest

from tests.conftest import Auth

PUBLIC_ENDPOINTS = {
    "static",
    "health.healthz",
    "auth.login",
    "auth.setup",
    "auth.forgot_password",
    "auth.reset_password",
    "team.accept",  # an operator invite: the single-use token is the credential
}
PUBLIC_BLUEPRINTS = {"webhooks", "signup"}
# Logged-in users of any role (a member's own area, and leaving).
ANY_USER_ENDPOINTS = {
    "member.account",
    "member.update_profile",
    "member.change_password",
    "member.new_telegram_link",
    "auth.logout",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        blueprint = endpoint.split(".", 1)[0] if "." in endpoint else None
        if endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield endpoint, method, path


def test_there_are_protected_routes(app):
    assert len(list(_routes(app))) >= 12


def test_anonymous_is_sent_to_login(app, client):
    Auth(app, client).create()  # past /setup
    for endpoint, method, path in _routes(app):
        response = client.open(path, method=method)
        if method in ("POST", "PUT", "PATCH", "DELETE") and response.status_code == 400:
            continue  # CSRF rejects before anything else; also not allowed
        assert response.status_code in (302, 401), (endpoint, method, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], endpoint


@pytest.mark.parametrize("csrf_enabled", [False])
def test_member_is_forbidden(app_factory, csrf_enabled):
    app = app_factory(WTF_CSRF_ENABLED=csrf_enabled)
    with app.app_context():
        client = app.test_client()
        Auth(app, client).member()
        for endpoint, method, path in _routes(app):
            if endpoint in ANY_USER_ENDPOINTS:
                continue
            response = client.open(path, method=method)
            if endpoint == "dashboard.index":  # a buyer's home: their account page
                assert response.status_code == 302
                assert response.headers["Location"].endswith("/conta")
                continue
            assert response.status_code == 403, (endpoint, method, response.status_code)
