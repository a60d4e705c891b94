"""Shared set-up for the benchmarks: a migrated throwaway database and an app."""

from __future__ import annotations

import os
import statistics
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


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of ``repeat`` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
