"""``sales_daily_buyers`` ("Comprou fora do CRM"): each sale's previous days of its buyer,
the triggers that keep them and the buckets, and their recomputation
(``app.services.summaries`` creates and recomputes every summary)."""

from __future__ import annotations

from app.services.summary_sql import (
    GRANTING,
    SALE_COLUMNS,
    SALE_WHEN,
    _changed,
    _day,
    _real_brl,
    _true,
)

# "Comprou fora do CRM" (sales_daily_buyers): distinct buyers of any date range as a sum over
# days. Each real approved BRL sale carries the São Paulo day of the previous such sale of the
# same buyer (same e-mail in any case): over all of them (``prev_buyer_day``), over those in
# the CRM (``prev_buyer_crm_day``, a matched sale only), and the same two on the sale's
# platform. The buyers of [a, b] are the sales of days a..b whose previous day is before a
# ('' when none): each buyer's first sale in the range. ``kind`` says which of the four.
BUYER_PREVS = (
    # (kind, column, the same platform only, in the CRM only)
    (0, "prev_buyer_day", False, False),
    (1, "prev_buyer_crm_day", False, True),
    (2, "prev_platform_day", True, False),
    (3, "prev_platform_crm_day", True, True),
)


BUYER_KINDS = {"buyer": 0, "buyer_crm": 1, "platform": 2, "platform_crm": 3}


# What a sale's previous days depend on (its own and its buyer's other sales).
BUYER_PREV_COLUMNS = (*SALE_COLUMNS[:8], "crm_matched", "buyer_email")


BUYER_BUCKET_COLUMNS = (
    *SALE_COLUMNS[:8],
    "crm_matched",
    *(column for _, column, _, _ in BUYER_PREVS),
)


def _counted_buyer(dialect: str, r: str, in_crm: bool) -> str:
    where = f"{_real_brl(dialect, r)} AND {r}.status IN {GRANTING}"
    if in_crm:
        where += f" AND {r}.crm_matched = {_true(dialect)}"
    return where


def _prev_day(dialect: str, platform: bool, in_crm: bool) -> str:
    """The day of the previous counted sale of the row ``sales``'s buyer ('' when none)."""
    when_p, when_s = SALE_WHEN.format(r="p"), SALE_WHEN.format(r="sales")
    where = [
        "lower(p.buyer_email) = lower(sales.buyer_email)",
        _counted_buyer(dialect, "p", in_crm),
        f"({when_p} < {when_s} OR ({when_p} = {when_s} AND p.id < sales.id))",
    ]
    if platform:
        where.insert(1, "p.platform = sales.platform")
    last = _day(dialect, f"max({when_p})")
    previous = f"(SELECT {last} FROM sales p WHERE {' AND '.join(where)})"
    own = _counted_buyer(dialect, "sales", in_crm)
    counted = f"coalesce(sales.buyer_email, '') <> '' AND {own}"
    return f"CASE WHEN {counted} THEN coalesce({previous}, '') ELSE '' END"


def buyer_prev_update(dialect: str, where: str) -> str:
    """UPDATE of the previous days of the sales matching ``where`` (the triggers, the
    migration's backfill and ``rebuild``)."""
    days = [_prev_day(dialect, platform, in_crm) for _, _, platform, in_crm in BUYER_PREVS]
    columns = [column for _, column, _, _ in BUYER_PREVS]
    sets = ", ".join(f"{column} = {day}" for column, day in zip(columns, days, strict=True))
    # Only the sales whose days move are written (each write fires the sales triggers).
    distinct = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    moved = f"({', '.join(columns)}) {distinct} ({', '.join(days)})"
    return f"UPDATE sales SET {sets} WHERE ({where}) AND {moved}"


def _buyer_upserts(dialect: str, r: str, sign: str) -> list[str]:
    return [
        "INSERT INTO sales_daily_buyers (day, platform, kind, prev_day, n) "
        f"SELECT {_day(dialect, SALE_WHEN.format(r=r))}, {r}.platform, {kind}, {r}.{column}, "
        f"{sign}1 WHERE {_counted_buyer(dialect, r, in_crm)} "
        "ON CONFLICT (day, platform, kind, prev_day) DO UPDATE SET "
        "n = sales_daily_buyers.n + excluded.n"
        for kind, column, _, in_crm in BUYER_PREVS
    ]


def _key_of(r: str) -> str:
    return f"nullif(lower({r}.buyer_email), '')"


def _counted_either(dialect: str) -> str:
    """OLD or NEW is a counted sale (of any kind): a write of neither moves no bucket and no
    previous day (a sale that is not one keeps '' days)."""
    old, new = _counted_buyer(dialect, "OLD", False), _counted_buyer(dialect, "NEW", False)
    return f"(({old}) OR ({new}))"


def _since(r: str, key: str) -> str:
    """The sales of ``key`` a write at ``r``'s position can move: its own and the later ones
    (a sale's previous days depend on the sales before it only)."""
    return (
        f"(lower(sales.buyer_email) = {key} "
        f"AND {SALE_WHEN.format(r='sales')} >= {SALE_WHEN.format(r=r)})"
    )


def buyers_trigger_statements(dialect: str) -> list[str]:
    """The triggers of ``sales_daily_buyers``: row triggers moving each sale between buckets
    as its own columns change, and ones recomputing the previous days of the sales a write
    can move (a statement trigger on PostgreSQL, which sees the statement's final rows; a row
    trigger on SQLite, which runs row by row). Cheap on the webhook path: nothing runs for a
    write that changes no column they depend on or touches no counted sale, only the
    written sale and its buyer's later ones are recomputed, and only the sales whose days
    move are written."""
    changed_sql = _changed(BUYER_PREV_COLUMNS)
    either = _counted_either(dialect)
    new_counted = _counted_buyer(dialect, "NEW", False)
    old_counted = _counted_buyer(dialect, "OLD", False)
    sep = ";\n    " if dialect == "postgresql" else "; "
    old = sep.join(_buyer_upserts(dialect, "OLD", "-"))
    new = sep.join(_buyer_upserts(dialect, "NEW", ""))
    both = f"{old}{sep}{new}"
    if dialect == "postgresql":
        moved_bucket = " OR ".join(
            f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in BUYER_BUCKET_COLUMNS
        )
        statements = [
            "CREATE FUNCTION sales_buyers_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN\n    {new};\n"
            f"  ELSIF TG_OP = 'DELETE' THEN\n    {old};\n"
            f"  ELSE\n    {both};\n  END IF;\n"
            "  RETURN NULL;\nEND\n$$",
            "CREATE TRIGGER sales_buyers_ins AFTER INSERT ON sales "
            f"FOR EACH ROW WHEN ({new_counted}) EXECUTE FUNCTION sales_buyers_apply()",
            "CREATE TRIGGER sales_buyers_del AFTER DELETE ON sales "
            f"FOR EACH ROW WHEN ({old_counted}) EXECUTE FUNCTION sales_buyers_apply()",
            "CREATE TRIGGER sales_buyers_upd AFTER UPDATE ON sales "
            f"FOR EACH ROW WHEN ({either} AND ({moved_bucket})) "
            "EXECUTE FUNCTION sales_buyers_apply()",
        ]
        moved = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in BUYER_PREV_COLUMNS)
        counted_o = _counted_buyer(dialect, "o", False)
        counted_n = _counted_buyer(dialect, "n", False)
        when_o, when_n = SALE_WHEN.format(r="o"), SALE_WHEN.format(r="n")
        pairs = "FROM old_rows o JOIN new_rows n ON n.id = o.id"
        touched = f"({moved}) AND (({counted_o}) OR ({counted_n}))"
        # Each buyer a write touched, with the earliest position it touched.
        keys = {
            "ins": f"SELECT {_key_of('n')}, {when_n} FROM new_rows n WHERE {counted_n}",
            "del": f"SELECT {_key_of('o')}, {when_o} FROM old_rows o WHERE {counted_o}",
            "upd": (
                f"SELECT v.k, v.w {pairs} CROSS JOIN LATERAL (VALUES ({_key_of('o')}, {when_o}), "
                f"({_key_of('n')}, {when_n})) AS v(k, w) WHERE {touched}"
            ),
        }
        # A sale whose e-mail went away keeps no previous day.
        cleared = (
            "UPDATE sales SET "
            + ", ".join(f"{column} = ''" for _, column, _, _ in BUYER_PREVS)
            + " WHERE id IN (SELECT n.id FROM new_rows n WHERE coalesce(n.buyer_email, '') = '') "
            + "AND ("
            + " OR ".join(f"{column} <> ''" for _, column, _, _ in BUYER_PREVS)
            + ")"
        )
        update = buyer_prev_update(
            dialect,
            f"lower(sales.buyer_email) = buyer_key AND {SALE_WHEN.format(r='sales')} >= since",
        )
        for op, event, tables in (
            ("ins", "INSERT", "NEW TABLE AS new_rows"),
            ("del", "DELETE", "OLD TABLE AS old_rows"),
            ("upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            # Only run when needed: even a statement of no row fires the statement triggers.
            empty = "SELECT FROM new_rows n WHERE coalesce(n.buyer_email, '') = ''"
            extra = (
                f"\n  IF EXISTS ({empty}) THEN\n    {cleared};\n  END IF;" if op == "upd" else ""
            )
            statements += [
                f"CREATE FUNCTION sales_buyer_prevs_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "DECLARE buyer_key text; since timestamptz;\n"
                "BEGIN\n"
                # The recomputation's own UPDATE (and nothing it depends on) changes.
                "  IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\n"
                f"  FOR buyer_key, since IN SELECT k, min(w) FROM ({keys[op]}) AS keys(k, w) "
                "WHERE k IS NOT NULL GROUP BY k LOOP\n"
                f"    {update};\n"
                f"  END LOOP;{extra}\n"
                "  RETURN NULL;\nEND\n$$",
                f"CREATE TRIGGER sales_buyer_prevs_{op} AFTER {event} ON sales "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION sales_buyer_prevs_{op}()",
            ]
        return statements
    old_key, new_key = _key_of("OLD"), _key_of("NEW")
    moves = f"{_since('OLD', old_key)} OR {_since('NEW', new_key)} OR sales.id = NEW.id"
    return [
        f"CREATE TRIGGER sales_buyers_ins AFTER INSERT ON sales WHEN {new_counted} "
        f"BEGIN {new}; END",
        f"CREATE TRIGGER sales_buyers_del AFTER DELETE ON sales WHEN {old_counted} "
        f"BEGIN {old}; END",
        "CREATE TRIGGER sales_buyers_upd AFTER UPDATE ON sales "
        f"WHEN {either} AND ({_changed(BUYER_BUCKET_COLUMNS)}) BEGIN {both}; END",
        "CREATE TRIGGER sales_buyer_prevs_ins AFTER INSERT ON sales "
        f"WHEN coalesce(NEW.buyer_email, '') <> '' AND {new_counted} BEGIN "
        f"{buyer_prev_update(dialect, _since('NEW', new_key))}; END",
        "CREATE TRIGGER sales_buyer_prevs_del AFTER DELETE ON sales "
        f"WHEN coalesce(OLD.buyer_email, '') <> '' AND {old_counted} BEGIN "
        f"{buyer_prev_update(dialect, _since('OLD', old_key))}; END",
        "CREATE TRIGGER sales_buyer_prevs_upd AFTER UPDATE ON sales "
        f"WHEN ({changed_sql}) AND {either} BEGIN {buyer_prev_update(dialect, moves)}; END",
    ]


def buyers_drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        statements = [
            # sales_buyers_apply: the single row trigger of a4c6e8f0b2d4.
            *(
                f"DROP TRIGGER IF EXISTS {name} ON sales"
                for name in (
                    "sales_buyers_apply",
                    "sales_buyers_ins",
                    "sales_buyers_del",
                    "sales_buyers_upd",
                )
            ),  # fmt: skip
            "DROP FUNCTION IF EXISTS sales_buyers_apply()",
        ]
        for op in ("ins", "del", "upd"):
            statements += [
                f"DROP TRIGGER IF EXISTS sales_buyer_prevs_{op} ON sales",
                f"DROP FUNCTION IF EXISTS sales_buyer_prevs_{op}()",
            ]
        return statements
    return [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "sales_buyers_ins",
            "sales_buyers_del",
            "sales_buyers_upd",
            "sales_buyer_prevs_ins",
            "sales_buyer_prevs_del",
            "sales_buyer_prevs_upd",
        )
    ]


def buyers_recompute(dialect: str) -> str:
    """``sales_daily_buyers``' rows from the sales' previous days."""
    day = _day(dialect, SALE_WHEN.format(r="s"))
    return " UNION ALL ".join(
        f"SELECT {day} AS day, s.platform, {kind} AS kind, s.{column} AS prev_day, "
        f"count(*) AS n FROM sales s WHERE {_counted_buyer(dialect, 's', in_crm)} "
        "GROUP BY 1, 2, 3, 4"
        for kind, column, _, in_crm in BUYER_PREVS
    )
