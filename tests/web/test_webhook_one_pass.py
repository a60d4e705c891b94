"""One pass per delivery: one JSON decode, one normalization, two commits per approval; the
outbox is kicked by the session's after_commit hook; the webhook secret is cached per process."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import event, select

from app import events, sources
from app.extensions import db
from app.models import OutboxEmail, WebhookEvent
from app.services import outbox
from app.services import settings as settings_service
from tests.conftest import WEBHOOK_SECRETS, WebhookSender, load_fixture, signed_request

APPROVALS = {
    "hotmart": "purchase_approved",
    "kiwify": "order_approved",
    "kirvano": "sale_approved",
    "eduzz": "invoice_paid",
}


@pytest.fixture
def counters(monkeypatch):
    """Count body decodes (``json.loads`` of the delivered bytes), normalizations and commits."""
    counts = {"decodes": 0, "parses": 0, "commits": 0}
    bodies: set[bytes] = set()
    real_loads = json.loads

    def loads(value, *args, **kwargs):
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if raw in bodies:
            counts["decodes"] += 1
        return real_loads(value, *args, **kwargs)

    monkeypatch.setattr(json, "loads", loads)
    for platform in APPROVALS:
        source = sources.SOURCES[platform]

        def parse(body, _real=source.parse):
            counts["parses"] += 1
            return _real(body)

        # descriptors are frozen: swap the registry entry for a copy with a counting parse
        monkeypatch.setitem(sources.SOURCES, platform, dataclasses.replace(source, parse=parse))

    def on_commit(_conn):
        counts["commits"] += 1

    event.listen(db.engine, "commit", on_commit)
    yield counts, bodies
    event.remove(db.engine, "commit", on_commit)


@pytest.fixture
def plain_app(app_factory):
    """Secrets set, no SMTP: the commits counted are the webhook's own."""
    app = app_factory(**WEBHOOK_SECRETS)
    with app.app_context():
        yield app


@pytest.mark.parametrize("platform", sorted(APPROVALS))
def test_an_approval_is_decoded_and_normalized_once_and_commits_twice(
    platform, plain_app, counters
):
    counts, bodies = counters
    client = plain_app.test_client()
    raw = json.dumps(load_fixture(platform, APPROVALS[platform])).encode()
    signed = signed_request(platform, raw)  # the sender's own decode is not the app's
    bodies.add(raw)

    def deliver():
        return client.post(
            f"/webhook/{platform}",
            data=raw,
            headers={"Content-Type": "application/json", **signed["headers"]},
            query_string=signed["query_string"],
        )

    response = deliver()
    assert response.get_json() == {"status": "accepted"}
    # the raw event committed on its own (durable before the 2xx), then its processing
    assert counts == {"decodes": 1, "parses": 1, "commits": 2}
    row = db.session.scalar(select(WebhookEvent))
    assert row.status == "processed" and row.sale_id is not None

    counts.update(decodes=0, parses=0, commits=0)
    again = deliver()
    assert again.get_json() == {"status": "duplicate"}
    assert counts == {"decodes": 1, "parses": 1, "commits": 1}  # the duplicate counter


def test_the_outbox_is_kicked_by_the_commit_not_by_the_caller(webhook_app, smtp_server):
    with webhook_app.test_request_context():
        db.session.add(
            OutboxEmail(
                kind="generic",
                to_email="a@example.com",
                subject="s",
                body_text="t",
                body_html="<p>t</p>",
            )
        )
        events.mark_outbox_queued()
        db.session.rollback()  # never committed: nothing is sent
        assert smtp_server.messages == []
        db.session.add(
            OutboxEmail(
                kind="generic",
                to_email="b@example.com",
                subject="s",
                body_text="t",
                body_html="<p>t</p>",
            )
        )
        db.session.commit()  # committed without the hook's mark: not kicked
        assert smtp_server.messages == []
        outbox.retry(db.session.scalar(select(OutboxEmail)))  # marks the transaction
        db.session.commit()
    assert [str(m["To"]) for m in smtp_server.messages] == ["b@example.com"]


def test_the_secret_is_cached_and_a_settings_change_applies_at_once(plain_app, monkeypatch):
    reads = []
    real_get = settings_service.get
    monkeypatch.setattr(settings_service, "get", lambda key: reads.append(key) or real_get(key))
    sender = WebhookSender(plain_app.test_client())
    for i in range(3):
        body = load_fixture("kirvano", "pix_generated")
        body["event_id"] = f"cache-{i}"
        assert sender("kirvano", body).status_code == 200
    # Each read once, then from the process cache (the automation switch is read for the PIX:
    # a recovery lead in Kommo when switched on).
    assert reads == ["KIRVANO_WEBHOOK_SECRET", "KOMMO_PUSH_SALES"]

    settings_service.set_value("KIRVANO_WEBHOOK_SECRET", "novo-token-0123456789")
    db.session.commit()  # the after_commit hook drops the cached copy
    body = load_fixture("kirvano", "pix_generated")
    body["event_id"] = "cache-new"
    assert sender("kirvano", body).status_code == 401  # the old token no longer works
    assert sender("kirvano", body, secret="novo-token-0123456789").status_code == 200


def test_a_secret_changed_elsewhere_is_read_again_before_a_401(plain_app):
    sender = WebhookSender(plain_app.test_client())
    assert sender("kirvano", "pix_generated").status_code == 200  # caches the env secret
    # another process saved a new token: this process's copy is stale
    settings_service.set_value("KIRVANO_WEBHOOK_SECRET", "outro-token-0123456789")
    db.session.info.pop(settings_service.CHANGED_INFO)  # as if committed elsewhere
    db.session.commit()
    body = load_fixture("kirvano", "pix_generated")
    body["event_id"] = "elsewhere"
    assert sender("kirvano", body, secret="outro-token-0123456789").status_code == 200
