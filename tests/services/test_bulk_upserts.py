"""Bulk upserts of synced pages (app.services.bulk, app.services.bulk_sales): one statement per
page and table, counts without loading rows, the per-row fallback, and the same rules as the
one-sale-at-a-time path for the shared Sale table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from app.extensions import db
from app.models import KommoContact, Product, Sale, SaleStatusChange
from app.services import bulk, bulk_sales
from app.services import sales as sales_service

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def contact(i: int, **overrides) -> dict:
    row = {
        "remote_id": 1000 + i,
        "name": f"Contato {i}",
        "first_name": None,
        "last_name": None,
        "email": f"c{i}@example.com",
        "phone": None,
        "responsible_user_id": 7,
        "remote_created_at": T0,
        "remote_updated_at": T0,
        "custom_fields": [{"field_code": "EMAIL", "values": [{"value": f"c{i}@example.com"}]}],
    }
    row.update(overrides)
    return row


class Statements:
    """The SQL statements sent while the block runs."""

    def __init__(self):
        self.sql: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args):
        self.sql.append(" ".join(statement.split()).upper())

    def count(self, prefix: str) -> int:
        return sum(1 for s in self.sql if s.startswith(prefix))


def test_a_page_is_one_statement_and_counts_created_updated_unchanged(app):
    rows = [contact(i) for i in range(250)]
    with Statements() as seen:
        counts = bulk.upsert_page(None, KommoContact, rows)
    assert counts == {"created": 250, "updated": 0, "unchanged": 0, "failed": 0}
    assert seen.count("INSERT INTO KOMMO_CONTACTS") == 1
    assert seen.count("SELECT") == 0  # no rows loaded to compare

    again = [contact(i) for i in range(250)]
    again[3]["name"] = "Renomeado"
    again[4]["custom_fields"] = [{"field_code": "PHONE", "values": [{"value": "+5511"}]}]
    again.append(contact(300))
    with Statements() as seen:
        counts = bulk.upsert_page(None, KommoContact, again)
    assert counts == {"created": 1, "updated": 2, "unchanged": 248, "failed": 0}
    assert seen.count("INSERT INTO KOMMO_CONTACTS") == 1
    db.session.expire_all()
    renamed = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 1003))
    assert renamed.name == "Renomeado"
    assert db.session.scalar(select(func.count()).select_from(KommoContact)) == 251


def test_unchanged_rows_are_not_rewritten_and_local_edits_are_repaired(app):
    bulk.upsert_page(None, KommoContact, [contact(1), contact(2)])
    first = {c.remote_id: c.last_sync_at for c in db.session.scalars(select(KommoContact))}
    edited = db.session.scalar(select(KommoContact).where(KommoContact.remote_id == 1002))
    edited.email = "editado@example.com"
    db.session.commit()
    counts = bulk.upsert_page(None, KommoContact, [contact(1), contact(2)])
    assert counts == {"created": 0, "updated": 1, "unchanged": 1, "failed": 0}
    db.session.expire_all()
    rows = {c.remote_id: c for c in db.session.scalars(select(KommoContact))}
    assert rows[1002].email == "c2@example.com"  # the platform's value is back
    assert rows[1001].last_sync_at == first[1001]  # not written again


def test_a_record_listed_twice_in_a_page_is_written_once(app):
    counts = bulk.upsert_page(None, KommoContact, [contact(1), contact(1, name="Depois")])
    assert counts == {"created": 1, "updated": 0, "unchanged": 1, "failed": 0}
    assert db.session.scalar(select(KommoContact.name)) == "Depois"


def test_one_bad_record_fails_alone(app, caplog):
    rows = [contact(i) for i in range(10)]
    rows[6]["name"] = None  # NOT NULL: the bulk statement fails, then only this row does
    counts = bulk.upsert_page(None, KommoContact, rows)
    assert counts == {"created": 9, "updated": 0, "unchanged": 0, "failed": 1}
    assert db.session.scalar(select(func.count()).select_from(KommoContact)) == 9
    assert "1006" in caplog.text  # the failed record's id is logged, not its data


def test_fixed_columns_and_composite_keys(app):
    rows = [{"remote_id": "1", "name": "Curso", "raw": {"a": 1}}]
    assert bulk.upsert_page(None, Product, rows, fixed={"platform": "hotmart"})["created"] == 1
    assert bulk.upsert_page(None, Product, rows, fixed={"platform": "outra"})["created"] == 1
    changed = [{"remote_id": "1", "name": "Curso", "raw": {"a": 2}}]
    counts = bulk.upsert_page(None, Product, changed, fixed={"platform": "hotmart"})
    assert counts["updated"] == 1  # JSON compared by value on both databases
    counts = bulk.upsert_page(None, Product, changed, fixed={"platform": "hotmart"})
    assert counts["unchanged"] == 1


# ------------------------------------------------------------------------------ sales


def synced(transaction: str, status: str | None, when: datetime, **fields) -> dict:
    base = {"buyer_email": "maria@example.com", "product_id": "P1", "amount_cents": 19700}
    base.update(fields)
    return {
        "transaction_id": transaction,
        "fields": base,
        "status": status,
        "occurred_at": when,
        "approved_at": when if status in ("approved", "complete") else None,
    }


def _snapshot(platform: str) -> dict:
    db.session.expire_all()
    out = {}
    for sale in db.session.scalars(select(Sale).where(Sale.platform == platform)):
        history = [
            (h.from_status, h.to_status, h.event_type, h.occurred_at)
            for h in db.session.scalars(
                select(SaleStatusChange)
                .where(SaleStatusChange.sale_id == sale.id)
                .order_by(SaleStatusChange.id)
            )
        ]
        out[sale.transaction_id] = (
            sale.status,
            sale.status_at,
            sale.approved_at,
            sale.source,
            sale.buyer_email,
            sale.buyer_name,
            sale.amount_cents,
            history,
        )
    return out


SCENARIO = [
    # page 1: new sales, one without a known status
    [
        synced("T1", "approved", T0),
        synced("T2", "refunded", T0),
        synced("T3", None, T0),
        synced("T4", "approved", T0, buyer_name=None),
    ],
    # page 2: a refund moves forward, a stale approval after a refund does not, empty
    # fields get filled, an unchanged one stays
    [
        synced("T1", "refunded", T0 + timedelta(days=1)),
        synced("T2", "approved", T0 + timedelta(days=2)),
        synced("T4", "approved", T0, buyer_name="Maria"),
        synced("T3", None, T0),
    ],
]


@pytest.mark.parametrize("page", range(len(SCENARIO)))
def test_bulk_sales_follow_the_same_rules_as_one_at_a_time(app, page):
    webhook = Sale(
        platform="one",
        transaction_id="T4",
        status="approved",
        source="webhook",
        buyer_email="webhook@example.com",
        status_at=T0,
        approved_at=T0,
    )
    db.session.add(webhook)
    twin = Sale(
        platform="bulk",
        transaction_id="T4",
        status="approved",
        source="webhook",
        buyer_email="webhook@example.com",
        status_at=T0,
        approved_at=T0,
    )
    db.session.add(twin)
    db.session.commit()
    expected_outcomes = []
    got_outcomes = []
    for items in SCENARIO[: page + 1]:
        outcomes = []
        for item in items:
            _, outcome = sales_service.apply_synced_sale(
                "one",
                item["transaction_id"],
                item["fields"],
                item["status"],
                occurred_at=item["occurred_at"],
                approved_at=item["approved_at"],
            )
            db.session.flush()
            outcomes.append(outcome)
        db.session.commit()
        expected_outcomes.append(sorted(outcomes))
        counts = bulk_sales.upsert_sales_page(
            None, "bulk", [bulk_sales.SyncedSale(**item) for item in items]
        )
        got_outcomes.append(sorted(k for k, n in counts.items() for _ in range(n)))
    assert got_outcomes == expected_outcomes
    one, other = _snapshot("one"), _snapshot("bulk")
    assert set(one) == set(other)
    for transaction, state in one.items():
        # status_at of a sale created without a known status is "now": compare the rest
        assert other[transaction][0] == state[0], transaction
        assert other[transaction][2:] == state[2:], transaction
        if state[1] is not None and transaction != "T3":
            assert other[transaction][1] == state[1], transaction


def test_a_bulk_refund_revokes_the_access_the_sale_gave(app):
    from app.models import Access, User

    first = bulk_sales.SyncedSale(**synced("R1", "approved", T0))
    bulk_sales.upsert_sales_page(None, "hotmart", [first])
    sale = db.session.scalar(select(Sale).where(Sale.transaction_id == "R1"))
    user = User(email="maria@example.com", name="Maria", role="member", password_hash="x")
    db.session.add(user)
    db.session.flush()
    db.session.add(Access(user_id=user.id, sale_id=sale.id))
    db.session.commit()
    refund = bulk_sales.SyncedSale(**synced("R1", "refunded", T0 + timedelta(days=3)))
    counts = bulk_sales.upsert_sales_page(None, "hotmart", [refund])
    assert counts["updated"] == 1
    db.session.expire_all()
    access = db.session.scalar(select(Access).where(Access.sale_id == sale.id))
    assert (access.status, access.revoked_reason) == ("revoked", "refunded")
