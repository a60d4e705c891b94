"""Synced sales written a page at a time into the shared ``Sale`` table.

The same rules as ``sales.apply_synced_sale`` (one sale at a time, still used where a sale is
applied alone): a row a webhook created first keeps its data and only empty fields are filled;
the status moves forward only (``sales.next_status``), each change recorded in the history with
``event_type`` "sync"; a synced sale never issues a link or an e-mail, but a revocation still
ends the access it gave.

Per page: the existing rows of the page's transactions are read as plain rows (no ORM objects)
under the write lock (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL, so a webhook
cannot change them in between); what changes is worked out in Python; then one
``INSERT … ON CONFLICT DO NOTHING RETURNING id`` for the new sales, one
``INSERT … ON CONFLICT DO UPDATE`` for the changed ones, one insert of the history rows. A sale
that a webhook inserted after the read (the insert returned nothing for it) is applied alone
with ``apply_synced_sale``. Unchanged sales are not written at all. Failures fall back to row
by row (``bulk.write_page``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from app.database import retry_on_lock
from app.extensions import db
from app.models import Sale, SaleStatusChange
from app.models.sales import GRANTING_STATUSES, REVOKED_STATUSES
from app.models.types import utcnow
from app.services import activation, bulk
from app.services import sales as sales_service
from app.services.customers import index as customer_index

STATE_COLUMNS = ("id", "status", "status_at", "approved_at", *sales_service.SALE_FIELDS)


@dataclass
class SyncedSale:
    """A sale as a syncer mapped it (see ``hotmart.sale_fields``)."""

    transaction_id: str
    fields: dict[str, Any]
    status: str | None
    occurred_at: datetime | None = None
    approved_at: datetime | None = None


@dataclass
class Plan:
    outcome: str
    values: dict[str, Any] = field(default_factory=dict)
    history: tuple | None = None  # (from_status, to_status, occurred_at)
    revoke: str | None = None  # the revoked status, when access it gave must end


def plan(existing: dict | None, sale: SyncedSale, now: datetime) -> Plan:
    """What ``apply_synced_sale`` would do to ``existing`` (its columns, or None when new)."""
    is_new = existing is None
    state = (
        {"status": sale.status or "pending", "status_at": None, "approved_at": None}
        if is_new
        else dict(existing)
    )
    changed = is_new
    for name in sales_service.SALE_FIELDS:
        value = sale.fields.get(name)
        if value is None or value == "":
            continue
        value = sales_service.clip(name, value)
        current = state.get(name)
        if (is_new or current is None or current == "") and current != value:
            state[name] = value
            changed = True
    if sale.approved_at is not None and state["approved_at"] is None:
        state["approved_at"] = sale.approved_at
        changed = True
    was_granting = not is_new and state["status"] in GRANTING_STATUSES
    new = sales_service.next_status(SimpleNamespace(**state), sale.status, sale.occurred_at, is_new)
    history = revoke = None
    if new is not None:
        history = (None if is_new else state["status"], new, sale.occurred_at)
        state["status"] = new
        state["status_at"] = sale.occurred_at or now
        if new in GRANTING_STATUSES and state["approved_at"] is None:
            state["approved_at"] = sale.occurred_at or now
        changed = True
        if was_granting and new in REVOKED_STATUSES:
            revoke = new
    outcome = "created" if is_new else "updated" if changed else "unchanged"
    return Plan(outcome, state, history, revoke)


def upsert_sales_page(ctx, platform: str, sales: list[SyncedSale]) -> dict[str, int]:
    """Write one page of synced sales of ``platform`` (one commit) and count them in ``ctx``."""
    counts = dict.fromkeys(("created", "updated", "unchanged", "failed"), 0)
    if not sales:
        return counts
    unique, repeated = bulk.dedupe(sales, lambda s: s.transaction_id)
    counts["unchanged"] += repeated
    what = f"{platform} sales sync page"
    outcomes = retry_on_lock(
        lambda: bulk.write_page(
            lambda batch: _write(platform, batch),
            unique,
            what=what,
            key_of=lambda s: s.transaction_id,
            on_fail=bulk._fail_into(ctx),
        ),
        what=what,
    )
    for outcome in outcomes:
        counts[outcome] += 1
    if counts["created"] or counts["updated"]:
        customer_index.after_page(Sale, [s.transaction_id for s in unique], platform=platform)
    if ctx is not None:
        ctx.tally(counts)
    return counts


def _existing(platform: str, transactions: list[str]) -> dict[str, dict]:
    table = Sale.__table__
    stmt = select(*(table.c[name] for name in STATE_COLUMNS), table.c.transaction_id).where(
        table.c.platform == platform, table.c.transaction_id.in_(transactions)
    )
    if bulk.dialect_name() == "postgresql":
        stmt = stmt.with_for_update()
    out = {}
    for row in db.session.execute(stmt).mappings():
        values = dict(row)
        out[values.pop("transaction_id")] = values
    return out


def _write(platform: str, batch: list[SyncedSale]) -> list[str]:
    now = utcnow()
    table = Sale.__table__
    postgres = bulk.dialect_name() == "postgresql"
    bulk.begin_write()
    existing = _existing(platform, [s.transaction_id for s in batch])
    outcomes: list[str] = []
    creates: list[tuple[SyncedSale, Plan]] = []
    updates: list[tuple[SyncedSale, Plan]] = []
    for sale in batch:
        current = existing.get(sale.transaction_id)
        result = plan(current, sale, now)
        if result.outcome == "created":
            creates.append((sale, result))
        elif result.outcome == "updated":
            updates.append((sale, result))
        else:
            outcomes.append("unchanged")
    history: list[dict] = []
    if creates:
        rows = _rows(creates, platform, now)
        stmt = bulk.insert_for(table)
        if postgres:  # one short statement over arrays (see bulk.upsert_statement)
            stmt = stmt.from_select(list(rows[0]), bulk.unnest_rows(table, list(rows[0]), rows))
        stmt = stmt.on_conflict_do_nothing(index_elements=["platform", "transaction_id"])
        stmt = stmt.returning(table.c.id, table.c.transaction_id)
        returned = db.session.execute(stmt) if postgres else db.session.execute(stmt, rows)
        ids = {transaction: sale_id for sale_id, transaction in returned}
        for sale, result in creates:
            sale_id = ids.get(sale.transaction_id)
            if sale_id is None:  # a webhook stored it after the read: apply it alone
                outcomes.append(_apply_alone(platform, sale))
                continue
            outcomes.append("created")
            if result.history:
                history.append(_history(sale_id, result.history, now))
    if updates:
        rows = _rows(updates, platform, now)
        stmt = bulk.upsert_statement(
            table,
            ("platform", "transaction_id"),
            list(_WRITTEN),
            only_changed=False,
            rows=rows if postgres else None,
        ).returning(table.c.id)
        (db.session.execute(stmt) if postgres else db.session.execute(stmt, rows)).all()
        for _sale, result in updates:
            outcomes.append("updated")
            if result.history:
                history.append(_history(result.values["id"], result.history, now))
    if history:
        changes = SaleStatusChange.__table__
        if postgres:
            columns = list(history[0])
            stmt = changes.insert().from_select(
                columns, bulk.unnest_rows(changes, columns, history)
            )
            db.session.execute(stmt)
        else:
            db.session.execute(changes.insert(), history)
    for _sale, result in updates:
        if result.revoke:
            sale = db.session.get(Sale, result.values["id"], populate_existing=True)
            activation.revoke_for_sale(sale, result.revoke)
    if any(r.revoke for _s, r in updates):
        db.session.flush()
    return outcomes


_WRITTEN = ("status", "status_at", "approved_at", *sales_service.SALE_FIELDS)


def _rows(pairs: list[tuple[SyncedSale, Plan]], platform: str, now: datetime) -> list[dict]:
    """The written columns of each planned sale, as one insert or upsert row."""
    return [
        {
            **{name: p.values.get(name) for name in _WRITTEN},
            "platform": platform,
            "transaction_id": s.transaction_id,
            "source": "sync",
            "is_order_bump": False,
            "is_test": False,
            "created_at": now,
            "updated_at": now,
        }
        for s, p in pairs
    ]


def _history(sale_id: int, change: tuple, now: datetime) -> dict:
    from_status, to_status, occurred_at = change
    return {
        "sale_id": sale_id,
        "from_status": from_status,
        "to_status": to_status,
        "event_type": "sync",
        "webhook_event_id": None,
        "occurred_at": occurred_at,
        "changed_at": now,
    }


def _apply_alone(platform: str, sale: SyncedSale) -> str:
    _, outcome = sales_service.apply_synced_sale(
        platform,
        sale.transaction_id,
        sale.fields,
        sale.status,
        occurred_at=sale.occurred_at,
        approved_at=sale.approved_at,
    )
    db.session.flush()
    return outcome
