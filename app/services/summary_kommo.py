"""``kommo_won_daily`` ("Ganho sem venda"): its triggers on the Kommo leads and contacts
(``app.services.summaries`` creates and recomputes every summary)."""

from __future__ import annotations

from app.services.summary_sql import _changed, _day, _true, row_trigger_drops, row_triggers

# "Ganho sem venda" (kommo_won_daily): won leads per São Paulo day of closed_at, responsible
# user and whether their contact bought. A lead's bucket reads its contact's ``has_sale``
# when the lead changes; a contact whose ``has_sale`` (or ``remote_id``) changes moves its
# won leads between the two flags. A contact without a sale and no contact at all are the
# same flag (0), so only contacts with ``has_sale`` move leads.
WON_LEAD_COLUMNS = ("is_won", "closed_at", "responsible_user_id", "contact_id")


WON_CONTACT_COLUMNS = ("has_sale", "remote_id")


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
        return [
            *row_triggers(
                dialect,
                "kommo_won_daily_lead",
                "kommo_leads",
                WON_LEAD_COLUMNS,
                lambda r, s: [_won_lead_upsert(dialect, r, s)],
                function="kommo_won_daily_lead",
            ),
            *row_triggers(
                dialect,
                "kommo_won_daily_contact",
                "kommo_contacts",
                WON_CONTACT_COLUMNS,
                lambda r, s: (
                    _won_contact_leave(dialect, r) if s == "-" else _won_contact_enter(dialect, r)
                ),
                function="kommo_won_daily_contact",
            ),
        ]
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
            *row_trigger_drops(dialect, "", "kommo_leads", function="kommo_won_daily_lead"),
            *row_trigger_drops(dialect, "", "kommo_contacts", function="kommo_won_daily_contact"),
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
