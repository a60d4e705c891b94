"""Background workers: process stored webhook events and deliver due e-mail.

Two ways to run the same work, both claiming rows with ``services.queue.claim``:

- **in-process threads** (the default, and all the embedded SQLite setup needs): each web
  process hands every event it just stored, with its normalized form, to a small thread pool
  (``WORKER_THREADS``), and a poller thread picks up what is due every
  ``WORKER_POLL_SECONDS``: failed events after their back-off, e-mails, and events whose
  process died before its threads took them (after ``HANDOFF_GRACE``);
- **``flask --app wsgi worker``**: a process of its own (on this host or others sharing the
  PostgreSQL database), threads that claim due work with ``FOR UPDATE SKIP LOCKED`` and never
  wait for each other. With dedicated workers, ``WORKER_THREADS=0`` keeps the web processes
  to ingest only.

Exactly once: an event is processed in the transaction that claimed it and its status
changes in that same commit; a worker killed mid-way rolls back and the event is due again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app

from app.extensions import db

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

    return webhooks.process_due(grace=grace) is not None


def _outbox_step(_grace: timedelta) -> bool:
    from app.services import outbox

    if not outbox.smtp_configured():
        return False
    return any(outbox.send_pending(limit=1).values())


# Processing first: it queues the e-mails the next step sends. An automation outbox is one
# more entry here.
QUEUES: tuple[WorkQueue, ...] = (
    WorkQueue("webhooks", _webhook_step),
    WorkQueue("outbox", _outbox_step),
)


def work_once(grace: timedelta, budget: int = 50) -> int:
    """Serve every queue until each has nothing due or ``budget`` items were done; the count.
    Needs an app context."""
    done = 0
    for queue in QUEUES:
        while done < budget:
            try:
                did = queue.step(grace)
            except Exception:
                db.session.rollback()
                log.exception("worker: %s step failed", queue.name)
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


class Runtime:
    """The in-process worker of one web process: a thread pool fed by ``submit_event`` and
    a poller for everything else that is due."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        threads = int(app.config.get("WORKER_THREADS", DEFAULT_THREADS))
        self.poll = float(app.config.get("WORKER_POLL_SECONDS", DEFAULT_POLL_SECONDS))
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker")
        self.stopping = threading.Event()
        self.poller = threading.Thread(target=self._poll_loop, name="worker-poll", daemon=True)
        self.poller.start()

    def submit(self, event_id: int, event) -> None:
        try:
            self.executor.submit(self._run_event, event_id, event)
        except RuntimeError:  # shutting down: the row is due for the next process's poller
            log.warning("worker stopping: webhook event %s left for a later claim", event_id)

    def _run_event(self, event_id: int, event) -> None:
        from app.services import webhooks

        with self.app.app_context():
            try:
                webhooks.process_due(event_id, event)
            except Exception:  # the poller (or another worker) claims it again later
                db.session.rollback()
                log.exception("worker: webhook event %s could not be processed", event_id)
            finally:
                db.session.remove()

    def _poll_loop(self) -> None:
        from app.services import webhooks

        while not self.stopping.wait(self.poll):
            with self.app.app_context():
                try:
                    work_once(webhooks.HANDOFF_GRACE)
                except Exception:
                    log.exception("worker poll failed")
                finally:
                    db.session.remove()

    def stop(self, wait: bool = True) -> None:
        self.stopping.set()
        self.executor.shutdown(wait=wait, cancel_futures=not wait)
        if wait:
            self.poller.join(timeout=10)


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
    echo(f"Worker em execução ({threads} thread(s), pid {os.getpid()}). Ctrl-C para encerrar.")
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
