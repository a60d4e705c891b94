"""Deterministic cost of one webhook delivery: the product's request path against the bare
endpoint of bench_ingest.py, in one process, without HTTP or gunicorn (so a busy machine moves
the timings but not the counts).

Per request, for each app: Python function calls (cProfile), SQL statements (engine events),
CPU time (``time.process_time``) and memory blocks allocated (``tracemalloc``); then the
product's top functions by own time. The product runs with its production ``Config`` (what
``gunicorn wsgi:app`` builds) and ``WORKER_THREADS=0``, so only the request is measured — the
event is stored, handed to no in-process thread, and processed by nobody.

Usage: ``bench/profile_ingest.py [N] [--top K]``; ``BENCH_DATABASE_URL`` for PostgreSQL (a
throwaway database: its schema is dropped first).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.bench_ingest import HOTTOK, app_env, body_template, migrate, reset  # noqa: E402


def product_app(url: str, tmp: Path):
    os.environ.update(app_env(url, WORKER_THREADS="0"))
    from app import create_app
    from app.extensions import db

    app = create_app(instance_path=str(tmp / "instance"))
    with app.app_context():
        engine = db.engine
    return app, engine


def bare_app(url: str):
    os.environ.update({"BARE_DATABASE_URL": url, "BARE_TOKEN": HOTTOK})
    from bench import bare_app as bare

    return bare.app, bare.engine


def measure(name, app, engine, bodies, top: int):
    client = app.test_client()
    headers = {"X-HOTMART-HOTTOK": HOTTOK, "Content-Type": "application/json"}
    statements = [0]

    def count(*_args):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    warm, rest = bodies[:20], bodies[20:]
    for body in warm:  # caches, pool, compiled statements
        assert client.post("/webhook/hotmart", data=body, headers=headers).status_code == 200
    statements[0] = 0
    third = len(rest) // 3
    timed, profiled, traced = rest[:third], rest[third : 2 * third], rest[2 * third :]

    start = time.process_time()
    wall = time.perf_counter()
    for body in timed:
        response = client.post("/webhook/hotmart", data=body, headers=headers)
        assert response.status_code == 200, response.get_data()
    cpu = (time.process_time() - start) / len(timed)
    wall = (time.perf_counter() - wall) / len(timed)
    per_statements = statements[0] / len(timed)

    profile = cProfile.Profile()
    profile.enable()
    for body in profiled:
        client.post("/webhook/hotmart", data=body, headers=headers)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = stats.total_calls / len(profiled)

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    snapshot_blocks = 0
    for body in traced:
        start_snap = tracemalloc.take_snapshot()
        client.post("/webhook/hotmart", data=body, headers=headers)
        end_snap = tracemalloc.take_snapshot()
        snapshot_blocks += sum(
            s.count_diff for s in end_snap.compare_to(start_snap, "lineno") if s.count_diff > 0
        )
        break  # one traced request is enough: the diff is deterministic, snapshots are slow
    tracemalloc.stop()
    del before
    event.remove(engine, "before_cursor_execute", count)

    print(
        f"{name:8s} {calls:8.0f} calls/req {per_statements:5.1f} statements/req "
        f"{cpu * 1000:7.2f} ms CPU/req {wall * 1000:7.2f} ms wall/req "
        f"{snapshot_blocks:6d} blocks kept after one req"
    )
    if top:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
        print(out.getvalue())
    return calls, per_statements, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=620)
    parser.add_argument("--top", type=int, default=0, help="print the product's top K functions")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vendashub-profile-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'product.db'}"
    bare_url = url if url.startswith("postgres") else f"sqlite:///{tmp / 'bare.db'}"
    reset(url)
    migrate(url, tmp)
    template = body_template(tmp).read_text()
    run = uuid.uuid4().hex[:6]

    def bodies(tag):
        return [template.replace("__ID__", f"{run}{tag}-{i}").encode() for i in range(args.n)]

    bare, bare_engine = bare_app(bare_url)
    product, product_engine = product_app(url, tmp)
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    b = measure("bare", bare, bare_engine, bodies("b"), 0)
    p = measure("product", product, product_engine, bodies("p"), args.top)
    print(
        f"product / bare: calls x{p[0] / b[0]:.1f}, statements x{p[1] / max(b[1], 0.01):.1f}, "
        f"CPU x{p[2] / b[2]:.1f}"
    )


if __name__ == "__main__":
    main()
