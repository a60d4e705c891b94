"""The webhook lane (app/webhooks/lane.py): a delivery skips the page-only request hooks but
keeps what matters for a JSON API — the request id, the security headers, no cookie — and the
same answers (2xx bodies, 401, 413, 404, 429)."""

from __future__ import annotations

import json

import pytest

from app.extensions import limiter
from tests.conftest import WEBHOOK_SECRETS, WebhookSender, load_fixture

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Strict-Transport-Security",
)


@pytest.fixture
def lane_app(app_factory):
    app = app_factory(**WEBHOOK_SECRETS)
    with app.app_context():
        yield app


def _security(response) -> dict:
    return {name: response.headers.get(name) for name in SECURITY_HEADERS}


@pytest.mark.parametrize("https", [False, True])
def test_a_delivery_gets_the_security_headers_a_page_gets(app_factory, https):
    app = app_factory(**WEBHOOK_SECRETS, **({"APP_URL": "https://hub.example"} if https else {}))
    with app.app_context():
        client = app.test_client()
        base = "https://localhost" if https else "http://localhost"
        page = client.get("/healthz", base_url=base)
        sender = WebhookSender(client)
        for i in range(2):  # the first computes the lane's copy, the second reuses it
            body = load_fixture("hotmart", "purchase_approved")
            body["id"] = f"lane-headers-{https}-{i}"
            delivery = sender.client.post(
                "/webhook/hotmart",
                data=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "X-HOTMART-HOTTOK": WEBHOOK_SECRETS["HOTMART_WEBHOOK_HOTTOK"],
                },
                base_url=base,
            )
            assert delivery.status_code == 200
            assert _security(delivery) == _security(page)
        assert delivery.headers["X-Content-Type-Options"] == "nosniff"
        assert delivery.headers["X-Frame-Options"] == "DENY"
        assert ("Strict-Transport-Security" in delivery.headers) is https


def test_a_delivery_echoes_its_request_id_and_sets_no_cookie(lane_app):
    sender = WebhookSender(lane_app.test_client())
    response = sender.raw(
        "hotmart",
        b'{"id": "lane-rid", "event": "PURCHASE_APPROVED"}',
        headers={"X-Request-ID": "delivery-0123456789"},
    )
    assert response.headers["X-Request-ID"] == "delivery-0123456789"
    assert "Set-Cookie" not in response.headers
    generated = sender("hotmart", "purchase_approved").headers["X-Request-ID"]
    assert len(generated) == 16


def test_answers_are_the_ones_jsonify_gave(lane_app):
    sender = WebhookSender(lane_app.test_client())
    first = sender("hotmart", "purchase_approved")
    again = sender("hotmart", "purchase_approved")
    assert first.status_code == again.status_code == 200
    assert first.mimetype == "application/json"
    assert first.get_data() == b'{"status": "accepted"}\n'
    assert again.get_json() == {"status": "duplicate"}
    refused = sender("hotmart", "purchase_approved", secret="wrong-hottok-0123456789")
    assert refused.status_code == 401 and refused.get_json()["success"] is False
    assert lane_app.test_client().post("/webhook/nope", data=b"{}").status_code == 404


def test_the_page_limiter_is_not_consulted_but_the_webhook_limit_still_counts(
    app_factory, monkeypatch
):
    app = app_factory(**WEBHOOK_SECRETS, WEBHOOK_RATE_LIMIT="2 per minute")
    calls = []
    real = type(limiter)._Limiter__filter_limits

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(limiter), "_Limiter__filter_limits", spy)
    with app.app_context():
        client = app.test_client()
        client.get("/healthz")
        assert calls  # a page request is evaluated by Flask-Limiter
        calls.clear()
        sender = WebhookSender(client)
        answers = [sender("hotmart", "purchase_approved").status_code for _ in range(3)]
    assert answers == [200, 200, 429]  # counted by app.ratelimit.webhook_allowed
    assert calls == []


def test_a_declared_body_over_the_cap_is_refused_before_the_view(app_factory):
    app = app_factory(**WEBHOOK_SECRETS, MAX_CONTENT_LENGTH=1024)
    with app.app_context():
        response = app.test_client().post(
            "/webhook/hotmart",
            data=b"{" + b" " * 4096 + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 413


def test_every_hook_the_lane_skips_is_still_found_in_the_extensions(app):
    """The lane names private hooks of Flask-Limiter, Talisman and Flask-Login softly (a
    rename only stops the skip): this test is what notices a rename after an upgrade."""
    from app.extensions import talisman
    from app.webhooks.lane import _Lane, _skipped

    before, after = _skipped(app)
    assert len(before) == 5  # limiter, unstorable input, setup, nonce, CSRF
    assert len(after) == 3  # no-store, remember cookie, limiter headers
    assert _Lane(app).talisman_headers == talisman._set_response_headers
