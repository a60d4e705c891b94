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

``retry_on_lock`` re-runs a unit of work (a sync page, a webhook store) after a rollback when
the lock still could not be had within the busy timeout.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event
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
LOCK_MESSAGES = ("database is locked", "database table is locked", "database is busy")

_installed = False


def install() -> None:
    """Hook the SQLite tuning on every engine (idempotent; other dialects are untouched)."""
    global _installed
    if _installed:
        return
    event.listen(Engine, "connect", _on_connect)
    event.listen(Engine, "before_cursor_execute", _begin_immediate_before_write)
    _installed = True


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLAlchemy (and this module) emit BEGIN/COMMIT; pysqlite must not open transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


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
    raw.execute("BEGIN IMMEDIATE")


def is_lock_error(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (the lock was not had within the busy timeout)."""
    orig = getattr(exc, "orig", exc)
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
