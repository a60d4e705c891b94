"""PostgreSQL stopped in the middle of a burst of webhooks, then started again.

A private, throwaway PostgreSQL cluster (never the machine's shared server) backs gunicorn
(2 workers). The scenario runs once per module; the tests below each check one promise:

* nothing answered 2xx is lost, redelivery completes the set, nothing is stored twice, and the
  same gunicorn processes serve again once the database is back (no restart);
* while the database is away every delivery is answered 503, never 2xx and never 500.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest

from tests.faults.faultkit import (
    Delivery,
    Gunicorn,
    PrivatePostgres,
    assert_acknowledged_are_stored,
    assert_complete_exactly_once,
    burst,
    deliver,
    make_deliveries,
    redeliver_until_acknowledged,
    replay_stuck_events,
    wait_until,
)

pytestmark = pytest.mark.process

PREFIX = "PGDOWN"


@dataclass
class Outage:
    before: list[Delivery] = field(default_factory=list)  # burst during which PG is stopped
    down: list[Delivery] = field(default_factory=list)  # sent while PG is stopped
    back: list[Delivery] = field(default_factory=list)  # sent once PG is running again
    later: list[Delivery] = field(default_factory=list)  # after that first burst
    health_down: object = None
    health_back: object = None
    processes_before: tuple = ()
    processes_after: tuple = ()
    log: str = ""
    stored_after_outage: Exception | None = None
    complete: Exception | None = None

    def all(self) -> list[Delivery]:
        return self.before + self.down + self.back + self.later


def _check(outage: Outage, attr: str, check) -> None:
    try:
        check()
    except AssertionError as exc:
        setattr(outage, attr, exc)


@pytest.fixture(scope="module")
def outage(tmp_path_factory):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from tests.conftest import make_config

    pg = PrivatePostgres()
    work = tmp_path_factory.mktemp("pg-outage")
    result = Outage()
    server = None
    try:
        pg.init().start()
        app = create_app(make_config(pg.url), instance_path=str(work / "instance"))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        server = Gunicorn(pg.url, work).start()
        result.processes_before = (server.master_pid, frozenset(server.worker_pids()))

        stopped = threading.Event()

        def stop_database(answered: int) -> None:
            if answered == 15 and not stopped.is_set():
                pg.stop("fast")  # while the other senders keep delivering
                stopped.set()

        result.before = make_deliveries(45, f"{PREFIX}A")
        burst(server.url, result.before, concurrency=6, on_answer=stop_database)
        assert stopped.is_set()

        result.down = make_deliveries(30, f"{PREFIX}B")
        burst(server.url, result.down, concurrency=6)
        result.health_down = server.health()

        pg.start()
        # the same processes serve again. A pooled connection that died with the server may
        # still fail the first request that picks it up (non-2xx, redelivered later); once
        # each pool has noticed, every delivery is stored at the first attempt
        probe = make_deliveries(1, f"{PREFIX}P")[0]
        wait_until(lambda: deliver(server.url, probe) == 200, what="recovery after PG restart")
        result.back = [probe, *make_deliveries(30, f"{PREFIX}C")]
        burst(server.url, result.back[1:], concurrency=6)
        result.later = make_deliveries(15, f"{PREFIX}D")
        burst(server.url, result.later, concurrency=6)
        result.health_back = server.health()
        result.processes_after = (server.master_pid, frozenset(server.worker_pids()))

        with app.app_context():
            _check(
                result,
                "stored_after_outage",
                lambda: assert_acknowledged_are_stored(result.all(), PREFIX),
            )
        redeliver_until_acknowledged(server.url, result.all())
        server.stop()
        result.log = server.log_tail(80)
        with app.app_context():
            replay_stuck_events()  # stored, then the database went away before processing

            def complete():
                assert_complete_exactly_once(result.all(), PREFIX)

            _check(result, "complete", complete)
            db.session.remove()
            db.engine.dispose()
        yield result
    finally:
        if server is not None:
            server.stop()
        pg.destroy()


def _answers(deliveries: list[Delivery]) -> list:
    return [a for d in deliveries for a in d.answers]


def test_database_away_loses_nothing_and_recovers_without_restart(outage):
    assert outage.stored_after_outage is None, outage.stored_after_outage
    assert outage.complete is None, outage.complete
    # nothing acknowledged while there was no database to store it in
    assert not [d.answers[0] for d in outage.down if d.answers[0] == 200]
    assert outage.health_down == 503 and outage.health_back == 200
    # recovered in place: same master, same workers (none crashed or was restarted)
    assert outage.processes_after == outage.processes_before
    # once back and settled, every delivery is stored at the first attempt
    assert all(d.answers[0] == 200 for d in outage.later), [d.answers for d in outage.later]


def test_database_away_answers_503_never_500(outage):
    answers = _answers(outage.all())
    wrong = sorted({a for a in answers if a not in (200, 503)}, key=str)
    phases = {
        name: Counter(d.answers[0] for d in getattr(outage, name))
        for name in ("before", "down", "back", "later")
    }
    assert not wrong, (
        f"answers other than 200/503: {wrong}; first answers per phase: {phases}\n{outage.log}"
    )
