"""Deterministic cost of what happens after a delivery is stored: processing one approval
(sale, access, link, e-mail queued) and sending its activation e-mail, in one process,
without HTTP (so a busy machine moves the timings but not the counts).

N approvals are stored through the product's webhook endpoint with ``WORKER_THREADS=0``
(nobody processes them meanwhile; the objects of start-up and warm-up frozen out of the
garbage collector's way, as ``wsgi.py`` does), then processed with ``webhooks.process_batch``
in batches of its own size, then their e-mails sent with ``outbox.send_pending`` to an SMTP
server in another process (aiosmtpd). For each step: Python function calls (cProfile), SQL
statements, CPU time (and the garbage collector's share of it) per approval, and the database
time per approval (the time spent inside the
cursor's execute, summed: on PostgreSQL mostly the server's, triggers included); ``--top K``
prints the step's top functions by own time, ``--sql K`` its K statements of most database
time. ``--drop-buyer-triggers`` runs without the ``sales_daily_buyers`` triggers (their
share of the cost; the summaries go wrong meanwhile).

``--preload M`` first loads M sales, links and events (``bench_pages.preload``: its seed,
every event of it done), so the cost per approval can be compared between an empty and a
full table.

Usage: ``bench/profile_processing.py [N] [--top K] [--sql K] [--drop-buyer-triggers]
[--preload M]``;
``BENCH_DATABASE_URL`` for PostgreSQL (a throwaway database: its schema is dropped first).
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

from sqlalchemy import event, text  # noqa: E402

from bench.bench_ingest import HOTTOK, Inbox, app_env, body_template, migrate, reset  # noqa: E402


class Meter:
    """Statements, CPU, database time and (when profiling) calls of the code run inside
    ``measure``."""

    def __init__(self, engine):
        self.statements = 0
        self.db_time = 0.0
        self.gc_seconds = 0.0
        self._gc_started = 0.0
        gc.callbacks.append(self._gc)
        self.by_sql: dict[str, list] = {}
        event.listen(engine, "before_cursor_execute", self._count)
        event.listen(engine, "after_cursor_execute", self._done)
        # SQLite: virtual machine instructions (triggers included), in thousands: the
        # database's work as a count.
        self.vm_steps = 0
        if engine.dialect.name == "sqlite":
            event.listen(engine, "checkout", self._steps)

    def _gc(self, phase: str, _info) -> None:
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            self.gc_seconds += time.process_time() - self._gc_started

    def _steps(self, dbapi_connection, *_args) -> None:
        def step() -> int:
            self.vm_steps += 1
            return 0

        dbapi_connection.set_progress_handler(step, 1000)

    def _count(self, conn, cursor, statement, *_args) -> None:
        self.statements += 1
        conn.info["bench_started"] = time.perf_counter()

    def _done(self, conn, cursor, statement, *_args) -> None:
        spent = time.perf_counter() - conn.info.pop("bench_started")
        self.db_time += spent
        flat = " ".join(statement.split())
        entry = self.by_sql.setdefault(
            flat if len(flat) < 250 else f"{flat[:70]} … {flat[-170:]}", [0, 0.0]
        )
        entry[0] += 1
        entry[1] += spent

    def measure(self, work, profile: bool):
        self.statements = 0
        self.db_time = 0.0
        self.gc_seconds = 0.0
        self.vm_steps = 0
        self.by_sql = {}
        profiler = cProfile.Profile() if profile else None
        start = time.process_time()
        if profiler:
            profiler.enable()
        done = work()
        if profiler:
            profiler.disable()
        return done, time.process_time() - start, self.statements, profiler


def report(name: str, count: int, cpu: float, meter: Meter, profiler, top: int, sql: int):
    stats = pstats.Stats(profiler) if profiler else None
    calls = f"{stats.total_calls / count:8.0f} calls" if stats else " " * 14
    print(
        f"{name:10s} {count:5d} approvals  {calls}  {meter.statements / count:5.1f} statements  "
        f"{cpu * 1000 / count:6.2f} ms CPU ({meter.gc_seconds * 1000 / count:4.2f} in GC)  "
        f"{meter.db_time * 1000 / count:6.2f} ms DB  "
        + (f"{meter.vm_steps / count:5.1f}k VM steps  " if meter.vm_steps else "")
        + "per approval"
    )
    ranked = sorted(meter.by_sql.items(), key=lambda item: -item[1][1])
    for statement, (n, spent) in ranked[:sql]:
        print(f"    {spent * 1000 / count:6.2f} ms  {n / count:4.1f}x  {statement}")
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
    parser.add_argument("--sql", type=int, default=0, help="print each step's top K statements")
    parser.add_argument(
        "--drop-buyer-triggers", action="store_true", help="without sales_daily_buyers' triggers"
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="ANALYZE after the warm-up (a production table has statistics, a fresh one none: "
        "on PostgreSQL the buyer look-ups' plans depend on them)",
    )
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        help="first load N sales, links and events (bench_pages' seed): the cost per approval "
        "should not depend on how many there are",
    )
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
    from app.services import outbox, summaries, webhooks

    app = create_app(instance_path=str(tmp / "instance"))
    if args.drop_buyer_triggers:
        with app.app_context(), db.engine.begin() as connection:
            for statement in summaries.buyers_drop_statements(connection.dialect.name):
                connection.exec_driver_sql(statement)
    logging.getLogger().setLevel(logging.WARNING)
    if args.preload:
        from bench.bench_pages import preload

        loaded = time.perf_counter()
        with app.app_context():
            preload(args.preload)
        print(f"preloaded {args.preload:,} sales in {time.perf_counter() - loaded:.0f} s")
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

                processed, cpu, _, profiler = meter.measure(process, profile)
                if half == "warm" and args.analyze:
                    db.session.execute(text("ANALYZE"))
                    db.session.commit()
                if half != "warm":
                    name = f"process/{half[0]}"
                    report(name, processed, cpu, meter, profiler, args.top, args.sql)
                sent, cpu, _, profiler = meter.measure(send, profile)
                if half != "warm":
                    name = f"send/{half[0]}"
                    report(name, max(sent, 1), cpu, meter, profiler, args.top, args.sql)
                db.session.remove()
    finally:
        inbox.stop()


if __name__ == "__main__":
    main()
