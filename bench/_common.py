"""Shared pieces of the benchmarks: a migrated throwaway database and an app, the timing loop
(``timed``, ``measure_pages``), planner statistics after a bulk load (``analyze``) and the
size-ratio table the page benchmarks print (``report_ratios``)."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from app import create_app
from config import TestConfig


def make_app(**overrides):
    """App on a fresh SQLite file (or BENCH_DATABASE_URL), migrated with the real migrations."""
    from flask_migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="vendashub-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "SETTINGS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "APP_URL": "http://localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.update({k: v for k, v in overrides.items() if isinstance(v, str)})
    config = TestConfig(env)
    config.WEBHOOK_RATE_LIMIT = "1000000 per minute"
    config.LOG_LEVEL = "WARNING"
    app = create_app(config, instance_path=str(tmp / "instance"))
    with app.app_context():
        upgrade()
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    return app


def timed(fn, repeat: int = 5, warmup: int = 0) -> float:
    """Median wall time of ``repeat`` runs, in seconds, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure_pages(client, pages: dict[str, str], repeat: int = 5) -> dict[str, float]:
    """Per page name: the median of ``repeat`` GETs of its path through ``client``, after one
    GET that warms caches and is discarded; every GET must answer 200."""

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return {name: timed(lambda p=path: get(p), repeat, warmup=1) for name, path in pages.items()}


def analyze() -> None:
    """Fresh planner statistics after a bulk load (VACUUM ANALYZE on PostgreSQL)."""
    from sqlalchemy import text

    from app.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def report_ratios(
    label: str,
    sizes: list[int],
    figures: dict[int, dict[str, float]],
    names,
    *,
    repeat: int,
    goal: float,
    digits: int = 0,
) -> None:
    """A Markdown table: each page's median (ms) at each size, its ratio to the smallest size,
    and whether the ratio at the largest size meets ``goal``."""
    base = sizes[0]
    head = " | ".join(f"{s:,}" for s in sizes)
    print(f"\n{label}: median of {repeat} GETs (ms), ratio vs {base:,} rows, goal <= {goal:g}x")
    print(f"| page | {head} | ratio at {sizes[-1]:,} | goal |")
    print("|---|" + "---|" * len(sizes) + "---|---|")
    for name in names:
        cells = []
        for s in sizes:
            ms = f"{figures[s][name] * 1000:,.{digits}f}"
            ratio = figures[s][name] / figures[base][name]
            cells.append(ms if s == base else f"{ms} (×{ratio:.1f})")
        last = figures[sizes[-1]][name] / figures[base][name]
        verdict = "met" if last <= goal else f"gap ×{last / goal:.1f}"
        print(f"| {name} | " + " | ".join(cells) + f" | ×{last:.1f} | {verdict} |")
    print()


def run_sizes_on_both(run, name: str, default_sizes=(1_000, 100_000)) -> None:
    """``run(label, url, sizes)`` on a fresh SQLite file, then again on ``BENCH_DATABASE_URL``
    when it is set; the sizes are the command's arguments (else ``default_sizes``)."""
    sizes = [int(a) for a in sys.argv[1:]] or list(default_sizes)
    tmp = Path(tempfile.mkdtemp(prefix=f"vendashub-{name}-db-"))
    run("SQLite", f"sqlite:///{tmp / f'{name}.db'}", sizes)
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        run("PostgreSQL", url, sizes)
