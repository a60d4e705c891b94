"""Background workers: process stored webhook events and deliver due e-mail.

Two ways to run the same work, both claiming rows with ``services.queue.claim``:

- **in-process threads** (the default, and all the embedded SQLite setup needs): each web
  process hands every event it just stored, with its normalized form, to its worker threads
  (``WORKER_THREADS``), which process what is waiting in batches (one transaction and one
  commit for a burst's worth) and, idle for ``WORKER_POLL_SECONDS``, look for what else is
  due: failed events after their back-off, e-mails, and events whose process died before
  its threads took them (after ``HANDOFF_GRACE``);
- **``flask --app wsgi worker``**: a process of its own (on this host or others sharing the
  PostgreSQL database), threads that claim due work with ``FOR UPDATE SKIP LOCKED`` and never
  wait for each other. With dedicated workers, ``WORKER_THREADS=0`` keeps the web processes
  to ingest only.

Exactly once: an event is processed in the transaction that claimed it and its status
changes in that same commit; a worker killed mid-way rolls back and the event is due again.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from app.extensions import db
from app.plurals import plural

log = logging.getLogger(__name__)

EXTENSION_KEY = "vendas_worker"
DEFAULT_THREADS = 2
DEFAULT_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class WorkQueue:
    """One queue a worker serves: ``step(grace)`` claims and does one item, True if it did."""

    name: str
    step: Callable[[timedelta], bool]


def _webhook_step(grace: timedelta) -> bool:
    from app.services import webhooks

    return bool(webhooks.process_batch(grace=grace))


def _outbox_step(_grace: timedelta) -> bool:
    from app.services import outbox

    # one batch (one claim, one SMTP connection); nothing without SMTP configured
    return any(outbox.send_pending(limit=outbox.SEND_BATCH).values())


def _automations_step(_grace: timedelta) -> bool:
    from app.services import automation_sender

    return any(automation_sender.send_pending(limit=1).values())  # nothing when switched off


# Processing first: it queues the e-mails and the pushes the next steps send.
QUEUES: tuple[WorkQueue, ...] = (
    WorkQueue("webhooks", _webhook_step),
    WorkQueue("outbox", _outbox_step),
    WorkQueue("automations", _automations_step),
)


def work_once(grace: timedelta, budget: int = 50) -> int:
    """Serve every queue until each has nothing due or ``budget`` items were done; the count.
    Needs an app context."""
    done = 0
    for work in QUEUES:
        while done < budget:
            try:
                did = work.step(grace)
            except Exception:
                db.session.rollback()
                log.exception("worker: %s step failed", work.name)
                did = False
            if not did:
                break
            done += 1
    return done


def drain(max_rounds: int = 1000) -> int:
    """Do everything due now, in this thread (tests, ``flask worker --once``); the count."""
    total = 0
    for _ in range(max_rounds):
        done = work_once(timedelta(0))
        total += done
        if not done:
            break
    return total


# Ingest comes first. While this process is crowded with webhook deliveries (CROWDED or more
# in flight at once, or so within the last QUIET_GAP: a burst, requests waiting on each other),
# its background work gives way:
# - a handed-over event waits until the burst pauses, at most MAX_DEFER after it arrived;
# - a batch done during a burst is small (BUSY_BATCH events: the SQLite write lock, which
#   every delivery's INSERT needs, is held briefly) and is followed by a pause of up to
#   YIELD_FACTOR times its own duration, so background work takes about a third of the time
#   during a burst and all of it after;
# - once the oldest event waiting has waited MAX_LAG, background work stops giving way: a long
#   overload shares the machine again rather than letting processing fall ever further behind.
# A steady stream the process keeps up with (one delivery at a time, now and then two) is not
# a burst: its events are processed and mailed at once, beside it.
DEFAULT_MAX_DEFER_SECONDS = 3.0
DEFAULT_MAX_LAG_SECONDS = 10.0
CROWDED = 2
QUIET_GAP = 0.05
BUSY_BATCH = 5
YIELD_FACTOR = 2.0
_ingest_lock = threading.Lock()
_ingesting = 0
_last_crowded = float("-inf")
_behind = False  # the events being processed waited longer than MAX_LAG
_answering = threading.local()  # this thread is inside ingesting() (inline processing, sends)


@contextmanager
def ingesting() -> Iterator[None]:
    """Around a webhook request: while deliveries crowd in, this process's background work
    gives way."""
    global _ingesting, _last_crowded
    with _ingest_lock:
        _ingesting += 1
        if _ingesting >= CROWDED:
            _last_crowded = time.monotonic()
    _answering.depth = getattr(_answering, "depth", 0) + 1
    try:
        yield
    finally:
        _answering.depth -= 1
        with _ingest_lock:
            if _ingesting >= CROWDED:
                _last_crowded = time.monotonic()
            _ingesting -= 1


def busy() -> bool:
    """Is this process crowded with deliveries (several in flight, now or a moment ago)?"""
    return _ingesting >= CROWDED or time.monotonic() - _last_crowded < QUIET_GAP


def _wait_for_quiet(deadline: float) -> None:
    while busy() and time.monotonic() < deadline:
        time.sleep(0.005)


def yield_to_ingest(spent: float) -> None:
    """After ``spent`` seconds of background work: during a burst of deliveries, pause until
    it stops or for YIELD_FACTOR × ``spent``, whichever comes first. Never inside a delivery
    (work done in the request itself, inline, must not wait for its own request)."""
    if getattr(_answering, "depth", 0):
        return
    if busy() and not _behind:
        _wait_for_quiet(time.monotonic() + YIELD_FACTOR * spent)


class Runtime:
    """The in-process worker of one web process: threads that take the events handed over at
    receipt in batches (a burst becomes few transactions) and, when idle, what else is due."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        count = int(app.config.get("WORKER_THREADS", DEFAULT_THREADS))
        self.poll = float(app.config.get("WORKER_POLL_SECONDS", DEFAULT_POLL_SECONDS))
        self.max_defer = float(
            app.config.get("WORKER_MAX_DEFER_SECONDS", DEFAULT_MAX_DEFER_SECONDS)
        )
        self.max_lag = float(app.config.get("WORKER_MAX_LAG_SECONDS", DEFAULT_MAX_LAG_SECONDS))
        self.handed: queue.SimpleQueue = queue.SimpleQueue()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._loop, name=f"worker-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()
        atexit.register(self.stop)

    def submit(self, event_id: int, event) -> None:
        self.handed.put((event_id, event, time.monotonic()))

    def _take(self) -> dict | None:
        from app.services import webhooks

        try:
            event_id, event, handed_at = self.handed.get(timeout=self.poll)
        except queue.Empty:
            return None
        global _behind
        _behind = time.monotonic() - handed_at > self.max_lag
        _wait_for_quiet(handed_at + self.max_defer)
        batch = {event_id: event}
        size = BUSY_BATCH if busy() and not _behind else webhooks.BATCH
        while len(batch) < size:
            try:
                event_id, event, _ = self.handed.get_nowait()
            except queue.Empty:
                break
            batch[event_id] = event
        return batch

    def _loop(self) -> None:
        from app.services import webhooks

        while not self.stopping.is_set():
            batch = self._take()
            started = time.monotonic()
            with self.app.app_context():
                try:
                    if batch:
                        webhooks.process_batch(batch)
                    else:
                        work_once(webhooks.HANDOFF_GRACE)
                except Exception:  # left due: the next sweep (here or elsewhere) claims it
                    db.session.rollback()
                    log.exception("worker: a batch could not be processed")
                finally:
                    db.session.remove()
            yield_to_ingest(time.monotonic() - started)

    def stop(self, wait: bool = True) -> None:
        """Finish the batch in hand; what is still queued in memory is claimed by a later
        sweep (it is stored)."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        atexit.unregister(self.stop)
        if wait:
            for thread in self.threads:
                thread.join(timeout=30)


_lock = threading.Lock()


def runtime(app: Flask) -> Runtime | None:
    """This process's in-process worker (started on first use; None with WORKER_THREADS=0)."""
    current = app.extensions.get(EXTENSION_KEY)
    if current is not None and current.pid == os.getpid():
        return current
    if int(app.config.get("WORKER_THREADS", DEFAULT_THREADS)) <= 0:
        return None
    with _lock:
        current = app.extensions.get(EXTENSION_KEY)
        if current is None or current.pid != os.getpid():  # none yet, or inherited by a fork
            current = app.extensions[EXTENSION_KEY] = Runtime(app)
    return current


def submit_event(event_id: int, event) -> None:
    """Hand a just-stored event (and its normalized form) to this process's worker threads;
    with none (dedicated ``flask worker`` processes), they claim it from the table."""
    found = runtime(current_app._get_current_object())
    if found is not None:
        found.submit(event_id, event)


def stop(app: Flask, wait: bool = True) -> None:
    found = app.extensions.pop(EXTENSION_KEY, None)
    if found is not None and found.pid == os.getpid():
        found.stop(wait=wait)


def init_app(app: Flask) -> None:
    """Start the in-process worker with the first request a process serves (after gunicorn's
    fork; never in ``flask db upgrade``), unless webhooks are processed inline."""
    if app.config.get("WEBHOOK_PROCESS_INLINE"):
        return

    def start() -> None:
        runtime(app)

    app.before_request(start)


def run_forever(app: Flask, threads: int, *, poll: float | None = None, echo=print) -> None:
    """``flask worker``: ``threads`` loops claiming due work until SIGTERM or Ctrl-C."""
    poll = float(poll if poll is not None else app.config.get("WORKER_POLL_SECONDS", 1.0))
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            with app.app_context():
                try:
                    done = work_once(timedelta(0))
                except Exception:
                    log.exception("worker loop failed")
                    done = 0
                finally:
                    db.session.remove()
            if not done:
                stopping.wait(poll)

    def _terminate(_signum, _frame):
        stopping.set()

    previous = signal.signal(signal.SIGTERM, _terminate)
    workers = [threading.Thread(target=loop, name=f"worker-{i}") for i in range(threads)]
    for thread in workers:
        thread.start()
    noun = plural(threads, "thread", "threads")
    echo(f"Worker em execução ({threads} {noun}, pid {os.getpid()}). Ctrl-C para encerrar.")
    try:
        while any(t.is_alive() for t in workers):
            for thread in workers:
                thread.join(timeout=0.5)
    except KeyboardInterrupt:
        echo("Encerrando o worker…")
        stopping.set()
        for thread in workers:
            thread.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
