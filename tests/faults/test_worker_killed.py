"""kill -9 of a gunicorn worker in the middle of a burst of webhook deliveries.

gunicorn serves ``wsgi:app`` (2 workers, as in docs/deploy.md but without the scheduler)
against the suite's database (SQLite, or PostgreSQL with ``--postgres``) and a real SMTP server
(aiosmtpd in this process), so the workers also send the activation e-mails from their
background outbox threads. One worker is SIGKILLed mid-burst: requests in flight on it get a
dropped connection and the platform delivers those again. What must hold: every delivery
answered 2xx is stored exactly once, redelivering the others completes the set, the master
replaces the worker by itself and the app keeps serving; every buyer gets the e-mail, and only
the message each sender thread of the killed worker had in flight may arrive twice (accepted by
the SMTP server, the kill before its result was committed: every accepted e-mail is committed
before the next is handed over), so at most ``OUTBOX_SENDERS`` duplicates; it goes out again
after the send lease (at-least-once on SIGKILL, docs/deploy.md).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEmail
from app.models.types import utcnow
from app.services import outbox
from tests.faults.faultkit import (
    Gunicorn,
    assert_acknowledged_are_stored,
    assert_complete_exactly_once,
    burst,
    make_deliveries,
    redeliver_until_acknowledged,
    replay_stuck_events,
)

pytestmark = pytest.mark.process

BURST = 90
KILL_AFTER = 30  # answers


def test_worker_sigkilled_mid_burst_loses_nothing_and_duplicates_nothing(
    app_factory, smtp_server, tmp_path
):
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port)}
    # the suite's migrated database (emptied after the test), mail to the same SMTP server
    app = app_factory(**smtp_server.config())
    server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, **smtp).start()
    killed: list[int] = []
    kill_lock = threading.Lock()

    def kill_one_worker(answered: int) -> None:
        with kill_lock:
            if answered >= KILL_AFTER and not killed:
                killed.append(server.kill_worker())

    try:
        workers_before = server.worker_pids()
        deliveries = make_deliveries(BURST, "KILL")
        answers = burst(server.url, deliveries, concurrency=8, on_answer=kill_one_worker)
        assert killed and killed[0] in workers_before
        odd = [a for a in answers if isinstance(a, int) and a not in (200, 503)]
        assert not odd, f"unexpected answers: {odd}\n{server.log_tail()}"

        with app.app_context():
            assert_acknowledged_are_stored(deliveries, "KILL")

        # the master replaced the worker on its own: no restart of the service
        server.wait_workers(exclude=killed)
        assert server.process.poll() is None
        redeliver_until_acknowledged(server.url, deliveries)
        after = make_deliveries(12, "AFTER")
        assert all(a == 200 for a in burst(server.url, after)), [d.answers for d in after]
    finally:
        server.stop()

    with app.app_context():
        assert_acknowledged_are_stored(deliveries, "KILL")
        replay_stuck_events()  # killed between "stored" and "processed": the job finishes it
        assert_complete_exactly_once(deliveries, "KILL")
        assert_complete_exactly_once(after, "AFTER")

        # the scheduler's outbox job, once the send lease of the killed worker's rows is over
        with time_machine.travel(utcnow() + outbox.SEND_LEASE + timedelta(minutes=1)):
            outbox.send_pending(limit=1000)
        emails = list(db.session.scalars(select(OutboxEmail)))
        assert len(emails) == BURST + len(after)
        assert {e.status for e in emails} == {"sent"}, Counter(e.status for e in emails)

    received = Counter(str(message["To"]) for message in smtp_server.messages)
    buyers = {e.to_email for e in emails}
    assert set(received) == buyers  # everyone got the e-mail
    retried = {e.to_email for e in emails if e.attempts > 1}
    twice = {to for to, n in received.items() if n > 1}
    assert twice <= retried, (twice, retried)
    # at most the message each sender thread of the killed worker had in flight (the
    # graceful stop at the end lets the others finish)
    assert len(twice) <= app.config["OUTBOX_SENDERS"], (twice, retried)
    assert all(received[to] == 2 for to in twice), received
