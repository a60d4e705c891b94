"""kill -9 of a gunicorn worker in the middle of a burst of webhook deliveries.

gunicorn serves ``wsgi:app`` with 2 workers against the suite's database (SQLite, or
PostgreSQL with ``--postgres``); one worker is SIGKILLed mid-burst. Requests in flight on it
get a dropped connection: the platform will deliver those again. What must hold: every
delivery answered 2xx is stored exactly once, redelivering the others completes the set, the
master replaces the worker by itself and the app keeps serving.
"""

from __future__ import annotations

import threading

import pytest

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


def test_worker_sigkilled_mid_burst_loses_nothing_and_duplicates_nothing(app_factory, tmp_path):
    app = app_factory()  # the suite's migrated database; emptied after the test
    server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path).start()
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
