"""SQLite engine tuning: writers wait for the lock instead of failing; lock retries."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app import database
from app.extensions import db
from app.models import JobSetting


def _lock_error() -> OperationalError:
    return OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))


def test_a_transaction_that_read_first_still_writes_after_another_writer_committed(app):
    """The WAL upgrade trap: read, someone else commits, then write (failed at once before)."""
    db.session.add(JobSetting(job_id="meu", enabled=True))
    db.session.commit()
    other_done = threading.Event()
    engine = db.engine

    def other_writer():  # another worker writes and commits meanwhile
        with engine.begin() as other:
            other.execute(insert(JobSetting.__table__).values(job_id="outro", enabled=True))
        other_done.set()

    with db.session.begin_nested():  # a savepoint per record, as the syncers do
        assert db.session.scalar(select(func.count()).select_from(JobSetting)) == 1  # read
        thread = threading.Thread(target=other_writer)
        thread.start()
        # Before the fix the other writer commits here; now it waits for our write lock.
        other_done.wait(1)
        db.session.add(JobSetting(job_id="meu:item", enabled=True))
        db.session.flush()  # then this transaction writes
    db.session.commit()
    thread.join(30)
    assert other_done.is_set()
    assert set(db.session.scalars(select(JobSetting.job_id))) == {"outro", "meu", "meu:item"}


def test_sqlite_connections_are_tuned(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == database.BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        conn.execute(select(func.count()).select_from(JobSetting))
        raw = conn.connection.dbapi_connection
        assert not raw.in_transaction  # a read takes no lock and holds no transaction
        conn.execute(insert(JobSetting.__table__).values(job_id="x", enabled=True))
        assert raw.in_transaction  # BEGIN IMMEDIATE right before the first write
        conn.rollback()


def test_is_lock_error():
    assert database.is_lock_error(_lock_error())
    assert database.is_lock_error(sqlite3.OperationalError("database table is locked"))
    assert not database.is_lock_error(
        OperationalError("x", {}, sqlite3.OperationalError("disk I/O error"))
    )
    assert not database.is_lock_error(IntegrityError("x", {}, Exception("UNIQUE")))


def test_retry_on_lock_rolls_back_and_runs_the_work_again(app, monkeypatch):
    monkeypatch.setattr(database, "lock_pause", lambda *a, **k: None)
    calls = []

    def work():
        calls.append(1)
        db.session.add(JobSetting(job_id=f"tentativa:{len(calls)}", enabled=True))
        if len(calls) < 3:
            raise _lock_error()
        db.session.commit()
        return "ok"

    assert database.retry_on_lock(work) == "ok"
    assert list(db.session.scalars(select(JobSetting.job_id))) == ["tentativa:3"]


def test_retry_on_lock_gives_up_and_other_errors_pass_through(app, monkeypatch):
    monkeypatch.setattr(database, "lock_pause", lambda *a, **k: None)
    calls = []

    def locked():
        calls.append(1)
        raise _lock_error()

    with pytest.raises(OperationalError):
        database.retry_on_lock(locked, attempts=3)
    assert len(calls) == 3

    def broken():
        calls.append(1)
        raise OperationalError("x", {}, sqlite3.OperationalError("disk I/O error"))

    calls.clear()
    with pytest.raises(OperationalError):
        database.retry_on_lock(broken)
    assert len(calls) == 1
