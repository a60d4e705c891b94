"""Deliveries first (app.worker): while deliveries crowd a process (several in flight) its
background work takes small batches and gives way; a steady stream it keeps up with does not
hold processing back; once the events waiting are behind by
WORKER_MAX_LAG_SECONDS it stops giving way. No timings are asserted: the clock the module reads
is moved by hand."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack, contextmanager

import pytest

from app import worker
from app.services import webhooks


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _from_another_thread(function, *args) -> None:
    """Run ``function`` as a background thread would (not inside this thread's delivery)."""
    thread = threading.Thread(target=function, args=args)
    thread.start()
    thread.join()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(worker, "time", fake)  # app.worker's clock only, not the process's
    monkeypatch.setattr(worker, "_ingesting", 0)
    monkeypatch.setattr(worker, "_last_crowded", float("-inf"))
    monkeypatch.setattr(worker, "_behind", False)
    return fake


@contextmanager
def crowd(n: int = worker.CROWDED):
    """``n`` deliveries in flight at once in this process."""
    with ExitStack() as stack:
        for _ in range(n):
            stack.enter_context(worker.ingesting())
        yield


def test_a_process_is_busy_while_deliveries_crowd_in_and_just_after(clock):
    assert not worker.busy()
    with crowd():
        assert worker.busy()
    assert worker.busy()  # crowded a moment ago: the burst goes on
    clock.now += worker.QUIET_GAP + 0.001
    assert not worker.busy()


def test_a_steady_stream_of_single_deliveries_is_not_a_burst(clock):
    for _ in range(5):
        with worker.ingesting():
            assert not worker.busy()
            _from_another_thread(worker.yield_to_ingest, 0.1)
        clock.now += 0.01  # the next one comes 10 ms later
    assert clock.slept == []


def test_background_work_pauses_twice_its_time_during_a_burst(clock):
    with crowd():  # deliveries in flight; the worker is another thread
        started = clock.now
        _from_another_thread(worker.yield_to_ingest, 0.1)
        assert clock.now - started == pytest.approx(worker.YIELD_FACTOR * 0.1, abs=0.01)


def test_work_done_inside_a_delivery_never_waits_for_its_own_request(clock):
    with crowd():  # inline processing or sending, in the request's own thread
        worker.yield_to_ingest(0.5)
    assert clock.slept == []


def test_no_pause_when_no_delivery_is_being_answered(clock):
    worker.yield_to_ingest(0.5)
    assert clock.slept == []


def test_no_pause_once_the_events_waiting_are_behind(clock, monkeypatch):
    monkeypatch.setattr(worker, "_behind", True)
    with crowd():
        _from_another_thread(worker.yield_to_ingest, 0.5)
    assert clock.slept == []


class _Runtime(worker.Runtime):
    """The hand-over queue and ``_take`` of a Runtime, without its threads."""

    def __init__(self, max_defer=3.0, max_lag=10.0):
        import queue

        self.poll = 0.0
        self.max_defer = max_defer
        self.max_lag = max_lag
        self.handed = queue.SimpleQueue()


def _hand(runtime: _Runtime, n: int, at: float) -> None:
    for i in range(n):
        runtime.handed.put((i + 1, None, at))


def test_a_burst_is_processed_in_small_batches(clock):
    runtime = _Runtime()
    _hand(runtime, 30, at=clock.now)
    with crowd():
        batch = runtime._take()  # waits for a pause at most MAX_DEFER, then takes a few
    assert len(batch) == worker.BUSY_BATCH
    assert worker._behind is False


def test_after_the_burst_the_batches_are_full(clock):
    runtime = _Runtime()
    _hand(runtime, 30, at=clock.now)
    assert len(runtime._take()) == webhooks.BATCH


def test_events_behind_the_lag_limit_are_taken_in_full_batches_during_a_burst(clock):
    runtime = _Runtime(max_lag=10.0)
    _hand(runtime, 30, at=clock.now - 11.0)
    with crowd():
        batch = runtime._take()
        assert worker._behind is True
        assert len(batch) == webhooks.BATCH
        _from_another_thread(worker.yield_to_ingest, 1.0)  # and no pause after them
    assert clock.slept == []


def test_the_real_clock_is_restored():
    assert worker.time is time
