"""SMTP down for a long while: the outbox keeps every message, retries with growing back-off
(not every minute), and when the server is back each message is delivered exactly once.

A real aiosmtpd server on a fixed port is kept stopped, then started; time moves with
time-machine while the scheduler's "outbox_send" job is run once per simulated tick.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail
from app.services import jobs
from tests.conftest import WEBHOOK_SECRETS, SMTPInbox, WebhookSender, load_fixture

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BUYERS = 5


class RestartableSMTP(SMTPInbox):
    """The suite's aiosmtpd inbox, startable again on the same port after a stop."""

    running = False
    used = False

    def start(self):
        from aiosmtpd.controller import Controller

        if self.used:  # a stopped controller is not started twice: a fresh one, same port
            self.controller = Controller(
                self.controller.handler, hostname="127.0.0.1", port=self.port
            )
        self.used = True
        self.controller.start()
        self.running = True
        return self

    def stop(self):
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp_down():
    server = RestartableSMTP()  # created, not started: nothing listens on its port
    yield server
    server.stop()
    if not server.used:
        server.controller.loop.close()


def _approve(sender: WebhookSender, i: int) -> None:
    body = load_fixture("kiwify", "order_approved")
    body["order_id"] = f"SMTP-DOWN-{i}"
    body["Customer"]["email"] = f"comprador{i}@example.com"
    response = sender("kiwify", body)
    assert response.get_json() == {"status": "accepted"}, response.get_data(as_text=True)


def _tick(clock, seconds: float) -> None:
    """The scheduler's outbox job, ``seconds`` after the previous run."""
    clock.shift(timedelta(seconds=seconds))
    assert jobs.execute(jobs.find("outbox_send")) == "ok"


def _emails() -> list[OutboxEmail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


@pytest.mark.parametrize(
    ("outage", "step"),
    [(timedelta(hours=1), 60), (timedelta(hours=26), 300)],
    ids=["one-hour", "over-a-day"],
)
def test_smtp_outage_keeps_retrying_and_delivers_each_message_once(
    app_factory, smtp_down, outage, step
):
    app = app_factory(
        **WEBHOOK_SECRETS,
        SMTP_HOST="127.0.0.1",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_down.port,
        MAIL_TIMEOUT=5.0,
    )
    with app.app_context(), time_machine.travel(START, tick=False) as clock:
        sender = WebhookSender(app.test_client())
        for i in range(BUYERS):
            _approve(sender, i)
        emails = _emails()
        assert len(emails) == BUYERS
        assert all(e.status == "pending" and e.attempts == 1 and e.last_error for e in emails)

        attempt_times = [START]
        seen_attempts = 1
        elapsed = timedelta(0)
        while elapsed < outage:
            _tick(clock, step)
            elapsed += timedelta(seconds=step)
            first = _emails()[0]
            if first.attempts > seen_attempts:
                seen_attempts = first.attempts
                attempt_times.append(START + elapsed)

        emails = _emails()
        # kept, with their content, and never given up on during the outage
        assert [e.status for e in emails] == ["pending"] * BUYERS, [e.last_error for e in emails]
        assert all("/ativar/" in e.body_text for e in emails)
        assert smtp_down.messages == []
        # back-off: the gaps between attempts grow, far fewer attempts than scheduler runs
        gaps = [b - a for a, b in zip(attempt_times, attempt_times[1:], strict=False)]
        assert len(gaps) >= 3 and gaps == sorted(gaps) and gaps[-1] >= 4 * gaps[0], gaps
        assert seen_attempts < (outage.total_seconds() / step) / 4

        smtp_down.start()  # SMTP is back
        for _ in range(int(timedelta(hours=8).total_seconds() // step)):
            if all(e.status == "sent" for e in _emails()):
                break
            _tick(clock, step)
        assert [e.status for e in _emails()] == ["sent"] * BUYERS

        for _ in range(24):  # a day of further scheduler runs sends nothing again
            _tick(clock, 3600)

    received = Counter(message["To"] for message in smtp_down.messages)
    assert received == {f"comprador{i}@example.com": 1 for i in range(BUYERS)}
    assert all("/ativar/" in SMTPInbox.text_of(m) for m in smtp_down.messages)
    with app.app_context():
        links = list(db.session.scalars(select(ActivationLink)))
        assert len(links) == BUYERS and all(link.sent_at is not None for link in links)
