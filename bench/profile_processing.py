"""Deterministic cost of what happens after a delivery is stored: processing one approval
(sale, access, link, e-mail queued) and sending its activation e-mail, in one process,
without HTTP (so a busy machine moves the timings but not the counts).

N approvals are stored through the product's webhook endpoint with ``WORKER_THREADS=0``
(nobody processes them meanwhile; the objects of start-up and warm-up frozen out of the
garbage collector's way, as ``wsgi.py`` does), then processed with
``webhooks.process_batch`` in batches of its own size, then their e-mails sent with
``outbox.send_pending`` to an SMTP server in another process (aiosmtpd). For each step:
Python function calls (cProfile), SQL statements, CPU time and the garbage collector's share
per approval; ``--top K`` prints the step's top functions by own time.

Usage: ``bench/profile_processing.py [N] [--top K]``; ``BENCH_DATABASE_URL`` for PostgreSQL
(a throwaway database: its schema is dropped first).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.bench_ingest import HOTTOK, Inbox, app_env, body_template, migrate, reset  # noqa: E402


class Meter:
    """Statements, CPU, time in the garbage collector and (when profiling) calls of the code
    run inside ``measure``."""

    def __init__(self, engine):
        self.statements = 0
        self.gc_seconds = 0.0
        self._gc_started = 0.0
        event.listen(engine, "before_cursor_execute", self._count)
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, _info) -> None:
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            self.gc_seconds += time.process_time() - self._gc_started

    def _count(self, *_args) -> None:
        self.statements += 1

    def measure(self, work, profile: bool):
        self.statements = 0
        self.gc_seconds = 0.0
        profiler = cProfile.Profile() if profile else None
        start = time.process_time()
        if profiler:
            profiler.enable()
        done = work()
        if profiler:
            profiler.disable()
        return done, time.process_time() - start, self.statements, profiler


def report(name: str, count: int, cpu: float, statements: int, profiler, top: int, gc_s=0.0):
    stats = pstats.Stats(profiler) if profiler else None
    calls = f"{stats.total_calls / count:8.0f} calls" if stats else " " * 14
    print(
        f"{name:10s} {count:5d} approvals  {calls}  {statements / count:5.1f} statements  "
        f"{cpu * 1000 / count:6.2f} ms CPU ({gc_s * 1000 / count:4.2f} in GC)  per approval"
    )
    if stats and top:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=400)
    parser.add_argument("--top", type=int, default=0, help="print each step's top K functions")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vendashub-profile-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'product.db'}"
    reset(url)
    migrate(url, tmp)
    inbox = Inbox()
    os.environ.update(
        app_env(url, WORKER_THREADS="0", SMTP_HOST="127.0.0.1", SMTP_PORT=str(inbox.port))
    )
    import logging

    from app import create_app
    from app.extensions import db
    from app.services import outbox, webhooks

    app = create_app(instance_path=str(tmp / "instance"))
    logging.getLogger().setLevel(logging.WARNING)
    template = body_template(tmp).read_text()
    run = uuid.uuid4().hex[:6]
    client = app.test_client()
    headers = {"X-HOTMART-HOTTOK": HOTTOK, "Content-Type": "application/json"}
    outbox.kick = lambda *a, **k: None  # sends are measured on their own below
    try:
        with app.app_context():
            meter = Meter(db.engine)
            for half, profile in (("warm", False), ("timed", False), ("profiled", True)):
                if half == "timed":
                    gc.freeze()  # as wsgi.py does after start-up
                for i in range(args.n if half != "warm" else 40):
                    body = template.replace("__ID__", f"{run}{half}-{i}").encode()
                    answer = client.post("/webhook/hotmart", data=body, headers=headers)
                    assert answer.status_code == 200, answer.get_data()

                def process():
                    done = 0
                    while step := webhooks.process_batch(grace=timedelta(0)):
                        done += len(step)
                    return done

                def send():
                    sent = 0
                    while got := outbox.send_pending(limit=outbox.SEND_BATCH).get("sent"):
                        sent += got
                    return sent

                processed, cpu, statements, profiler = meter.measure(process, profile)
                if half != "warm":
                    report(f"process/{half[0]}", processed, cpu, statements, profiler, args.top,
                           meter.gc_seconds)  # fmt: skip
                sent, cpu, statements, profiler = meter.measure(send, profile)
                if half != "warm":
                    report(f"send/{half[0]}", max(sent, 1), cpu, statements, profiler, args.top,
                           meter.gc_seconds)  # fmt: skip
                db.session.remove()
    finally:
        inbox.stop()


if __name__ == "__main__":
    main()
