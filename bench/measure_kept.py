"""Measure seeded databases kept on disk, one per size, without seeding again: for a 1M-row
run, whose seed takes longer than the box stays quiet, seed each size first
(``--seed``), then measure them all back to back on a quiet box.

Usage::

    bench/measure_kept.py reports --seed 1000=sqlite:////tmp/r1k/pages.db
    bench/measure_kept.py reports --seed 1000000=sqlite:////tmp/r1m/pages.db
    bench/measure_kept.py reports 1000=sqlite:////tmp/r1k/pages.db 1000000=sqlite:////tmp/r1m/pages.db

The first argument is the bench (``pages`` or ``reports``): its seed, measurements and
tables are used as they are. A PostgreSQL URL is emptied by ``--seed`` only.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pages  # noqa: E402
import bench_reports  # noqa: E402

BENCHES = {
    "pages": (bench_pages.seed, bench_pages.measure, bench_pages.report),
    "reports": (bench_reports.seed, bench_reports.measure, bench_reports.report),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bench", choices=sorted(BENCHES))
    parser.add_argument("databases", nargs="+", help="SIZE=URL, one per size")
    parser.add_argument("--seed", action="store_true", help="seed each database, no timing")
    args = parser.parse_args()
    seed, measure, report = BENCHES[args.bench]
    if args.bench == "reports":  # bench_reports runs on bench_pages' machinery
        bench_pages.PAGES = bench_reports.PAGES
    kept = [(int(size), url) for size, url in (d.split("=", 1) for d in args.databases)]
    if args.seed:
        for size, url in kept:
            app = bench_pages.make_app(url)
            started = time.perf_counter()
            with app.app_context():
                seed(0, size, datetime.now(UTC))
            print(f"seeded {size:,} rows per table in {time.perf_counter() - started:.1f} s")
        return
    figures = {}
    for size, url in kept:
        figures[size] = measure(bench_pages.login(bench_pages.make_app(url, reset=False)))
    report("kept databases", [size for size, _ in kept], figures)


if __name__ == "__main__":
    main()
