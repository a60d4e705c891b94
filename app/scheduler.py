"""APScheduler in-process (or ``flask scheduler run``) with a database lease: one leader runs jobs.

Every process that starts a scheduler keeps trying to acquire (or renew) the ``scheduler`` lease
row. Only the holder of an unexpired lease has the jobs scheduled and runs them; when it stops
renewing (process killed, database unreachable) another process takes over after the lease
expires. The leader re-reads the intervals saved in /configuracoes on every renewal, so a change
applies without a restart, and writes each job's next run time for the Settings page.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import bindparam, case, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.sync import SchedulerLease
from app.models.types import UTCDateTime, utcnow
from app.services import jobs as jobs_service
from app.services import sync

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 45
DEFAULT_RENEW_SECONDS = 15
LEASE_JOB_ID = "__lease__"
EXTENSION_KEY = "vendas_scheduler"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """A named row held by one holder until ``expires_at``; acquired with atomic statements."""

    def __init__(self, name: str, holder: str, duration: timedelta):
        self.name = name
        self.holder = holder
        self.duration = duration
        self.expires_at: datetime | None = None

    def acquire(self) -> bool:
        """Acquire, renew, or fail because someone else holds an unexpired lease."""
        now = utcnow()
        expires = now + self.duration
        now_param = bindparam("now_acquired", now, type_=UTCDateTime())
        with db.engine.begin() as conn:
            renewed = conn.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == self.name,
                    or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
                )
                .values(
                    holder=self.holder,
                    expires_at=expires,
                    acquired_at=case(
                        (SchedulerLease.holder == self.holder, SchedulerLease.acquired_at),
                        else_=now_param,
                    ),
                )
            ).rowcount
        if renewed != 1:
            try:
                with db.engine.begin() as conn:
                    conn.execute(
                        insert(SchedulerLease).values(
                            name=self.name, holder=self.holder, expires_at=expires, acquired_at=now
                        )
                    )
            except IntegrityError:
                return False  # the row exists and another holder's lease is still valid
        self.expires_at = expires
        return True

    def valid(self, margin: timedelta = timedelta(0)) -> bool:
        return self.expires_at is not None and utcnow() + margin < self.expires_at

    def release(self) -> None:
        self.expires_at = None
        with db.engine.begin() as conn:
            conn.execute(
                delete(SchedulerLease).where(
                    SchedulerLease.name == self.name, SchedulerLease.holder == self.holder
                )
            )


class Scheduler:
    def __init__(
        self,
        app: Flask,
        *,
        holder: str | None = None,
        lease_seconds: float | None = None,
        renew_seconds: float | None = None,
        jobs: list[jobs_service.Job] | None = None,
    ):
        self.app = app
        config = app.config
        self.holder = holder or default_holder()
        lease = lease_seconds or config.get("SCHEDULER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        self.renew_seconds = float(
            renew_seconds or config.get("SCHEDULER_RENEW_SECONDS", DEFAULT_RENEW_SECONDS)
        )
        self.lease = Lease(jobs_service.LEASE_NAME, self.holder, timedelta(seconds=float(lease)))
        self._fixed_jobs = jobs
        self._aps: BackgroundScheduler | None = None
        self._applied: dict[str, tuple[float, bool]] = {}
        self._lock = threading.RLock()
        self._idle = threading.Condition()
        self._inflight = 0  # our callbacks running in APScheduler's threads
        self._stopping = False
        self._stopped = False
        self.is_leader = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        # APScheduler logs every run at INFO (the lease tick: every 15 s); we log what matters.
        for name in ("apscheduler.executors.default", "apscheduler.scheduler"):
            if logging.getLogger(name).level == logging.NOTSET:
                logging.getLogger(name).setLevel(logging.WARNING)
        self._aps = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        self._aps.add_job(
            self.tick,
            IntervalTrigger(seconds=self.renew_seconds, timezone=UTC),
            id=LEASE_JOB_ID,
            name="scheduler lease",
            next_run_time=datetime.now(UTC),
        )
        self._aps.start()
        log.info("scheduler started (holder %s)", self.holder)

    def shutdown(self, release: bool = True, wait: bool = True, timeout: float = 60) -> None:
        """Stop; ``release=False`` imitates a crash (the lease just expires). Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping = True
        atexit.unregister(self._atexit)
        if self._aps is not None and self._aps.running:
            # Not wait=True: APScheduler would hold its job-store lock while waiting for jobs,
            # and a running lease tick needs that lock. We wait for our callbacks ourselves.
            self._aps.shutdown(wait=False)
        if wait:
            with self._idle:
                self._idle.wait_for(lambda: self._inflight == 0, timeout=timeout)
        with self._lock:
            self.is_leader = False
            self._applied.clear()
        if release:
            with self.app.app_context():
                try:
                    self.lease.release()
                except Exception:
                    log.exception("could not release the scheduler lease")
                finally:
                    db.session.remove()
        log.info("scheduler stopped (holder %s)", self.holder)

    def _atexit(self) -> None:
        self.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    # -- leadership --------------------------------------------------------------------------

    def jobs(self) -> list[jobs_service.Job]:
        return list(self._fixed_jobs) if self._fixed_jobs is not None else jobs_service.catalogue()

    def _enter(self) -> bool:
        with self._idle:
            if self._stopping:
                return False
            self._inflight += 1
            return True

    def _leave(self) -> None:
        with self._idle:
            self._inflight -= 1
            self._idle.notify_all()

    def tick(self) -> bool:
        """Acquire or renew the lease; become leader or step down. Returns leadership."""
        if not self._enter():
            return False
        try:
            with self.app.app_context():
                try:
                    return self._tick()
                finally:
                    db.session.remove()
        finally:
            self._leave()

    def _tick(self) -> bool:
        try:
            leader = self.lease.acquire()
        except Exception:
            log.exception("scheduler lease: database unavailable")
            leader = self.lease.valid()  # keep leading only while the lease we hold lasts
            if leader:
                return True
        with self._lock:
            if leader and not self.is_leader:
                log.info("scheduler %s is now the leader", self.holder)
                self.is_leader = True
                try:
                    sync.mark_stale_runs()
                except Exception:
                    db.session.rollback()
                    log.exception("stale sync run detection failed")
            elif not leader and self.is_leader:
                log.warning("scheduler %s lost the lease; stepping down", self.holder)
                self._step_down()
            if self.is_leader:
                self.apply_settings()
        return leader

    def _step_down(self) -> None:
        self.is_leader = False
        if self._aps is not None:
            for job_id in list(self._applied):
                if self._aps.get_job(job_id) is not None:
                    self._aps.remove_job(job_id)
        self._applied.clear()

    def apply_settings(self) -> None:
        """Make the scheduled jobs match the catalogue and the saved settings (leader only)."""
        with self._lock:
            if not self.is_leader or self._stopping:
                return
            catalogue = self.jobs()
            settings = jobs_service.settings_map()
            wanted = {}
            for job in catalogue:
                wanted[job.id] = jobs_service.effective(job, settings.get(job.id))
            for job_id in set(self._applied) - set(wanted):
                self._remove(job_id)
            for job in catalogue:
                interval, enabled = wanted[job.id]
                if self._applied.get(job.id) == (interval, enabled):
                    continue
                if not enabled:
                    self._remove(job.id)
                elif self._aps is not None:
                    trigger = IntervalTrigger(seconds=interval, timezone=UTC)
                    if self._aps.get_job(job.id) is None:
                        self._aps.add_job(
                            self.run_job, trigger, args=[job.id], id=job.id, name=job.label
                        )
                    else:
                        self._aps.reschedule_job(job.id, trigger=trigger)
                self._applied[job.id] = (interval, enabled)
                jobs_service.record(job.id, next_run_at=self.next_run_time(job.id))

    def _remove(self, job_id: str) -> None:
        if self._aps is not None and self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)
        self._applied.pop(job_id, None)

    def reload(self) -> None:
        """Apply saved settings now (called after the Settings page saves them)."""
        with self.app.app_context():
            try:
                self.apply_settings()
            finally:
                db.session.remove()

    def next_run_time(self, job_id: str) -> datetime | None:
        if self._aps is None or self._stopping:
            return None
        job = self._aps.get_job(job_id)
        return job.next_run_time if job is not None else None

    # -- running -----------------------------------------------------------------------------

    def run_job(self, job_id: str) -> str | None:
        """The APScheduler callback: run a job if this process still holds the lease."""
        if not (self.is_leader and self.lease.valid()):
            log.info("job %s not run: %s does not hold the lease", job_id, self.holder)
            return None
        job = jobs_service.find(job_id, self.jobs())
        if job is None or not self._enter():
            return None
        try:
            with self.app.app_context():
                try:
                    return jobs_service.execute(job, next_run_at=self.next_run_time(job_id))
                finally:
                    db.session.remove()
        finally:
            self._leave()


# ---------------------------------------------------------------------------------------------
# Wiring


def init_app(app: Flask) -> None:
    """Start the scheduler in this process when ``SCHEDULER_ENABLED`` is true.

    It starts on the first request the process serves: never in ``flask db upgrade`` or other
    commands, never in the reloader's parent (which serves nothing), and after gunicorn forks
    its workers (threads do not survive a fork).
    """
    from app.services import syncers

    syncers.load()
    if not app.config.get("SCHEDULER_ENABLED"):
        return
    state = {"pid": None}
    lock = threading.Lock()

    def start_once() -> None:
        if state["pid"] == os.getpid():
            return
        with lock:
            if state["pid"] == os.getpid():
                return
            state["pid"] = os.getpid()
            scheduler = Scheduler(app)
            scheduler.start()
            app.extensions[EXTENSION_KEY] = scheduler
            atexit.register(scheduler._atexit)

    app.before_request(start_once)


def current(app: Flask) -> Scheduler | None:
    return app.extensions.get(EXTENSION_KEY)


def run_forever(app: Flask, *, echo=print) -> None:
    """``flask scheduler run``: this process runs the scheduler until Ctrl-C or SIGTERM."""
    scheduler = Scheduler(app)
    app.extensions[EXTENSION_KEY] = scheduler

    def _terminate(_signum, _frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    scheduler.start()
    echo(f"Agendador em execução (id {scheduler.holder}). Ctrl-C para encerrar.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        echo("Encerrando o agendador…")
    finally:
        scheduler.shutdown()
        signal.signal(signal.SIGTERM, previous)
        app.extensions.pop(EXTENSION_KEY, None)
