"""The SQL fragments every summary trigger shares (``app.services.summaries``): a sale's
São Paulo day and month, what counts as a real BRL sale, a counter's upsert, and the row
triggers' shape on each dialect. Pure text, no connection.

The São Paulo day matches ``app.services.stats._local_day`` (UTC-3 on SQLite; the zone on
PostgreSQL).
"""

from __future__ import annotations

from app.models.sales import GRANTING_STATUSES

SALE_WHEN = "coalesce({r}.ordered_at, {r}.approved_at, {r}.status_at, {r}.created_at)"


SALE_COLUMNS = (
    "ordered_at",
    "approved_at",
    "status_at",
    "created_at",
    "platform",
    "status",
    "currency",
    "is_test",
    "amount_cents",
    "payment_method",
)


def _day(dialect: str, expr: str) -> str:
    if dialect == "postgresql":
        return f"to_char(timezone('America/Sao_Paulo', {expr}), 'YYYY-MM-DD')"
    return f"strftime('%Y-%m-%d', {expr}, '-3 hours')"


def _month(dialect: str, expr: str) -> str:
    """The São Paulo month (``YYYY-MM``) of ``expr``: the first 7 characters of ``_day``."""
    if dialect == "postgresql":
        return f"to_char(timezone('America/Sao_Paulo', {expr}), 'YYYY-MM')"
    return f"strftime('%Y-%m', {expr}, '-3 hours')"


def _false(dialect: str) -> str:
    return "false" if dialect == "postgresql" else "0"


def _true(dialect: str) -> str:
    return "true" if dialect == "postgresql" else "1"


GRANTING = "(" + ", ".join(f"'{s}'" for s in sorted(GRANTING_STATUSES)) + ")"


def _real_brl(dialect: str, r: str) -> str:
    return f"{r}.is_test = {_false(dialect)} AND coalesce({r}.currency, 'BRL') IN ('BRL', '')"


def _grain(dialect: str, r: str, grain: str) -> str:
    """The sale's São Paulo ``day`` or ``month``, named so."""
    when = SALE_WHEN.format(r=r)
    return f"{_month(dialect, when) if grain == 'month' else _day(dialect, when)} AS {grain}"


def _counter_upsert(table: str, keys: str, values: str, r: str, sign: str, where: str) -> str:
    """Add (``sign`` +) or take away (-) one sale from ``table``'s bucket of ``keys``."""
    return (
        f"INSERT INTO {table} ({keys}, n, amount_cents) "
        f"SELECT {values}, {sign}1, {sign}coalesce({r}.amount_cents, 0) "
        f"WHERE {where} "
        f"ON CONFLICT ({keys}) DO UPDATE SET "
        f"n = {table}.n + excluded.n, "
        f"amount_cents = {table}.amount_cents + excluded.amount_cents"
    )


def _changed(columns, sep=" OR ") -> str:
    return sep.join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def row_triggers(
    dialect: str, prefix: str, table: str, columns, ups, function: str = ""
) -> list[str]:
    """Row triggers on ``table`` running ``ups(r, sign)`` (a list of statements) for the old
    row (``r`` = ``OLD``, ``sign`` = ``-``) and the new one (``NEW``, ``""``); an UPDATE that
    changes none of ``columns`` skips them. One plpgsql function and trigger ``function``
    (default ``<prefix>_apply``) on PostgreSQL, ``<prefix>_ins``/``_del``/``_upd`` on SQLite."""
    if dialect == "postgresql":
        name = function or f"{prefix}_apply"
        old = ";\n    ".join(ups("OLD", "-"))
        new = ";\n    ".join(ups("NEW", ""))
        same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in columns)
        return [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF;\n"
            f"  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    {old};\n  END IF;\n"
            f"  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n    {new};\n  END IF;\n"
            "  RETURN NULL;\nEND\n$$",
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    old = "; ".join(ups("OLD", "-"))
    new = "; ".join(ups("NEW", ""))
    return [
        f"CREATE TRIGGER {prefix}_ins AFTER INSERT ON {table} BEGIN {new}; END",
        f"CREATE TRIGGER {prefix}_del AFTER DELETE ON {table} BEGIN {old}; END",
        f"CREATE TRIGGER {prefix}_upd AFTER UPDATE ON {table} WHEN {_changed(columns)} "
        f"BEGIN {old}; {new}; END",
    ]


def row_trigger_drops(dialect: str, prefix: str, table: str, function: str = "") -> list[str]:
    """What ``row_triggers`` created, dropped (if it exists)."""
    if dialect == "postgresql":
        name = function or f"{prefix}_apply"
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    return [f"DROP TRIGGER IF EXISTS {prefix}_{op}" for op in ("ins", "del", "upd")]
