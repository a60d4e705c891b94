"""Summary tables (app.models.summaries): the triggers that keep them, and a recomputation.

The trigger SQL lives here so the migration, the tests and ``rebuild()`` use one text. The
São Paulo day matches ``app.services.stats._local_day`` (UTC-3 on SQLite; the zone on
PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import text

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


# The cross reports' daily dimensions (sales_daily_utm, sales_daily_products): non-test BRL
# sales only, as every cross report counts them.
DIM_COLUMNS = (
    *SALE_COLUMNS,
    "product_name",
    "utm_source",
    "utm_campaign",
    "src",
    "crm_matched",
    "crm_owner_id",
)
GRANTING = "(" + ", ".join(f"'{s}'" for s in sorted(GRANTING_STATUSES)) + ")"


def _real_brl(dialect: str, r: str) -> str:
    return f"{r}.is_test = {_false(dialect)} AND coalesce({r}.currency, 'BRL') IN ('BRL', '')"


def _grain(dialect: str, r: str, grain: str) -> str:
    """The sale's São Paulo ``day`` or ``month``, named so."""
    when = SALE_WHEN.format(r=r)
    return f"{_month(dialect, when) if grain == 'month' else _day(dialect, when)} AS {grain}"


def _utm_values(dialect: str, r: str, grain: str = "day") -> str:
    """day (or month), source, campaign, approved of a sale (one text for trigger and
    recompute)."""
    return (
        f"{_grain(dialect, r, grain)}, "
        f"coalesce(nullif({r}.utm_source, ''), nullif({r}.src, ''), '') AS source, "
        f"coalesce(nullif({r}.utm_campaign, ''), '') AS campaign, "
        f"CASE WHEN {r}.status IN {GRANTING} THEN 1 ELSE 0 END AS approved"
    )


def _product_values(dialect: str, r: str, grain: str = "day") -> str:
    """day (or month), platform, product, method of a sale."""
    return (
        f"{_grain(dialect, r, grain)}, {r}.platform, "
        f"coalesce({r}.product_name, '') AS product, "
        f"lower(coalesce({r}.payment_method, '')) AS method"
    )


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


def _utm_upsert(dialect: str, r: str, sign: str, grain: str = "day") -> str:
    return _counter_upsert(
        "sales_daily_utm" if grain == "day" else "sales_monthly_utm",
        f"{grain}, source, campaign, approved",
        _utm_values(dialect, r, grain),
        r,
        sign,
        _real_brl(dialect, r),
    )


def _product_sales_upsert(dialect: str, r: str, sign: str, grain: str = "day") -> str:
    return _counter_upsert(
        "sales_daily_products" if grain == "day" else "sales_monthly_products",
        f"{grain}, platform, product, method",
        _product_values(dialect, r, grain),
        r,
        sign,
        f"{_real_brl(dialect, r)} AND {r}.status IN {GRANTING}",
    )


def _owner_values(dialect: str, r: str) -> str:
    """day, owner (0: none), in_crm of a sale."""
    true = "true" if dialect == "postgresql" else "1"
    return (
        f"{_day(dialect, SALE_WHEN.format(r=r))} AS day, coalesce({r}.crm_owner_id, 0) AS owner, "
        f"CASE WHEN {r}.crm_matched = {true} THEN 1 ELSE 0 END AS in_crm"
    )


def _owner_upsert(dialect: str, r: str, sign: str) -> str:
    return _counter_upsert(
        "sales_daily_owners",
        "day, owner, in_crm",
        _owner_values(dialect, r),
        r,
        sign,
        f"{_real_brl(dialect, r)} AND {r}.status IN {GRANTING}",
    )


def _dims(dialect: str, r: str, sign: str) -> list[str]:
    return [
        _utm_upsert(dialect, r, sign),
        _product_sales_upsert(dialect, r, sign),
        _owner_upsert(dialect, r, sign),
    ]


def _sales_row_triggers(dialect: str, name: str, columns, ups) -> list[str]:
    """Row triggers ``sales_<name>_*`` on ``sales`` running ``ups(dialect, r, sign)`` for
    the old row (``-``) and the new one; an UPDATE changing none of ``columns`` skips them
    (a plpgsql function on PostgreSQL, three triggers on SQLite)."""
    if dialect == "postgresql":
        old = ";\n    ".join(ups(dialect, "OLD", "-"))
        new = ";\n    ".join(ups(dialect, "NEW", ""))
        same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in columns)
        return [
            f"CREATE FUNCTION sales_{name}_apply() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF;\n"
            f"  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    {old};\n  END IF;\n"
            f"  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n    {new};\n  END IF;\n"
            "  RETURN NULL;\nEND\n$$",
            f"CREATE TRIGGER sales_{name}_apply AFTER INSERT OR DELETE OR UPDATE ON sales "
            f"FOR EACH ROW EXECUTE FUNCTION sales_{name}_apply()",
        ]
    old = "; ".join(ups(dialect, "OLD", "-"))
    new = "; ".join(ups(dialect, "NEW", ""))
    return [
        f"CREATE TRIGGER sales_{name}_ins AFTER INSERT ON sales BEGIN {new}; END",
        f"CREATE TRIGGER sales_{name}_del AFTER DELETE ON sales BEGIN {old}; END",
        f"CREATE TRIGGER sales_{name}_upd AFTER UPDATE ON sales WHEN {_changed(columns)} "
        f"BEGIN {old}; {new}; END",
    ]


def _sales_row_drops(dialect: str, name: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS sales_{name}_apply ON sales",
            f"DROP FUNCTION IF EXISTS sales_{name}_apply()",
        ]
    return [f"DROP TRIGGER IF EXISTS sales_{name}_{op}" for op in ("ins", "del", "upd")]


def dims_trigger_statements(dialect: str) -> list[str]:
    """The triggers of the cross reports' daily dimensions (migration ``e9b1d3f5a7c2``)."""
    return _sales_row_triggers(dialect, "dims", DIM_COLUMNS, _dims)


def dims_drop_statements(dialect: str) -> list[str]:
    return _sales_row_drops(dialect, "dims")


# The same two dimensions per São Paulo month (sales_monthly_utm, sales_monthly_products): a
# range's whole months are read from them and only its partial months' days from the daily
# tables, so a year is ~12 × the dimension's rows instead of ~365 × (migration
# ``d2f4a6c8e0b1``). Their own triggers (the daily ones predate the tables).
MONTH_COLUMNS = (*SALE_COLUMNS, "product_name", "utm_source", "utm_campaign", "src")


def _months(dialect: str, r: str, sign: str) -> list[str]:
    return [
        _utm_upsert(dialect, r, sign, "month"),
        _product_sales_upsert(dialect, r, sign, "month"),
    ]


def months_trigger_statements(dialect: str) -> list[str]:
    return _sales_row_triggers(dialect, "months", MONTH_COLUMNS, _months)


def months_drop_statements(dialect: str) -> list[str]:
    return _sales_row_drops(dialect, "months")


# "Reembolsos" per São Paulo month, platform and status (sales_monthly_status, migration
# ``f3a5c7e9b1d2``): a range's whole months, its partial months' days from sales_daily. Its
# own triggers, as the other monthly tables have theirs.
STATUS_MONTH_COLUMNS = tuple(c for c in SALE_COLUMNS if c != "payment_method")


def _status_month_values(dialect: str, r: str) -> str:
    return f"{_grain(dialect, r, 'month')}, {r}.platform, {r}.status"


def _status_month_upsert(dialect: str, r: str, sign: str) -> list[str]:
    return [
        _counter_upsert(
            "sales_monthly_status",
            "month, platform, status",
            _status_month_values(dialect, r),
            r,
            sign,
            _real_brl(dialect, r),
        )
    ]


def status_months_trigger_statements(dialect: str) -> list[str]:
    return _sales_row_triggers(dialect, "status_months", STATUS_MONTH_COLUMNS, _status_month_upsert)


def status_months_drop_statements(dialect: str) -> list[str]:
    return _sales_row_drops(dialect, "status_months")


# "Ganho sem venda" (kommo_won_daily): won leads per São Paulo day of closed_at, responsible
# user and whether their contact bought. A lead's bucket reads its contact's ``has_sale``
# when the lead changes; a contact whose ``has_sale`` (or ``remote_id``) changes moves its
# won leads between the two flags. A contact without a sale and no contact at all are the
# same flag (0), so only contacts with ``has_sale`` move leads.
WON_LEAD_COLUMNS = ("is_won", "closed_at", "responsible_user_id", "contact_id")
WON_CONTACT_COLUMNS = ("has_sale", "remote_id")


def _true(dialect: str) -> str:
    return "true" if dialect == "postgresql" else "1"


def _won_daily_upsert(values: str, tail: str) -> str:
    return (
        f"INSERT INTO kommo_won_daily (day, owner, has_sale, n) SELECT {values} {tail} "
        "ON CONFLICT (day, owner, has_sale) DO UPDATE SET n = kommo_won_daily.n + excluded.n"
    )


def _won_lead_upsert(dialect: str, r: str, sign: str) -> str:
    """Add (``sign`` '') or take away ('-') the lead ``r`` from its bucket."""
    flag = (
        f"coalesce((SELECT CASE WHEN c.has_sale = {_true(dialect)} THEN 1 ELSE 0 END "
        f"FROM kommo_contacts c WHERE c.remote_id = {r}.contact_id), 0)"
    )
    return _won_daily_upsert(
        f"{_day(dialect, f'{r}.closed_at')}, coalesce({r}.responsible_user_id, 0), {flag}, {sign}1",
        f"WHERE {r}.is_won = {_true(dialect)} AND {r}.closed_at IS NOT NULL",
    )


def _won_contact_move(dialect: str, r: str, flag: int, sign: str) -> str:
    """Add or take away the won leads of the contact ``r`` (only one with a sale) in the
    ``flag`` buckets."""
    return _won_daily_upsert(
        f"{_day(dialect, 'l.closed_at')}, coalesce(l.responsible_user_id, 0), {flag}, "
        f"{sign}count(*)",
        f"FROM kommo_leads l WHERE l.contact_id = {r}.remote_id "
        f"AND {r}.has_sale = {_true(dialect)} "
        f"AND l.is_won = {_true(dialect)} AND l.closed_at IS NOT NULL GROUP BY 1, 2",
    )


def _won_contact_leave(dialect: str, r: str) -> list[str]:
    """The contact ``r`` is gone (deleted, or its old values): its leads have no sale."""
    return [_won_contact_move(dialect, r, 1, "-"), _won_contact_move(dialect, r, 0, "")]


def _won_contact_enter(dialect: str, r: str) -> list[str]:
    return [_won_contact_move(dialect, r, 0, "-"), _won_contact_move(dialect, r, 1, "")]


def won_daily_trigger_statements(dialect: str) -> list[str]:
    """The triggers of ``kommo_won_daily`` (migration ``f1a3c5e7b9d0``)."""
    if dialect == "postgresql":
        statements = []
        for name, table, columns, old, new in (
            (
                "kommo_won_daily_lead",
                "kommo_leads",
                WON_LEAD_COLUMNS,
                [_won_lead_upsert(dialect, "OLD", "-")],
                [_won_lead_upsert(dialect, "NEW", "")],
            ),
            (
                "kommo_won_daily_contact",
                "kommo_contacts",
                WON_CONTACT_COLUMNS,
                _won_contact_leave(dialect, "OLD"),
                _won_contact_enter(dialect, "NEW"),
            ),
        ):
            same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in columns)
            old_sql = ";\n    ".join(old)
            new_sql = ";\n    ".join(new)
            statements += [
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                f"  IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF;\n"
                f"  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    {old_sql};\n  END IF;\n"
                f"  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n    {new_sql};\n  END IF;\n"
                "  RETURN NULL;\nEND\n$$",
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()",
            ]
        return statements
    lead_old, lead_new = _won_lead_upsert(dialect, "OLD", "-"), _won_lead_upsert(dialect, "NEW", "")
    leave = "; ".join(_won_contact_leave(dialect, "OLD"))
    enter = "; ".join(_won_contact_enter(dialect, "NEW"))
    return [
        "CREATE TRIGGER kommo_won_daily_lead_ins AFTER INSERT ON kommo_leads "
        f"BEGIN {lead_new}; END",
        "CREATE TRIGGER kommo_won_daily_lead_del AFTER DELETE ON kommo_leads "
        f"BEGIN {lead_old}; END",
        "CREATE TRIGGER kommo_won_daily_lead_upd AFTER UPDATE ON kommo_leads "
        f"WHEN {_changed(WON_LEAD_COLUMNS)} BEGIN {lead_old}; {lead_new}; END",
        "CREATE TRIGGER kommo_won_daily_contact_ins AFTER INSERT ON kommo_contacts "
        f"WHEN NEW.has_sale BEGIN {enter}; END",
        "CREATE TRIGGER kommo_won_daily_contact_del AFTER DELETE ON kommo_contacts "
        f"WHEN OLD.has_sale BEGIN {leave}; END",
        "CREATE TRIGGER kommo_won_daily_contact_upd AFTER UPDATE ON kommo_contacts "
        f"WHEN {_changed(WON_CONTACT_COLUMNS)} BEGIN {leave}; {enter}; END",
    ]


def won_daily_drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS kommo_won_daily_lead ON kommo_leads",
            "DROP FUNCTION IF EXISTS kommo_won_daily_lead()",
            "DROP TRIGGER IF EXISTS kommo_won_daily_contact ON kommo_contacts",
            "DROP FUNCTION IF EXISTS kommo_won_daily_contact()",
        ]
    return [
        f"DROP TRIGGER IF EXISTS kommo_won_daily_{name}"
        for name in (
            "lead_ins",
            "lead_del",
            "lead_upd",
            "contact_ins",
            "contact_del",
            "contact_upd",
        )
    ]


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


def _changed(columns, sep=" OR ") -> str:
    return sep.join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def trigger_statements(dialect: str) -> list[str]:
    """CREATE statements for the summary triggers on this dialect."""
    if dialect == "postgresql":
        statements = []
        for name, table, columns, ups in (
            (
                "sales_daily_apply",
                "sales",
                SALE_COLUMNS,
                lambda r, s: [_sales_upsert(dialect, r, s), _totals_upsert(r, s)],
            ),
            (
                "activation_summaries_apply",
                "activation_links",
                LINK_COLUMNS,
                lambda r, s: [
                    _link_upsert(dialect, r, s),
                    _hour_upsert(dialect, r, s),
                    _product_upsert(r, s),
                ],
            ),
            (
                "kommo_won_totals_apply",
                "kommo_leads",
                LEAD_COLUMNS,
                lambda r, s: [_won_upsert(dialect, r, s)],
            ),
        ):
            old = ";\n    ".join(ups("OLD", "-"))
            new = ";\n    ".join(ups("NEW", ""))
            same = " AND ".join(f"OLD.{c} IS NOT DISTINCT FROM NEW.{c}" for c in columns)
            statements.append(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                "BEGIN\n"
                f"  IF TG_OP = 'UPDATE' AND {same} THEN RETURN NULL; END IF;\n"
                f"  IF TG_OP IN ('UPDATE', 'DELETE') THEN\n    {old};\n  END IF;\n"
                f"  IF TG_OP IN ('UPDATE', 'INSERT') THEN\n    {new};\n  END IF;\n"
                "  RETURN NULL;\nEND\n$$"
            )
            statements.append(
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR UPDATE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
        return (
            statements
            + dims_trigger_statements(dialect)
            + months_trigger_statements(dialect)
            + status_months_trigger_statements(dialect)
            + won_daily_trigger_statements(dialect)
            + buyers_trigger_statements(dialect)
        )
    sales_old = f"{_sales_upsert(dialect, 'OLD', '-')}; {_totals_upsert('OLD', '-')}"
    sales_new = f"{_sales_upsert(dialect, 'NEW', '')}; {_totals_upsert('NEW', '')}"
    link_old = "; ".join(
        (
            _link_upsert(dialect, "OLD", "-"),
            _hour_upsert(dialect, "OLD", "-"),
            _product_upsert("OLD", "-"),
        )
    )
    link_new = "; ".join(
        (
            _link_upsert(dialect, "NEW", ""),
            _hour_upsert(dialect, "NEW", ""),
            _product_upsert("NEW", ""),
        )
    )
    return [
        f"CREATE TRIGGER sales_daily_ins AFTER INSERT ON sales BEGIN {sales_new}; END",
        f"CREATE TRIGGER sales_daily_del AFTER DELETE ON sales BEGIN {sales_old}; END",
        f"CREATE TRIGGER sales_daily_upd AFTER UPDATE ON sales WHEN {_changed(SALE_COLUMNS)} "
        f"BEGIN {sales_old}; {sales_new}; END",
        f"CREATE TRIGGER activation_summaries_ins AFTER INSERT ON activation_links "
        f"BEGIN {link_new}; END",
        f"CREATE TRIGGER activation_summaries_del AFTER DELETE ON activation_links "
        f"BEGIN {link_old}; END",
        "CREATE TRIGGER activation_summaries_upd AFTER UPDATE ON activation_links "
        f"WHEN {_changed(LINK_COLUMNS)} BEGIN {link_old}; {link_new}; END",
        "CREATE TRIGGER kommo_won_totals_ins AFTER INSERT ON kommo_leads "
        f"BEGIN {_won_upsert(dialect, 'NEW', '')}; END",
        "CREATE TRIGGER kommo_won_totals_del AFTER DELETE ON kommo_leads "
        f"BEGIN {_won_upsert(dialect, 'OLD', '-')}; END",
        f"CREATE TRIGGER kommo_won_totals_upd AFTER UPDATE ON kommo_leads "
        f"WHEN {_changed(LEAD_COLUMNS)} BEGIN {_won_upsert(dialect, 'OLD', '-')}; "
        f"{_won_upsert(dialect, 'NEW', '')}; END",
        *dims_trigger_statements(dialect),
        *months_trigger_statements(dialect),
        *status_months_trigger_statements(dialect),
        *won_daily_trigger_statements(dialect),
        *buyers_trigger_statements(dialect),
    ]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS sales_daily_apply ON sales",
            "DROP FUNCTION IF EXISTS sales_daily_apply()",
            "DROP TRIGGER IF EXISTS activation_summaries_apply ON activation_links",
            "DROP FUNCTION IF EXISTS activation_summaries_apply()",
            "DROP TRIGGER IF EXISTS kommo_won_totals_apply ON kommo_leads",
            "DROP FUNCTION IF EXISTS kommo_won_totals_apply()",
            *dims_drop_statements(dialect),
            *months_drop_statements(dialect),
            *status_months_drop_statements(dialect),
            *won_daily_drop_statements(dialect),
            *buyers_drop_statements(dialect),
        ]
    return (
        [
            f"DROP TRIGGER IF EXISTS {name}"
            for name in (
                "sales_daily_ins",
                "sales_daily_del",
                "sales_daily_upd",
                "activation_summaries_ins",
                "activation_summaries_del",
                "activation_summaries_upd",
                "kommo_won_totals_ins",
                "kommo_won_totals_del",
                "kommo_won_totals_upd",
            )
        ]
        + dims_drop_statements(dialect)
        + months_drop_statements(dialect)
        + status_months_drop_statements(dialect)
        + won_daily_drop_statements(dialect)
        + buyers_drop_statements(dialect)
    )


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
