"""Summary tables (app.models.summaries): the triggers that keep them, and a recomputation.

The trigger SQL lives in code so the migrations, the tests and ``rebuild()`` use one text.
This module holds the first summaries (``sales_daily``, ``sales_totals``, the activation
tables, ``kommo_won_totals``), every summary's recompute and ``rebuild``; the others' triggers
are in ``summary_dims`` (the cross reports' dimensions and months), ``summary_kommo``
(``kommo_won_daily``) and ``summary_buyers`` (``sales_daily_buyers``), over the shared
fragments of ``summary_sql``. Every name the migrations read is importable from here.
"""

from __future__ import annotations

from sqlalchemy import text

from app.services.summary_buyers import (  # noqa: F401 - read by migrations as summaries.*
    BUYER_KINDS,
    BUYER_PREVS,
    buyer_prev_update,
    buyers_drop_statements,
    buyers_recompute,
    buyers_trigger_statements,
)
from app.services.summary_dims import (  # noqa: F401 - read by migrations as summaries.*
    _owner_values,
    _product_values,
    _status_month_values,
    _utm_values,
    dims_drop_statements,
    dims_trigger_statements,
    months_drop_statements,
    months_trigger_statements,
    status_months_drop_statements,
    status_months_trigger_statements,
)
from app.services.summary_kommo import won_daily_drop_statements, won_daily_trigger_statements
from app.services.summary_sql import (  # noqa: F401 - SALE_WHEN is read as summaries.SALE_WHEN
    GRANTING,
    SALE_COLUMNS,
    SALE_WHEN,
    _day,
    _false,
    _real_brl,
    _true,
    row_trigger_drops,
    row_triggers,
)

LINK_COLUMNS = (
    "used_at",
    "created_at",
    "platform",
    "product_id",
    "product_name",
    "is_test",
    "revoked_reason",
    "sent_at",
    "opened_at",
    "status",
)


def _sales_upsert(dialect: str, r: str, sign: str) -> str:
    day = _day(dialect, SALE_WHEN.format(r=r))
    return (
        "INSERT INTO sales_daily "
        "(day, platform, status, currency, is_test, payment_method, n, amount_cents) "
        f"SELECT {day}, {r}.platform, {r}.status, coalesce({r}.currency, ''), {r}.is_test, "
        f"coalesce({r}.payment_method, ''), {sign}1, {sign}coalesce({r}.amount_cents, 0) "
        "WHERE true ON CONFLICT (day, platform, status, currency, is_test, payment_method) "
        "DO UPDATE SET "
        "n = sales_daily.n + excluded.n, "
        "amount_cents = sales_daily.amount_cents + excluded.amount_cents"
    )


def _totals_upsert(r: str, sign: str) -> str:
    return (
        "INSERT INTO sales_totals (platform, status, currency, is_test, n, amount_cents) "
        f"SELECT {r}.platform, {r}.status, coalesce({r}.currency, ''), {r}.is_test, "
        f"{sign}1, {sign}coalesce({r}.amount_cents, 0) WHERE true "
        "ON CONFLICT (platform, status, currency, is_test) DO UPDATE SET "
        "n = sales_totals.n + excluded.n, "
        "amount_cents = sales_totals.amount_cents + excluded.amount_cents"
    )


def _link_counts(r: str) -> str:
    return ", ".join(
        (
            "1",
            f"CASE WHEN {r}.sent_at IS NOT NULL THEN 1 ELSE 0 END",
            f"CASE WHEN {r}.opened_at IS NOT NULL THEN 1 ELSE 0 END",
            *(
                f"CASE WHEN {r}.status = '{s}' THEN 1 ELSE 0 END"
                for s in ("used", "expired", "revoked", "pending")
            ),
        )
    )


LINK_COUNT_NAMES = ("created", "sent", "opened", "used", "expired", "revoked", "pending")


def _link_upsert(dialect: str, r: str, sign: str) -> str:
    day = _day(dialect, f"{r}.created_at")
    counts = _link_counts(r)
    if sign == "-":
        counts = ", ".join(f"-({c})" for c in counts.split(", "))
    names = ", ".join(LINK_COUNT_NAMES)
    sets = ", ".join(f"{c} = activation_daily.{c} + excluded.{c}" for c in LINK_COUNT_NAMES)
    return (
        f"INSERT INTO activation_daily (day, platform, product_id, product_name, {names}) "
        f"SELECT {day}, {r}.platform, coalesce({r}.product_id, ''), "
        f"coalesce({r}.product_name, ''), {counts} "
        f"WHERE {r}.is_test = {_false(dialect)} "
        f"AND coalesce({r}.revoked_reason, '') NOT IN ('replaced', 'email_changed') "
        "ON CONFLICT (day, platform, product_id, product_name) DO UPDATE SET " + sets
    )


def used_hours(dialect: str, r: str | None = None) -> str:
    """Whole hours from a link's creation to its use (one text for trigger, index, query)."""
    p = f"{r}." if r else ""
    if dialect == "postgresql":
        # As PostgreSQL prints it back (so the model/migration comparison sees one text).
        return f"(floor(EXTRACT(epoch FROM {p}used_at - {p}created_at) / 3600::numeric)::integer)"
    return f"CAST((julianday({p}used_at) - julianday({p}created_at)) * 24 AS INTEGER)"


def _hour_upsert(dialect: str, r: str, sign: str) -> str:
    return (
        "INSERT INTO activation_hours (day, hours, n) "
        f"SELECT {_day(dialect, f'{r}.created_at')}, {used_hours(dialect, r)}, {sign}1 "
        f"WHERE {r}.is_test = {_false(dialect)} "
        f"AND coalesce({r}.revoked_reason, '') NOT IN ('replaced', 'email_changed') "
        f"AND {r}.status = 'used' AND {r}.used_at IS NOT NULL "
        "ON CONFLICT (day, hours) DO UPDATE SET n = activation_hours.n + excluded.n"
    )


def _product_upsert(r: str, sign: str) -> str:
    return (
        "INSERT INTO activation_products (product_id, product_name, n) "
        f"SELECT {r}.product_id, coalesce({r}.product_name, ''), {sign}1 "
        f"WHERE {r}.product_id IS NOT NULL "
        "ON CONFLICT (product_id, product_name) DO UPDATE SET "
        "n = activation_products.n + excluded.n"
    )


LEAD_COLUMNS = ("is_won", "price", "currency")


def _won_upsert(dialect: str, r: str, sign: str) -> str:
    true = "true" if dialect == "postgresql" else "1"
    return (
        "INSERT INTO kommo_won_totals (currency, n, price) "
        f"SELECT coalesce({r}.currency, ''), {sign}1, {sign}{r}.price "
        f"WHERE {r}.is_won = {true} AND {r}.price IS NOT NULL "
        "ON CONFLICT (currency) DO UPDATE SET n = kommo_won_totals.n + excluded.n, "
        "price = kommo_won_totals.price + excluded.price"
    )


def _core(dialect: str):
    """(prefix, table, columns, ups) of the first summaries' row triggers."""
    return (
        (
            "sales_daily",
            "sales",
            SALE_COLUMNS,
            lambda r, s: [_sales_upsert(dialect, r, s), _totals_upsert(r, s)],
        ),
        (
            "activation_summaries",
            "activation_links",
            LINK_COLUMNS,
            lambda r, s: [
                _link_upsert(dialect, r, s),
                _hour_upsert(dialect, r, s),
                _product_upsert(r, s),
            ],
        ),
        (
            "kommo_won_totals",
            "kommo_leads",
            LEAD_COLUMNS,
            lambda r, s: [_won_upsert(dialect, r, s)],
        ),
    )


def trigger_statements(dialect: str) -> list[str]:
    """CREATE statements for every summary trigger on this dialect."""
    return [
        *(
            statement
            for prefix, table, columns, ups in _core(dialect)
            for statement in row_triggers(dialect, prefix, table, columns, ups)
        ),
        *dims_trigger_statements(dialect),
        *months_trigger_statements(dialect),
        *status_months_trigger_statements(dialect),
        *won_daily_trigger_statements(dialect),
        *buyers_trigger_statements(dialect),
    ]


def drop_statements(dialect: str) -> list[str]:
    return [
        *(
            statement
            for prefix, table, _, _ in _core(dialect)
            for statement in row_trigger_drops(dialect, prefix, table)
        ),
        *dims_drop_statements(dialect),
        *months_drop_statements(dialect),
        *status_months_drop_statements(dialect),
        *won_daily_drop_statements(dialect),
        *buyers_drop_statements(dialect),
    ]


def recompute_statements(dialect: str) -> dict[str, str]:
    """SELECTs giving each summary table's rows from the source tables."""
    day = _day(dialect, SALE_WHEN.format(r="s"))
    link_day = _day(dialect, "l.created_at")
    link_sums = ", ".join(
        f"sum({c}) AS {n}"
        for c, n in zip(_link_counts("l").split(", "), LINK_COUNT_NAMES, strict=True)
    )
    return {
        "sales_daily": (
            f"SELECT {day} AS day, s.platform, s.status, coalesce(s.currency, '') AS currency, "
            "s.is_test, coalesce(s.payment_method, '') AS payment_method, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            "FROM sales s GROUP BY 1, 2, 3, 4, 5, 6"
        ),
        "sales_totals": (
            "SELECT s.platform, s.status, coalesce(s.currency, '') AS currency, s.is_test, "
            "count(*) AS n, sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            "FROM sales s GROUP BY 1, 2, 3, 4"
        ),
        "activation_daily": (
            f"SELECT {link_day} AS day, l.platform, coalesce(l.product_id, '') AS product_id, "
            f"coalesce(l.product_name, '') AS product_name, {link_sums} "
            f"FROM activation_links l WHERE l.is_test = {_false(dialect)} "
            "AND coalesce(l.revoked_reason, '') NOT IN ('replaced', 'email_changed') "
            "GROUP BY 1, 2, 3, 4"
        ),
        "activation_hours": (
            f"SELECT {link_day} AS day, {used_hours(dialect, 'l')} AS hours, count(*) AS n "
            f"FROM activation_links l WHERE l.is_test = {_false(dialect)} "
            "AND coalesce(l.revoked_reason, '') NOT IN ('replaced', 'email_changed') "
            "AND l.status = 'used' AND l.used_at IS NOT NULL GROUP BY 1, 2"
        ),
        "activation_products": (
            "SELECT l.product_id, coalesce(l.product_name, '') AS product_name, count(*) AS n "
            "FROM activation_links l WHERE l.product_id IS NOT NULL GROUP BY 1, 2"
        ),
        "sales_daily_utm": (
            f"SELECT {_utm_values(dialect, 's')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} GROUP BY 1, 2, 3, 4"
        ),
        "sales_daily_products": (
            f"SELECT {_product_values(dialect, 's')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} AND s.status IN {GRANTING} "
            "GROUP BY 1, 2, 3, 4"
        ),
        "sales_monthly_utm": (
            f"SELECT {_utm_values(dialect, 's', 'month')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} GROUP BY 1, 2, 3, 4"
        ),
        "sales_monthly_products": (
            f"SELECT {_product_values(dialect, 's', 'month')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} AND s.status IN {GRANTING} "
            "GROUP BY 1, 2, 3, 4"
        ),
        "sales_monthly_status": (
            f"SELECT {_status_month_values(dialect, 's')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} GROUP BY 1, 2, 3"
        ),
        "sales_daily_owners": (
            f"SELECT {_owner_values(dialect, 's')}, count(*) AS n, "
            "sum(coalesce(s.amount_cents, 0)) AS amount_cents "
            f"FROM sales s WHERE {_real_brl(dialect, 's')} AND s.status IN {GRANTING} "
            "GROUP BY 1, 2, 3"
        ),
        "kommo_won_daily": (
            f"SELECT {_day(dialect, 'l.closed_at')} AS day, "
            "coalesce(l.responsible_user_id, 0) AS owner, "
            f"CASE WHEN c.has_sale = {_true(dialect)} THEN 1 ELSE 0 END AS has_sale, "
            "count(*) AS n FROM kommo_leads l "
            "LEFT JOIN kommo_contacts c ON c.remote_id = l.contact_id "
            f"WHERE l.is_won = {_true(dialect)} AND l.closed_at IS NOT NULL GROUP BY 1, 2, 3"
        ),
        "kommo_won_totals": (
            "SELECT coalesce(k.currency, '') AS currency, count(*) AS n, sum(k.price) AS price "
            f"FROM kommo_leads k WHERE k.is_won = {'true' if dialect == 'postgresql' else '1'} "
            "AND k.price IS NOT NULL GROUP BY 1"
        ),
        "sales_daily_buyers": buyers_recompute(dialect),
    }


COLUMNS = {
    "sales_daily": "day, platform, status, currency, is_test, payment_method, n, amount_cents",
    "sales_totals": "platform, status, currency, is_test, n, amount_cents",
    "activation_daily": "day, platform, product_id, product_name, " + ", ".join(LINK_COUNT_NAMES),
    "activation_hours": "day, hours, n",
    "activation_products": "product_id, product_name, n",
    "kommo_won_totals": "currency, n, price",
    "kommo_won_daily": "day, owner, has_sale, n",
    "sales_daily_utm": "day, source, campaign, approved, n, amount_cents",
    "sales_daily_owners": "day, owner, in_crm, n, amount_cents",
    "sales_daily_products": "day, platform, product, method, n, amount_cents",
    "sales_monthly_utm": "month, source, campaign, approved, n, amount_cents",
    "sales_monthly_products": "month, platform, product, method, n, amount_cents",
    "sales_monthly_status": "month, platform, status, n, amount_cents",
    "sales_daily_buyers": "day, platform, kind, prev_day, n",
}


def rebuild(connection) -> None:
    """Recompute every summary table from scratch (after a restore or a trigger outage).

    The triggers are dropped first and created again at the end, in the caller's one
    transaction (PostgreSQL holds the tables' locks until it commits, SQLite its write lock):
    the recompute's own writes — every sale's previous days — fire nothing, which they did
    row by row before (a 1M-sale rebuild on PostgreSQL ran for more than 10 minutes without
    finishing), and no other write happens meanwhile."""
    dialect = connection.dialect.name
    for statement in drop_statements(dialect):
        connection.execute(text(statement))
    # The sales' previous days first: sales_daily_buyers is recomputed from them.
    connection.execute(text(buyer_prev_update(dialect, "1 = 1")))
    for table, select_sql in recompute_statements(dialect).items():
        connection.execute(text(f"DELETE FROM {table}"))
        columns = COLUMNS[table]
        connection.execute(text(f"INSERT INTO {table} ({columns}) {select_sql}"))
    for statement in trigger_statements(dialect):
        connection.execute(text(statement))
