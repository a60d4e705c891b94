"""A burst of kicks (one per committed approval, by the after_commit hook) queues one
background delivery, and no e-mail is left behind."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.services import outbox
from tests.conftest import WEBHOOK_SECRETS, WebhookSender, load_fixture
from tests.faults.faultkit import wait_until


def test_a_burst_of_kicks_queues_one_delivery_and_sends_every_email_once(app_factory, smtp_server):
    app = app_factory(
        **WEBHOOK_SECRETS,
        **smtp_server.config(),
        SEND_MAIL_IN_BACKGROUND=True,
    )
    with app.app_context():
        sender = WebhookSender(app.test_client())
        outbox.kick()  # creates the background executor (nothing to send)
        started, gate = threading.Event(), threading.Event()

        def occupy():
            started.set()
            gate.wait(30)

        busy = outbox.kick.executor.submit(occupy)  # the outbox thread is busy from now on
        assert started.wait(30) and id(app) not in outbox.kick.queued_runs
        try:
            for i in range(6):
                body = load_fixture("kiwify", "order_approved")
                body["order_id"] = f"KICK-{i}"
                body["Customer"]["email"] = f"kick{i}@example.com"
                assert sender("kiwify", body).get_json() == {"status": "accepted"}
            assert id(app) in outbox.kick.queued_runs
            assert outbox.kick.executor._work_queue.qsize() == 1  # one run for six kicks
        finally:
            gate.set()
        busy.result(timeout=30)

        def all_sent():
            db.session.rollback()
            return {e.status for e in db.session.scalars(select(OutboxEmail))} == {"sent"}

        wait_until(all_sent, what="background delivery of the burst")
        assert id(app) not in outbox.kick.queued_runs
        received = Counter(str(m["To"]) for m in smtp_server.messages)
        assert received == {f"kick{i}@example.com": 1 for i in range(6)}
        # a later e-mail is kicked again (the flag was cleared when the run started)
        body = load_fixture("kiwify", "order_approved")
        body["order_id"], body["Customer"]["email"] = "KICK-LATE", "late@example.com"
        assert sender("kiwify", body).get_json() == {"status": "accepted"}
        wait_until(lambda: len(smtp_server.messages) == 7, what="the later e-mail")
