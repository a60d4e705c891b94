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


def test_postgresql_sessions_run_without_jit_or_parallel_workers(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    db.engine.dispose()  # connections made from here on
    with db.engine.connect() as conn:
        for name, value in database.POSTGRES_SESSION.items():
            assert conn.exec_driver_sql(f"SHOW {name}").scalar() == value
        assert not conn.connection.dbapi_connection.autocommit
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_is_lock_error():
    assert database.is_lock_error(_lock_error())
    assert database.is_lock_error(sqlite3.OperationalError("database table is locked"))
    assert not database.is_lock_error(
        OperationalError("x", {}, sqlite3.OperationalError("disk I/O error"))
    )
    assert not database.is_lock_error(IntegrityError("x", {}, Exception("UNIQUE")))


def test_a_postgresql_deadlock_is_worth_running_again():
    class DeadlockDetected(Exception):  # psycopg's, as far as the check reads it
        sqlstate = "40P01"

    class UniqueViolation(Exception):
        sqlstate = "23505"

    assert database.is_lock_error(OperationalError("UPDATE …", {}, DeadlockDetected("x")))
    assert not database.is_lock_error(IntegrityError("INSERT …", {}, UniqueViolation("x")))


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


def _sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")


def _other_process_has_the_turn(path: str) -> bool:
    """Would another process get the file's write turn now? (A descriptor of its own.)"""
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.mark.parametrize("end", ["commit", "rollback", "commit as SQL", "close"])
def test_a_writer_holds_the_write_turn_until_its_transaction_ends(app, end):
    _sqlite_only()
    conn = db.engine.connect()
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, database.WriterConnection)
    lock_file = f"{db.engine.url.database}-writer.lock"
    conn.execute(select(func.count()).select_from(JobSetting))
    assert raw.holding == (False, False)  # reading takes no turn
    conn.execute(insert(JobSetting.__table__).values(job_id="x", enabled=True))
    assert raw.holding == (True, True)
    assert not _other_process_has_the_turn(lock_file)
    if end == "commit":
        conn.commit()
    elif end == "rollback":
        conn.rollback()
    elif end == "commit as SQL":
        conn.exec_driver_sql("COMMIT")
    else:
        raw.close()
    assert raw.holding == (False, False)
    assert _other_process_has_the_turn(lock_file)
    if end == "close":
        conn.invalidate()
    conn.close()


def test_writers_of_one_process_take_turns(app):
    _sqlite_only()
    first = db.engine.connect()
    first.execute(insert(JobSetting.__table__).values(job_id="primeiro", enabled=True))
    order = []
    engine = db.engine

    def second_writer():
        with engine.begin() as second:
            second.execute(insert(JobSetting.__table__).values(job_id="segundo", enabled=True))
            order.append("segundo")

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive()  # waiting for its turn, not failing
    order.append("primeiro")
    first.commit()
    thread.join(30)
    first.close()
    assert order == ["primeiro", "segundo"]
    assert set(db.session.scalars(select(JobSetting.job_id))) == {"primeiro", "segundo"}


def test_a_turn_not_had_in_time_leaves_the_wait_to_sqlite(app, monkeypatch):
    """Someone holds the file's turn without writing (a stuck process): writers go on."""
    import fcntl
    import os

    _sqlite_only()
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    lock_file = f"{db.engine.url.database}-writer.lock"
    db.session.scalar(select(func.count()).select_from(JobSetting))  # the file exists
    fd = os.open(lock_file, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(JobSetting.__table__).values(job_id="x", enabled=True))
            assert conn.connection.dbapi_connection.holding == (True, False)
    finally:
        os.close(fd)
    assert db.session.scalar(select(func.count()).select_from(JobSetting)) == 1


def test_a_thread_never_waits_for_the_turn_it_holds_itself(app, monkeypatch):
    """A second connection of the thread holding the turn (a sync's progress write beside
    its uncommitted work) is not queued behind itself for the busy timeout: it goes
    straight to SQLite, whose busy handler answers with that connection's own timeout."""
    _sqlite_only()
    turn = database._turn_for(db.engine.url.database)
    waits = []

    class Spy:
        def __init__(self, lock):
            self.lock = lock

        def acquire(self, timeout=-1):
            waits.append(timeout)
            return self.lock.acquire(timeout=timeout)

        def release(self):
            self.lock.release()

    monkeypatch.setattr(turn, "local", Spy(turn.local))
    first = db.engine.connect()
    first.execute(insert(JobSetting.__table__).values(job_id="primeiro", enabled=True))
    second = db.engine.connect()
    second.exec_driver_sql("PRAGMA busy_timeout=50")
    second.commit()
    with pytest.raises(OperationalError) as raised:
        second.execute(insert(JobSetting.__table__).values(job_id="segundo", enabled=True))
    assert isinstance(raised.value.orig, sqlite3.OperationalError)
    assert "locked" in str(raised.value.orig)
    assert second.connection.dbapi_connection.holding == (False, False)
    assert len(waits) == 1  # the first connection's turn only
    second.rollback()
    second.exec_driver_sql(f"PRAGMA busy_timeout={database.BUSY_TIMEOUT_MS}")
    second.close()
    first.commit()
    first.close()
    assert set(db.session.scalars(select(JobSetting.job_id))) == {"primeiro"}


def test_in_memory_databases_have_no_turn():
    assert database._turn_for(":memory:") is None
    assert database._turn_for("file:x?mode=memory&cache=shared") is None
    assert database._turn_for("/tmp/a.db") is database._turn_for("/tmp/../tmp/a.db")
