"""Webhook ingest over HTTP: the product against a bare endpoint, both under gunicorn
(``-w 2 --threads 4``) in the same run, driven by the same load generator (wrk + ingest.lua).

1. Ingest: distinct authenticated Hotmart approvals from 10, 50 and 100 concurrent senders;
   throughput and p99 of the product (verify, dedupe, store, 2xx — processing continues in
   its background worker threads) against ``bench/bare_app.py`` (a constant-time token check
   and one durable insert). Goals: >= 0.7x the bare throughput, p99 <= 3x the bare p99.
   Between levels the product's backlog is drained, and every 2xx is checked stored.
2. Webhook -> e-mail: approvals sent at a fixed rate (100/s) for N seconds; for each, the time
   from the POST to the activation e-mail accepted by an SMTP server (aiosmtpd, this process).
   Goal: p99 <= 5 s.

Between levels, and before the e-mail run, the run waits until every event is processed and
every e-mail sent, so each phase starts with an empty backlog.

Usage: ``bench/bench_ingest.py [--duration S] [--e2e-seconds S] [--rate R]``; the database is a
fresh SQLite file, or ``BENCH_DATABASE_URL`` (PostgreSQL: a throwaway database, its schema is
dropped first). ``make bench`` runs a short version (5 s per level, 10 s of e-mail);
``make bench-full`` the 60 s one.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

HOTTOK = "bench-hottok-0123456789"
LEVELS = (10, 50, 100)
GOAL_THROUGHPUT, GOAL_P99, GOAL_E2E_P99 = 0.7, 3.0, 5.0


def app_env(url: str, **extra: str) -> dict[str, str]:
    """The product app's environment for an ingest run on ``url`` (no scheduler, no limit)."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "SETTINGS_ENCRYPTION_KEYS": KEY,
        "APP_URL": "http://localhost",
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_ENABLED": "false",
        "WEBHOOK_RATE_LIMIT": "100000000 per minute",
        "HOTMART_WEBHOOK_HOTTOK": HOTTOK,
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body_template(tmp: Path) -> Path:
    fixture = ROOT / "tests/fixtures/webhooks/hotmart/purchase_approved.json"
    body = copy.deepcopy(json.loads(fixture.read_text()))
    body["id"] = "__ID__"
    body["data"]["purchase"]["transaction"] = "HP__ID__"
    body["data"]["buyer"]["email"] = "b__ID__@example.com"
    path = tmp / "approval.json"
    path.write_text(json.dumps(body))
    return path


def migrate(url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig

    env = {"DATABASE_URL": url, "SECRET_KEY": "bench", "SETTINGS_ENCRYPTION_KEYS": KEY}
    app = create_app(TestConfig(env), instance_path=str(tmp / "instance"))
    with app.app_context():
        upgrade()


KEY = Fernet.generate_key().decode()


class Gunicorn:
    def __init__(self, target: str, env: dict, tmp: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4", "-b",
             f"127.0.0.1:{self.port}", "--timeout", "60", target],
            cwd=ROOT, env={**base, **env, "PYTHONPATH": str(ROOT)},
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} exited: see {tmp / name}.log")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{name} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(url: str, connections: int, seconds: int, template: Path, prefix: str) -> dict:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "15s",
         "-s", str(ROOT / "bench/ingest.lua"), url, "--", str(template), HOTTOK, prefix],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["ok"] = result["requests"] - result["non2xx"]
    return result


def wait_drained(engine, timeout: float = 600) -> tuple[float, float]:
    """Until no event is left 'received' and no e-mail is left to send (the background worker
    caught up); seconds waited for each."""
    start = time.monotonic()
    events = None
    while time.monotonic() - start < timeout:
        with engine.connect() as conn:
            left = conn.scalar(
                text("SELECT count(*) FROM webhook_events WHERE status = 'received'")
            )
            mail = conn.scalar(
                text("SELECT count(*) FROM outbox_emails WHERE status IN ('pending', 'sending')")
            )
        if not left and events is None:
            events = time.monotonic() - start
        if not left and not mail:
            return events, time.monotonic() - start
        time.sleep(0.5)
    raise SystemExit(f"backlog not drained in {timeout:.0f} s")


def reset(url: str) -> None:
    """A PostgreSQL bench database starts empty (its schema is dropped: a throwaway database)."""
    if not url.startswith("postgres"):
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def stored(engine, table: str, prefix: str, column: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text(f"SELECT count(*) FROM {table} WHERE {column} LIKE :p"), {"p": f"%{prefix}-%"}
        )


def _serve_inbox(port: int, accepted, ready) -> None:
    """The SMTP server's process: every recipient and when its message was accepted."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            now = time.time()
            for rcpt in envelope.rcpt_tos:
                accepted.put((rcpt.lower(), now))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()  # until terminated


class Inbox:
    """aiosmtpd in a process of its own (so neither the load generator nor the server waits
    on the other for the GIL): the time each activation e-mail was accepted, per recipient."""

    def __init__(self):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self._queue = context.Queue()
        self._accepted: dict[str, float] = {}
        ready = context.Event()
        self.process = context.Process(
            target=_serve_inbox, args=(self.port, self._queue, ready), daemon=True
        )
        self.process.start()
        if not ready.wait(30):
            raise SystemExit("the SMTP server did not start")

    @property
    def accepted(self) -> dict[str, float]:
        while True:
            try:
                rcpt, when = self._queue.get_nowait()
            except Exception:  # queue.Empty
                return self._accepted
            self._accepted.setdefault(rcpt, when)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def e2e(url: str, template: Path, inbox: Inbox, rate: int, seconds: int, prefix: str) -> dict:
    """Open loop: approval i is posted at t0 + i/rate; latency = SMTP accept - POST start."""
    body = template.read_text()
    total = rate * seconds
    sent: dict[str, float] = {}
    answers: list[int] = []
    local = threading.local()

    def post(i: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        ident = f"{prefix}-{i}"
        started = time.time()
        sent[f"b{ident}@example.com".lower()] = started
        try:
            status = session.post(
                f"{url}/webhook/hotmart",
                data=body.replace("__ID__", ident).encode(),
                headers={"Content-Type": "application/json", "X-HOTMART-HOTTOK": HOTTOK},
                timeout=30,
            ).status_code
        except requests.RequestException:
            status = 0
        answers.append(status)

    with ThreadPoolExecutor(max_workers=32) as pool:
        t0 = time.monotonic()
        for i in range(total):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, i)
        achieved = total / (time.monotonic() - t0)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(set(sent) & set(inbox.accepted)) < total:
        time.sleep(0.5)
    accepted = inbox.accepted
    latencies = sorted(accepted[k] - v for k, v in sent.items() if k in accepted)
    p = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "sent": total,
        "rate": achieved,
        "ok": sum(1 for a in answers if a == 200),
        "mailed": len(latencies),
        "p50": p[49],
        "p99": p[98],
        "max": latencies[-1] if latencies else 0.0,
    }


def _preload(url: str, tmp: Path, count: int) -> None:
    from app import create_app
    from bench.bench_pages import preload

    started = time.perf_counter()
    env = app_env(url, WORKER_THREADS="0")
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        app = create_app(instance_path=str(tmp / "preload"))
        with app.app_context():
            preload(count)
            from app.extensions import db

            db.engine.dispose()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    print(f"preloaded {count:,} sales, links and events in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per level")
    parser.add_argument("--e2e-seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=100, help="approvals/s for the e-mail run")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="senders per run")
    parser.add_argument(
        "--worker-threads", default=None, help="WORKER_THREADS of the product (default: its own)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="an extra setting of the product's environment (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--preload",
        type=int,
        default=0,
        help="load N sales, links and events into the product's database first "
        "(bench_pages.preload): the same runs on a full database",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="vendashub-ingest-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'product.db'}"
    bare_url = url if url.startswith("postgres") else f"sqlite:///{tmp / 'bare.db'}"
    backend = url.split(":")[0]
    reset(url)
    migrate(url, tmp)
    if args.preload:
        _preload(url, tmp, args.preload)
    engine, bare_engine = create_engine(url), create_engine(bare_url)
    template = body_template(tmp)
    inbox = Inbox()
    run = uuid.uuid4().hex[:6]
    product_env = app_env(url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(inbox.port))
    if args.worker_threads is not None:
        product_env["WORKER_THREADS"] = args.worker_threads
    product_env.update(item.split("=", 1) for item in args.set)
    bare = Gunicorn("bench.bare_app:app", {"BARE_DATABASE_URL": bare_url, "BARE_TOKEN": HOTTOK},
                    tmp, "bare")  # fmt: skip
    product = Gunicorn("wsgi:app", product_env, tmp, "product")
    rows = []
    try:
        for level in [int(n) for n in args.levels.split(",")]:
            prefix = f"{run}c{level}"
            b = wrk(bare.url, level, args.duration, template, f"{prefix}bare")
            p = wrk(product.url, level, args.duration, template, prefix)
            drained = (
                wait_drained(engine) if product_env.get("WORKER_THREADS") != "0" else (0.0, 0.0)
            )
            p_stored = stored(engine, "webhook_events", prefix, "dedupe_key")
            b_stored = stored(bare_engine, "bare_events", f"{prefix}bare", "body")
            lost = max(0, p["ok"] - p_stored)
            rows.append((level, b, p, drained, lost, b_stored))
        mail = None
        if args.e2e_seconds:
            mail = e2e(product.url, template, inbox, args.rate, args.e2e_seconds, f"{run}mail")
    finally:
        product.stop()
        bare.stop()
        inbox.stop()

    print(f"\nwebhook ingest over HTTP, gunicorn -w 2 --threads 4, wrk -t 2, database {backend}, "
          f"{args.duration} s per level")  # fmt: skip
    print(
        f"{'senders':>7} | {'bare req/s':>10} {'bare p99':>9} | {'product req/s':>13} "
        f"{'p99':>8} | {'x thrpt':>7} {'x p99':>6} | goal | processed / mailed after | non-2xx"
    )
    for level, b, p, drained, lost, _ in rows:
        ratio = p["rps"] / b["rps"]
        p99_ratio = p["p99_us"] / max(b["p99_us"], 1)
        met = "met" if ratio >= GOAL_THROUGHPUT and p99_ratio <= GOAL_P99 else "GAP"
        print(
            f"{level:>7} | {b['rps']:>10.0f} {b['p99_us'] / 1000:>7.1f}ms | {p['rps']:>13.0f} "
            f"{p['p99_us'] / 1000:>6.1f}ms | {ratio:>6.2f}x {p99_ratio:>5.2f}x | {met:>4} | "
            f"{drained[0]:>5.1f} / {drained[1]:>5.1f} s | {p['non2xx'] + p['socket_errors']}"
            + (f"  LOST {lost}" if lost else "")
        )
    shutil.rmtree(tmp, ignore_errors=True)
    if mail is None:
        return
    met = "met" if mail["p99"] <= GOAL_E2E_P99 and mail["mailed"] == mail["sent"] else "GAP"
    print(
        f"webhook -> e-mail accepted by SMTP at {mail['rate']:.0f} approvals/s for "
        f"{args.e2e_seconds} s: {mail['mailed']}/{mail['sent']} mailed, p50 {mail['p50']:.2f} s, "
        f"p99 {mail['p99']:.2f} s, max {mail['max']:.2f} s (goal p99 <= {GOAL_E2E_P99:.0f} s: "
        f"{met})"
    )


if __name__ == "__main__":
    main()
