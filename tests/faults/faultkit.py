"""Process-level fault harness: gunicorn serving the app, a private PostgreSQL cluster, and
bursts of correctly signed webhook deliveries built by the emulator.

Nothing here waits on wall-clock speed: every wait is "until a condition holds", bounded by a
generous deadline that only matters when something is broken.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from emulator.webhooks import build_event, send
from tests.conftest import TEST_KEY, WEBHOOK_SECRETS, free_port

ROOT = Path(__file__).resolve().parents[2]


def _pg_bin() -> Path:
    """PG_BIN if set, else Debian's /usr/lib/postgresql/<newest>/bin (15 on this machine)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
PLATFORMS = ("hotmart", "kiwify", "kirvano")
SECRET_OF = {
    "hotmart": WEBHOOK_SECRETS["HOTMART_WEBHOOK_HOTTOK"],
    "kiwify": WEBHOOK_SECRETS["KIWIFY_WEBHOOK_SECRET"],
    "kirvano": WEBHOOK_SECRETS["KIRVANO_WEBHOOK_SECRET"],
}
DEADLINE = 60.0  # seconds; only reached when something is broken


def wait_until(predicate: Callable[[], object], timeout: float = DEADLINE, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {timeout:.0f} s")


def children_of(pid: int) -> set[int]:
    """Direct children of ``pid`` (read from /proc, no psutil needed)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." — comm may contain spaces: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[0] != "Z" and int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


# --------------------------------------------------------------------------------- gunicorn


class Gunicorn:
    """``gunicorn wsgi:app`` (the production entry point) on a private port."""

    def __init__(self, database_url: str, workdir: Path, workers: int = 2, threads: int = 4, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.threads = threads
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "faults-secret-key-not-for-production",
            "SETTINGS_ENCRYPTION_KEYS": TEST_KEY,
            "APP_URL": "http://localhost",
            "SCHEDULER_ENABLED": "false",
            "WEBHOOK_RATE_LIMIT": "1000000 per minute",
            "LOG_LEVEL": "WARNING",
            **WEBHOOK_SECRETS,
            **env,
        }
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> Gunicorn:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "30",
                "--graceful-timeout",
                "20",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, what=f"gunicorn on {self.url}\n{self.log_tail()}")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited early\n{self.log_tail()}")
        if len(self.worker_pids()) < self.workers:
            return False
        try:
            requests.get(f"{self.url}/healthz", timeout=5)
        except requests.RequestException:
            return False
        return True

    @property
    def master_pid(self) -> int:
        return self.process.pid

    def worker_pids(self) -> set[int]:
        return children_of(self.process.pid)

    def kill_worker(self) -> int:
        pid = min(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_workers(self, exclude: Iterable[int] = ()) -> set[int]:
        """Until ``workers`` live workers exist, none of them in ``exclude``."""
        exclude = set(exclude)

        def ready():
            pids = self.worker_pids()
            return pids if len(pids) == self.workers and not pids & exclude else None

        return wait_until(ready, what=f"{self.workers} live gunicorn workers\n{self.log_tail()}")

    def health(self) -> int | str:
        try:
            return requests.get(f"{self.url}/healthz", timeout=10).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            workers = self.worker_pids()
            self.process.send_signal(signal.SIGTERM)  # graceful, as systemd stops it
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                for pid in workers:
                    _kill_quietly(pid)
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------------ private PostgreSQL


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, started and stopped by the test.

    Never the machine's shared server: its own data directory, port and socket directory.
    """

    def __init__(self):
        missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).exists()]
        if missing:
            pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN} ({', '.join(missing)})")
        self.prefix: list[str] = []
        owner = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' user for initdb")
            if runuser is None:
                pytest.skip("running as root and 'runuser' is missing to run initdb as postgres")
            self.prefix = [runuser, "-u", "postgres", "--"]
        self.dir = Path(tempfile.mkdtemp(prefix="vh-faults-pg-"))
        if owner is not None:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 90) -> None:
        done = subprocess.run(
            [*self.prefix, *args],
            cwd=self.dir,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout.decode(errors='replace')}\n{done.stderr.decode(errors='replace')}"
                f"\n{self.log_tail()}"
            )

    def init(self) -> PrivatePostgres:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c max_connections=50"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            try:
                self.stop("immediate")
            except AssertionError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# ------------------------------------------------------------------------------ deliveries


@dataclass
class Delivery:
    """One platform event with its exact signed bytes, and every answer it got."""

    platform: str
    transaction: str
    body: bytes
    headers: dict
    query: dict
    answers: list = field(default_factory=list)  # HTTP status codes or exception names

    @property
    def acknowledged(self) -> bool:
        """Answered 2xx at least once: the platform considers it delivered."""
        return any(isinstance(a, int) and 200 <= a < 300 for a in self.answers)

    @property
    def key(self) -> tuple[str, str]:
        return self.platform, self.transaction


def make_deliveries(n: int, prefix: str) -> list[Delivery]:
    """``n`` approvals spread over the three platforms, each a distinct sale and buyer."""
    out = []
    for i in range(n):
        platform = PLATFORMS[i % len(PLATFORMS)]
        transaction = f"{prefix}{i:05d}"
        body, headers, query = build_event(
            platform,
            "approved",
            secret=SECRET_OF[platform],
            transaction=transaction,
            email=f"{prefix.lower()}{i}@example.com",
        )
        out.append(Delivery(platform, transaction, body, headers, query))
    return out


def deliver(base_url: str, delivery: Delivery, timeout: float = 15.0) -> int | str:
    try:
        response = send(
            f"{base_url}/webhook/{delivery.platform}",
            delivery.body,
            delivery.headers,
            delivery.query,
            timeout=timeout,
        )
    except requests.RequestException as exc:
        answer: int | str = type(exc).__name__
    else:
        answer = response.status_code
    delivery.answers.append(answer)
    return answer


def burst(
    base_url: str,
    deliveries: list[Delivery],
    concurrency: int = 6,
    on_answer: Callable[[int], None] | None = None,
) -> list[int | str]:
    """Send all deliveries concurrently; ``on_answer(n)`` runs after the n-th answer."""
    lock = threading.Lock()
    answered = [0]

    def one(delivery: Delivery) -> int | str:
        answer = deliver(base_url, delivery)
        if on_answer is not None:
            with lock:
                answered[0] += 1
                n = answered[0]
            on_answer(n)
        return answer

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, deliveries))


def redeliver_until_acknowledged(
    base_url: str, deliveries: list[Delivery], rounds: int = 20
) -> None:
    """What a platform does: deliver again whatever was not answered 2xx."""
    for _ in range(rounds):
        pending = [d for d in deliveries if not d.acknowledged]
        if not pending:
            return
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda d: deliver(base_url, d), pending))
        time.sleep(0.2)
    pending = [(d.key, d.answers) for d in deliveries if not d.acknowledged]
    raise AssertionError(f"still not acknowledged after {rounds} rounds: {pending[:5]}")


# ----------------------------------------------------------------------------- verification


def stored_counts(prefix: str) -> dict[str, dict[tuple[str, str], int]]:
    """Per (platform, transaction) of this burst: webhook events, sales, links, e-mails."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent

    like = f"{prefix}%"

    def grouped(stmt):
        return {(p, t): n for p, t, n in db.session.execute(stmt)}

    events = grouped(
        select(WebhookEvent.platform, WebhookEvent.transaction_id, func.count())
        .where(WebhookEvent.transaction_id.like(like))
        .group_by(WebhookEvent.platform, WebhookEvent.transaction_id)
    )
    sales = grouped(
        select(Sale.platform, Sale.transaction_id, func.count())
        .where(Sale.transaction_id.like(like))
        .group_by(Sale.platform, Sale.transaction_id)
    )
    links = grouped(
        select(Sale.platform, Sale.transaction_id, func.count(ActivationLink.id))
        .join(ActivationLink, ActivationLink.sale_id == Sale.id)
        .where(Sale.transaction_id.like(like))
        .group_by(Sale.platform, Sale.transaction_id)
    )
    emails = grouped(
        select(Sale.platform, Sale.transaction_id, func.count(OutboxEmail.id))
        .join(ActivationLink, ActivationLink.sale_id == Sale.id)
        .join(
            OutboxEmail,
            (OutboxEmail.ref_type == "activation_link") & (OutboxEmail.ref_id == ActivationLink.id),
        )
        .where(Sale.transaction_id.like(like))
        .group_by(Sale.platform, Sale.transaction_id)
    )
    db.session.rollback()
    return {"events": events, "sales": sales, "links": links, "emails": emails}


def replay_stuck_events() -> dict[str, int]:
    """The scheduled replay job, run once its "leave in-flight events alone" delay has passed:
    events stored but not processed (the worker died between the two commits) are processed."""
    import time_machine

    from app.models.types import utcnow
    from app.services import webhooks

    with time_machine.travel(utcnow() + timedelta(minutes=10), tick=False):
        return webhooks.replay_failed()


def assert_complete_exactly_once(deliveries: list[Delivery], prefix: str) -> None:
    """Every delivery is stored once and became one sale, one link and one queued e-mail."""
    counts = stored_counts(prefix)
    keys = {d.key for d in deliveries}
    for name, per_key in counts.items():
        missing = sorted(keys - set(per_key))
        extra = sorted(set(per_key) - keys)
        twice = sorted(k for k, n in per_key.items() if n != 1)
        assert not missing, f"{name}: {len(missing)} missing, e.g. {missing[:5]}"
        assert not extra, f"{name}: unexpected {extra[:5]}"
        assert not twice, f"{name}: stored more than once: {twice[:5]}"


def assert_acknowledged_are_stored(deliveries: list[Delivery], prefix: str) -> None:
    """Nothing answered 2xx is lost: each acknowledged delivery has exactly one stored event."""
    events = stored_counts(prefix)["events"]
    acknowledged = [d.key for d in deliveries if d.acknowledged]
    lost = [k for k in acknowledged if k not in events]
    twice = [k for k in acknowledged if events.get(k, 0) > 1]
    assert not lost, f"{len(lost)} deliveries answered 2xx but not stored, e.g. {lost[:5]}"
    assert not twice, f"stored more than once: {twice[:5]}"
