"""The cross reports' summary tables of the sales (``app.services.summaries``): the daily
dimensions (``sales_daily_utm``, ``sales_daily_products``, ``sales_daily_owners``), their
monthly twins and ``sales_monthly_status``, with their triggers."""

from __future__ import annotations

from app.services.summary_sql import (
    GRANTING,
    SALE_COLUMNS,
    SALE_WHEN,
    _counter_upsert,
    _day,
    _grain,
    _real_brl,
    row_trigger_drops,
    row_triggers,
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
    """Row triggers ``sales_<name>_*`` on ``sales`` running ``ups(dialect, r, sign)``."""
    return row_triggers(dialect, f"sales_{name}", "sales", columns, lambda r, s: ups(dialect, r, s))


def _sales_row_drops(dialect: str, name: str) -> list[str]:
    return row_trigger_drops(dialect, f"sales_{name}", "sales")


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
