"""Bulk upserts of synced pages: one ``INSERT … ON CONFLICT … DO UPDATE … WHERE changed`` per
page and table, on SQLite and PostgreSQL (SQLAlchemy's dialect inserts).

Change detection happens in the statement, without loading anything: the ``DO UPDATE`` only
rewrites a row when one of the synced columns differs from what the page brings
(``t.a IS DISTINCT FROM excluded.a OR …``; JSON compared as ``jsonb`` on PostgreSQL, where
``json`` has no equality). A row edited locally is therefore repaired by the next sync, and an
unchanged record costs no write. ``RETURNING`` tells the counts the sync history shows: a row
not returned was unchanged; a returned row was inserted when ``xmax = 0`` (PostgreSQL) or when
its ``created_at`` is this statement's timestamp (SQLite, which has no ``xmax``; only a row
this statement inserted can carry it). One statement per page, no pre-select, exact under
concurrency on both databases. (A content-hash column was the alternative: it needs a column
per table and cannot see local edits.)

If the bulk statement fails for a reason other than a locked database (one bad record), the page
is rolled back and written row by row, each in a savepoint, so only the bad record is counted
``failed`` (its error in the log) and the run's cursor does not move past it. A page that meets
a locked SQLite database is rolled back and written again whole (``retry_on_lock``).

``last_sync_at`` is the time a sync last *changed* the row.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Text, bindparam, cast, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import SQLAlchemyError

from app.database import is_lock_error, retry_on_lock
from app.extensions import db
from app.models.types import utcnow
from app.services.customers import index as customer_index
from app.sources.base import normalize_email

log = logging.getLogger(__name__)

# Errors of one record that make the whole statement fail (the page is then written row by row).
ROW_ERRORS = (SQLAlchemyError, OverflowError)


@functools.lru_cache(maxsize=20_000)
def _email(value: str) -> str | None:
    return normalize_email(value)


def email(value: Any) -> str | None:
    """``normalize_email`` remembered for the last 20,000 addresses: buyers repeat from page
    to page, and the validator was the costliest step of mapping a page of sales."""
    return _email(value) if isinstance(value, str) else None


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def insert_for(table):
    """The dialect's ``INSERT`` (with ``on_conflict_do_update``) for the session's database."""
    if dialect_name() == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def begin_write() -> None:
    """SQLite: take the write lock now (``BEGIN IMMEDIATE``) so what the page reads before
    writing cannot change under it. PostgreSQL: nothing (rows are locked by the statements)."""
    if dialect_name() != "sqlite":
        return
    conn = db.session.connection()
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def write_page(
    work: Callable[[list], list[str]],
    rows: list,
    *,
    what: str,
    key_of: Callable[[Any], Any],
    on_fail: Callable[[Any, str], None] | None = None,
) -> list[str]:
    """Run ``work(rows)`` (it writes the page; returns one outcome per row) and commit.

    When it fails because of its data, roll back and run it once per row, each in a savepoint:
    the rows that fail again come back ``failed`` (and ``on_fail(key, pt-BR reason)`` hears of
    each, e.g. ``SyncContext.fail``). Lock errors propagate (the caller retries the whole page).
    """
    try:
        outcomes = work(rows)
        db.session.commit()
        return outcomes
    except ROW_ERRORS as exc:
        if is_lock_error(exc):
            raise
        db.session.rollback()
        log.warning("%s: bulk write failed (%s); writing the page row by row", what, _brief(exc))
    outcomes = []
    for row in rows:
        try:
            with db.session.begin_nested():
                outcomes.extend(work([row]))
        except ROW_ERRORS as exc:
            if is_lock_error(exc):
                raise
            log.error("%s: record %s could not be saved: %s", what, key_of(row), _brief(exc))
            outcomes.append("failed")
            if on_fail is not None:
                on_fail(key_of(row), plain_error(exc))
    db.session.commit()
    return outcomes


def plain_error(exc: BaseException) -> str:
    """Why the database refused one record, for the seller (the technical cause in brackets)."""
    from sqlalchemy.exc import DataError, IntegrityError

    if isinstance(exc, IntegrityError):
        reason = "um dado obrigatório veio vazio ou repetido"
    elif isinstance(exc, (DataError, OverflowError)):
        reason = "um valor veio em formato ou tamanho que o banco de dados não aceita"
    else:
        reason = "o banco de dados recusou o registro"
    return f"Não foi possível salvar: {reason} (detalhe técnico: {_brief(exc)})."


def _brief(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).splitlines()[0] if str(orig) else ""
    return f"{type(orig).__name__}: {first}"[:160]  # never the failing row's data (DETAIL)


def dedupe(rows: Iterable[dict], key: Callable[[dict], Any]) -> tuple[list[dict], int]:
    """The rows with one entry per key (the last one wins) and how many were dropped.

    PostgreSQL refuses an upsert that touches the same row twice in one statement."""
    by_key: dict[Any, dict] = {}
    count = 0
    for row in rows:
        count += 1
        by_key[key(row)] = row
    return list(by_key.values()), count - len(by_key)


def upsert_page(
    ctx,
    model,
    rows: Sequence[dict],
    *,
    keys: tuple[str, ...] = ("remote_id",),
    fixed: dict[str, Any] | None = None,
) -> dict[str, int]:
    """Upsert one page of mapped ``rows`` of ``model`` keyed by ``keys`` (one statement, one
    commit) and count each row under created/updated/unchanged/failed in ``ctx``.

    ``fixed`` columns (e.g. ``{"platform": "hotmart"}``) are the same for every row and part of
    the conflict target with ``keys``. Returns the counts of this page.
    """
    fixed = dict(fixed or {})
    counts = dict.fromkeys(("created", "updated", "unchanged", "failed"), 0)
    if not rows:
        return counts
    unique, repeated = dedupe(rows, lambda r: tuple(r[k] for k in keys))
    counts["unchanged"] += repeated  # a record listed twice in one page is written once
    payload = [{**fixed, **row} for row in unique]
    table = model.__table__
    target = (*fixed, *keys)
    what = f"{table.name} sync page"
    outcomes = retry_on_lock(
        lambda: write_page(
            lambda batch: _upsert(table, batch, target),
            payload,
            what=what,
            key_of=lambda r: _key(r, keys),
            on_fail=_fail_into(ctx),
        ),
        what=what,
    )
    for outcome in outcomes:
        counts[outcome] += 1
    if model in customer_index.WATCHED and (counts["created"] or counts["updated"]):
        customer_index.after_page(model, payload)
    if ctx is not None:
        ctx.tally(counts)
    return counts


def _fail_into(ctx) -> Callable[[Any, str], None] | None:
    """``ctx.fail`` for ``write_page`` (a composite key is shown as ``a / b``)."""
    if ctx is None or not hasattr(ctx, "fail"):
        return None

    def fail(key: Any, error: str) -> None:
        ctx.fail(" / ".join(map(str, key)) if isinstance(key, tuple) else key, error)

    return fail


def _key(row: dict, keys: tuple[str, ...]):
    return row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)


def _differs(table, excluded, name: str, postgres: bool):
    column = table.c[name]
    if postgres and isinstance(column.type, JSON):
        return cast(column, JSONB).is_distinct_from(cast(excluded[name], JSONB))
    return column.is_distinct_from(excluded[name])


def _upsert(table, batch: list[dict], target: tuple[str, ...]) -> list[str]:
    now = utcnow()
    synced = [c for c in batch[0] if c not in target]
    values = [{**row, "last_sync_at": now, "created_at": now, "updated_at": now} for row in batch]
    if dialect_name() == "postgresql":
        stmt = upsert_statement(table, target, synced, rows=values)
        marker = literal_column("(xmax = 0)")
        inserted = db.session.execute(stmt.returning(marker)).scalars().all()
        created = sum(1 for flag in inserted if flag)
    else:
        stmt = upsert_statement(table, target, synced)
        inserted = db.session.execute(stmt.returning(table.c.created_at), values).scalars().all()
        created = sum(1 for when in inserted if when == now)
    updated = len(inserted) - created
    unchanged = len(batch) - len(inserted)
    return ["created"] * created + ["updated"] * updated + ["unchanged"] * unchanged


def upsert_statement(
    table,
    target: tuple[str, ...],
    synced: list[str],
    *,
    only_changed: bool = True,
    rows: list[dict] | None = None,
):
    """``INSERT … ON CONFLICT (target) DO UPDATE SET synced…, last_sync_at, updated_at
    [WHERE any synced column differs]``.

    SQLite: without ``rows``, for executemany with RETURNING, which SQLAlchemy's
    "insertmanyvalues" sends as one multi-row INSERT from a statement compiled once.
    PostgreSQL: with ``rows``, ``INSERT … SELECT … FROM unnest(<one array per column>)``: a
    short, constant statement whatever the page size (psycopg re-parses a long multi-row
    statement on every page, which cost more than the write itself)."""
    postgres = dialect_name() == "postgresql"
    stmt = insert_for(table)
    if rows is not None:
        columns = list(rows[0])
        stmt = stmt.from_select(columns, unnest_rows(table, columns, rows))
    excluded = stmt.excluded
    written = [*synced, *(c for c in ("last_sync_at", "updated_at") if c in table.c)]
    where = or_(*(_differs(table, excluded, c, postgres) for c in synced)) if only_changed else None
    return stmt.on_conflict_do_update(
        index_elements=list(target), set_={c: excluded[c] for c in written}, where=where
    )


def unnest_rows(table, columns: list[str], rows: list[dict]):
    """PostgreSQL: ``SELECT * FROM unnest(CAST(:a AS type[]), …) AS t(a, …)`` over ``rows``."""
    arrays = []
    for name in columns:
        column_type = table.c[name].type
        values = [row[name] for row in rows]
        if isinstance(column_type, JSON):
            # serialized here: a list value would read as one more array dimension (and None
            # is JSON null, as the JSON type stores it)
            texts = [json.dumps(value) for value in values]
            param = cast(bindparam(f"rows_{name}", texts, type_=ARRAY(Text)), ARRAY(Text))
            arrays.append(cast(param, ARRAY(column_type)))
            continue
        kind = ARRAY(column_type)
        arrays.append(cast(bindparam(f"rows_{name}", values, type_=kind), kind))
    derived = func.unnest(*arrays).table_valued(*columns).render_derived()
    return select(*(derived.c[name] for name in columns))
