"""SQLite engine tuning and lock-safe writes.

SQLite has one writer at a time. pysqlite's own transaction handling opens a *deferred*
transaction (``SAVEPOINT`` even opens one by itself), so a transaction that has read first and
then writes must upgrade its lock, and in WAL mode that upgrade fails at once with ``database is
locked`` when another connection committed meanwhile — the busy timeout never helps. With three
syncs, webhooks and signups writing side by side that lost records.

The recipe, after SQLAlchemy's documented one for pysqlite ("Serializable isolation /
Savepoints / Transactional DDL"): pysqlite's transaction handling is turned off
(``isolation_level = None``) and the transaction is opened here with ``BEGIN IMMEDIATE``, which
takes the write lock up front and waits for it (``busy_timeout``). Unlike the plain recipe, the
``BEGIN IMMEDIATE`` is emitted lazily, right before the first statement that writes (or opens a
savepoint); reads before that run in autocommit, each on a fresh snapshot — the same "read
committed" view the app gets on PostgreSQL — so a page that only reads never holds, or waits
for, the write lock, and readers still never block the writer (WAL).

SQLite's busy handler waits for the lock by sleeping (1, 2, 5, 10 … up to 100 ms at a time), so
under contention the lock sits free while its waiters sleep: with web processes, workers and
senders writing side by side, most of the lock's time went to nobody. Writers therefore take a
*write turn* before ``BEGIN IMMEDIATE`` (``WriterConnection``): within a process they queue on
a lock (the next starts the moment the last one commits), and the one whose turn it is takes
an advisory ``flock`` on ``<database>-writer.lock``, polled every millisecond or so, so the
processes sharing the file take turns at once too.

``retry_on_lock`` re-runs a unit of work (a sync page, a webhook store) after a rollback when
the lock still could not be had within the busy timeout.

PostgreSQL sessions get ``POSTGRES_SESSION`` on connect: no JIT and no parallel workers. The
app's queries are index walks and summary reads of a few milliseconds; on those, JIT compiled
for 28 ms a query that ran in 76, and a parallel plan's start-up (two workers for a
grouping of ~1,600 summary rows) made a 10 ms report take 30-110 ms. Big scans, where either
would pay, are what the app avoids by design.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
LOCK_RETRIES = 5  # attempts of a unit of work that keeps meeting a locked database
LOCK_RETRY_DELAY = 0.2  # seconds, times the attempt number, plus jitter
# Statements that need the write lock: the transaction starts (BEGIN IMMEDIATE) before them.
WRITE_KEYWORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER"}
)
DEADLOCK_SQLSTATE = "40P01"  # PostgreSQL's deadlock_detected
LOCK_MESSAGES = ("database is locked", "database table is locked", "database is busy")

POSTGRES_SESSION = {"jit": "off", "max_parallel_workers_per_gather": "0"}

_installed = False


TURN_POLL_SECONDS = (0.0005, 0.001, 0.002)  # between tries of the file lock, then the last


class WriteTurn:
    """One database file's write turn: a lock for this process's writers and the file lock
    the processes sharing the database take turns on."""

    def __init__(self, path: str):
        self.path = path
        self.local = threading.Lock()
        self.owner: threading.Thread | None = None  # the thread holding ``local``
        # The file's connections: WriterConnections bound to this turn.
        self.connection_class = type("WriterConnection", (WriterConnection,), {"turn": self})

    def open(self):
        """A descriptor of the lock file for one connection (a flock belongs to it)."""
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # a read-only directory: take turns within this process only
            return None

    def acquire(self, fd: int | None, timeout: float) -> tuple[bool, bool]:
        """(had the process's turn, had the file's); False where not within ``timeout``, and
        at once when this thread holds the turn on another connection (a sync's progress
        write beside its own uncommitted work): waiting would only wait for itself, so
        SQLite's busy handler decides, with that connection's own busy timeout."""
        me = threading.current_thread()  # the object: an ident is reused once a thread ends
        if self.owner is me:
            return False, False
        deadline = time.monotonic() + timeout
        if not self.local.acquire(timeout=timeout):
            return False, False
        self.owner = me
        if fd is None:
            return True, False
        tries = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True, True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return True, False
                time.sleep(TURN_POLL_SECONDS[min(tries, len(TURN_POLL_SECONDS) - 1)])
                tries += 1
            except OSError:  # a file system without flock
                return True, False

    def release(self, fd: int | None, local: bool, shared: bool) -> None:
        if shared:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if local:
            self.owner = None
            self.local.release()


class WriterConnection(sqlite3.Connection):
    """A pysqlite connection that takes its database's write turn before ``BEGIN IMMEDIATE``
    and gives it back when the transaction ends (commit, rollback, close, or a statement that
    ended it).

    The turn only orders writers; SQLite's own lock still guards the data. A turn not had
    within the busy timeout is gone without (SQLite's handler decides), so a transaction ended
    by some path not seen here can slow writers down but never stop them."""

    turn: WriteTurn | None = None  # set on each database file's subclass (WriteTurn)
    turn_fd: int | None = None
    holding: tuple[bool, bool] = (False, False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.turn_fd = self.turn.open() if self.turn is not None else None

    def take_turn(self) -> None:
        if self.turn is not None and self.holding == (False, False):
            self.holding = self.turn.acquire(self.turn_fd, BUSY_TIMEOUT_MS / 1000)

    def end_turn(self) -> None:
        if self.holding != (False, False):
            local, shared = self.holding
            self.holding = (False, False)
            self.turn.release(self.turn_fd, local, shared)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()
            if self.turn_fd is not None:
                os.close(self.turn_fd)
                self.turn_fd = None

    def __del__(self) -> None:  # never leave a turn held by a connection nobody closed
        fd, self.turn_fd = self.turn_fd, None
        if self.holding[0]:
            self.holding = (False, False)
            self.turn.owner = None
            self.turn.local.release()
        if fd is not None:
            os.close(fd)  # drops its flock


_turns: dict[str, WriteTurn] = {}
_turns_lock = threading.Lock()


def _turn_for(database: str) -> WriteTurn | None:
    """The write turn of one database file (None for in-memory databases)."""
    if "mode=memory" in database:
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    path = os.path.abspath(database)
    with _turns_lock:
        found = _turns.get(path)
        if found is None:
            found = _turns[path] = WriteTurn(f"{path}-writer.lock")
        return found


def install() -> None:
    """Hook the SQLite tuning on every engine (idempotent; other dialects are untouched)."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "do_connect", _writer_connection)
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "before_cursor_execute", _begin_immediate_before_write)
    event.listen(Engine, "after_cursor_execute", _end_turn_after_end)
    _installed = True


def _writer_connection(dialect, _record, cargs, cparams):
    """pysqlite connections are made as WriterConnections of their file (the connection
    itself is left to the dialect, and to any other ``do_connect`` listener)."""
    if dialect.name == "sqlite" and dialect.driver == "pysqlite" and "factory" not in cparams:
        turn = _turn_for(str(cparams.get("database", cargs[0] if cargs else "")))
        cparams["factory"] = turn.connection_class if turn is not None else WriterConnection


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        if type(dbapi_connection).__module__.startswith("psycopg"):
            _postgres_session(dbapi_connection)
        return
    # SQLAlchemy (and this module) emit BEGIN/COMMIT; pysqlite must not open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _postgres_session(dbapi_connection) -> None:
    """``SET`` each of ``POSTGRES_SESSION`` for the life of the connection (outside any
    transaction, as SQLAlchemy's recipe for per-connection settings does)."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cursor:
            for name, value in POSTGRES_SESSION.items():
                cursor.execute(f"SET {name} = {value}")
    finally:
        dbapi_connection.autocommit = autocommit


def _first_keyword(statement: str) -> str:
    head = statement.lstrip(" \t\r\n(")[:16]
    return head.split(None, 1)[0].upper() if head else ""


def _begin_immediate_before_write(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name != "sqlite":
        return
    raw = cursor.connection
    if raw.in_transaction or _first_keyword(statement) not in WRITE_KEYWORDS:
        return
    # Takes the write lock now, waiting up to busy_timeout; never upgrades a read snapshot.
    if isinstance(raw, WriterConnection):
        raw.take_turn()
    try:
        raw.execute("BEGIN IMMEDIATE")
    except BaseException:
        if isinstance(raw, WriterConnection):
            raw.end_turn()
        raise


def _end_turn_after_end(conn, cursor, statement, parameters, context, executemany):
    """A statement that ended the transaction (a ``COMMIT`` sent as SQL) ends the turn."""
    raw = cursor.connection
    if isinstance(raw, WriterConnection) and raw.holding[0] and not raw.in_transaction:
        raw.end_turn()


def is_lock_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (the lock was not had within the busy timeout)
    and PostgreSQL's "deadlock detected" (the server rolled this transaction back to let the
    other go on): either way the unit of work is worth running again."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == DEADLOCK_SQLSTATE:
        return True
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    message = str(orig).lower()
    return any(text in message for text in LOCK_MESSAGES)


def retry_on_lock(
    work: Callable[[], T],
    *,
    attempts: int = LOCK_RETRIES,
    delay: float = LOCK_RETRY_DELAY,
    what: str = "write",
) -> T:
    """Run ``work``; when it meets a locked SQLite database, roll back and run it again.

    ``work`` must be safe to repeat after a rollback of the session (it re-reads what it
    needs). Other errors, and the last lock error, propagate.
    """
    from app.extensions import db

    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if not is_lock_error(exc) or attempt >= attempts:
                raise
            db.session.rollback()
            log.warning("%s met a locked database (attempt %s); retrying", what, attempt)
            lock_pause(attempt, delay)
    raise AssertionError("unreachable")  # pragma: no cover


# The errors a database that went away (PostgreSQL stopped or restarted, the network, a pool
# exhausted) raises: a temporary condition — answered 503, or waited out by a sender.
UNAVAILABLE_ERRORS = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, UNAVAILABLE_ERRORS):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def lock_pause(attempt: int, delay: float = LOCK_RETRY_DELAY) -> None:
    """Back off before the next attempt after a locked database (grows, with jitter)."""
    time.sleep(delay * attempt + random.uniform(0, delay))


def release_session(_exc: BaseException | None = None) -> None:
    """End the request's session even when the database went away under it.

    Flask-SQLAlchemy's own teardown rolls back on the pooled connection; if the server has just
    dropped it (PostgreSQL stopped or restarted), that rollback raises *after* the answer was
    chosen and the worker answers a bare 500. Here the connection is invalidated instead, so a
    503 (or a 2xx for what was committed) reaches the client as decided.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from app.extensions import db

    try:
        db.session.remove()
    except SQLAlchemyError:
        log.warning("database connection lost at the end of a request; discarding it")
        try:
            if db.session.registry.has():
                db.session.registry().invalidate()  # drop the connection, no ROLLBACK
        except SQLAlchemyError:
            pass
        db.session.registry.clear()
