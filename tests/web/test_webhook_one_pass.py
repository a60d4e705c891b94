"""One pass per delivery: one JSON decode, one normalization, two commits per approval; the
outbox is kicked by the session's after_commit hook; the webhook secret is cached per process."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from app import events, sources
from app.extensions import db
from app.models import ActivationLink, OutboxEmail, WebhookEvent
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


# ---------------------------------------------------------------------------------------------
# Statements and commits of the background processing, locked in (issue #13). A new approval of
# a buyer who is not a member yet, one product: INSERT sale (ON CONFLICT DO NOTHING RETURNING),
# UPDATE sale (its fields), INSERT status change, SELECT user, SELECT the purchase's sales,
# INSERT link, SELECT the product's access rules (the e-mail lists what the purchase gives),
# INSERT outbox e-mail. The batch's own statements (claim, load, one executemany
# recording every row) and its one commit are shared by all its events.
PER_APPROVAL = 8
# (SQLite: a read probe before the write lock) claim, load, record; the batch's customer keys
# (app.services.customers.index: one INSERT for all its sales) and their CRM match (one SELECT
# of the keys Kommo contacts share, app.services.customers.matches); after the commit, the
# outbox kick reads the mail settings
BATCH_OVERHEAD = 7


@pytest.fixture
def queued_app(app_factory):
    """Deliveries stored and handed to no worker thread: the test processes them itself."""
    app = app_factory(**WEBHOOK_SECRETS, WEBHOOK_PROCESS_INLINE=False, WORKER_THREADS=0)
    with app.app_context():
        yield app


def _counted(fn):
    seen = {"statements": 0, "commits": 0}

    def on_statement(*_args):
        seen["statements"] += 1

    def on_commit(_conn):
        seen["commits"] += 1

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    return result, seen


def _stored_approvals(app, prefix: str, n: int) -> dict:
    from app.services import webhooks

    sender = WebhookSender(app.test_client())
    for i in range(n):
        body = load_fixture("hotmart", "purchase_approved")
        body["id"] = f"{prefix}-{i}"
        body["data"]["purchase"]["transaction"] = f"HP{prefix}{i}"
        body["data"]["buyer"]["email"] = f"{prefix.lower()}{i}@example.com"
        assert sender("hotmart", body).get_json() == {"status": "accepted"}
    rows = db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.dedupe_key.like(f"%{prefix}-%"))
    ).all()
    handed = {row.id: webhooks.stored_event(row) for row in rows}
    db.session.rollback()
    return handed


def test_a_batch_of_approvals_costs_eight_statements_each_and_one_commit(queued_app):
    from app.services import automations, webhooks

    one = _stored_approvals(queued_app, "ONE", 1)
    five = _stored_approvals(queued_app, "FIVE", 5)
    automations.enabled_targets()  # the automation switch is a cached setting: read it first
    results, single = _counted(lambda: webhooks.process_batch(one))
    assert [status for _, status in results] == ["processed"]
    results, batch = _counted(lambda: webhooks.process_batch(five))
    assert [status for _, status in results] == ["processed"] * 5
    # was 14 per approval (a savepoint around each, a SELECT and a savepoint around the new
    # sale, the pending-link lookup, the purchase read twice, one UPDATE of each event)
    assert batch["statements"] - single["statements"] == 4 * PER_APPROVAL
    assert single["statements"] <= PER_APPROVAL + BATCH_OVERHEAD
    assert single["commits"] == batch["commits"] == 1
    assert db.session.scalar(select(func.count()).select_from(ActivationLink)) == 6
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 6


def test_a_sweep_counts_the_attempt_in_a_commit_of_its_own(queued_app):
    from app.services import webhooks

    _stored_approvals(queued_app, "SWEEP", 3)
    results, seen = _counted(lambda: webhooks.process_batch(grace=timedelta(0)))
    assert [status for _, status in results] == ["processed"] * 3
    assert seen["commits"] == 2  # the attempts (durable before the work), then the work


def _five_queued_emails(app_factory, smtp_server, monkeypatch):
    from app.services import mail_settings

    app = app_factory(**smtp_server.config())
    connections = []
    real_connect = mail_settings.connect
    monkeypatch.setattr(
        mail_settings, "connect", lambda smtp: connections.append(1) or real_connect(smtp)
    )
    with app.app_context():
        for i in range(5):  # added without the after-commit kick: sent by the call below
            db.session.add(
                OutboxEmail(
                    kind="generic",
                    to_email=f"m{i}@example.com",
                    subject="s",
                    body_text="t",
                    body_html="<p>t</p>",
                )
            )
        db.session.commit()
    return app, connections


def test_a_batch_is_one_claim_one_connection_and_each_accepted_email_committed_at_once(
    app_factory, smtp_server, monkeypatch
):
    """Each e-mail the server accepted is recorded as sent before the next one is handed to it:
    a sender killed (SIGKILL) mid-batch re-sends at most the one message in flight."""
    from app.services import mail_settings

    app, connections = _five_queued_emails(app_factory, smtp_server, monkeypatch)
    recorded_when_handed: list[int] = []
    counting_connect = mail_settings.connect

    def connect(smtp):
        host = counting_connect(smtp)
        real_send = host.send_message

        def send_message(message, *args, **kwargs):
            with db.engine.connect() as other:  # what another process would see committed
                recorded_when_handed.append(
                    other.scalar(
                        select(func.count())
                        .select_from(OutboxEmail)
                        .where(OutboxEmail.status == "sent")
                    )
                )
            return real_send(message, *args, **kwargs)

        host.send_message = send_message
        return host

    monkeypatch.setattr(mail_settings, "connect", connect)
    with app.app_context():
        counts, seen = _counted(outbox.send_pending)
        statuses = set(db.session.scalars(select(OutboxEmail.status)))
    assert counts["sent"] == 5 and len(smtp_server.messages) == 5
    assert len(connections) == 1
    assert recorded_when_handed == [0, 1, 2, 3, 4]
    assert seen["commits"] == 1 + 5  # the batch's claim, then one per accepted e-mail
    assert statuses == {"sent"}
