""" "Comprou fora do CRM"'s distinct buyers from ``sales_daily_buyers`` (issue 16, fast at
size): each sale's previous-sale days (``sales.prev_*_day``) kept by triggers through every
kind of write — ORM inserts, refunds, re-dated sales, e-mail changes and removals, the CRM
match flipped for several sales of one buyer in one statement, upserts, platform moves and
deletes — always equal to a computation in Python, the summary equal to its recomputation,
and the report's total and chart equal to grouping the range's sales, for ranges that cut a
buyer's history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, text, update

from app.extensions import db
from app.models import Sale
from app.models.sales import GRANTING_STATUSES
from app.services import charts, summaries
from app.services import cross_reports as cr
from tests.services.test_summaries import assert_summaries_match

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PREVS = [column for _, column, _, _ in summaries.BUYER_PREVS]


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def sale(tx, email, when, *, platform="hotmart", status="approved", matched=False, **extra):
    row = Sale(
        platform=platform,
        transaction_id=tx,
        status=status,
        buyer_email=email,
        amount_cents=1000,
        currency="BRL",
        ordered_at=when,
        approved_at=when,
        status_at=when,
        crm_matched=matched,
        **extra,
    )
    db.session.add(row)
    return row


def _sp_day(when: datetime) -> str:
    return (when.replace(tzinfo=None) - timedelta(hours=3)).date().isoformat()


def expected_prevs() -> dict[int, tuple[str, ...]]:
    """Each sale's four previous days, computed here from the rows."""
    rows = db.session.scalars(select(Sale)).all()

    def counted(s: Sale, in_crm: bool) -> bool:
        return (
            not s.is_test
            and (s.currency or "BRL") in ("BRL", "")
            and s.status in GRANTING_STATUSES
            and bool(s.buyer_email)
            and (s.crm_matched or not in_crm)
        )

    result = {}
    for s in rows:
        days = []
        for _, _, platform, in_crm in summaries.BUYER_PREVS:
            if not counted(s, in_crm):
                days.append("")
                continue
            earlier = [
                p.listed_at
                for p in rows
                if counted(p, in_crm)
                and p.buyer_email.lower() == s.buyer_email.lower()
                and (not platform or p.platform == s.platform)
                and (p.listed_at, p.id) < (s.listed_at, s.id)
            ]
            days.append(_sp_day(max(earlier)) if earlier else "")
        result[s.id] = tuple(days)
    return result


def assert_consistent():
    db.session.flush()
    db.session.expire_all()
    columns = ", ".join(PREVS)
    stored = {
        r[0]: tuple(r[1:]) for r in db.session.execute(text(f"SELECT id, {columns} FROM sales"))
    }
    assert stored == expected_prevs()
    assert_summaries_match()
    for args in (
        {"periodo": "personalizado", "de": "2026-11-10", "ate": "2026-11-10"},
        {"periodo": "personalizado", "de": "2026-11-09", "ate": "2026-11-12"},
        {"periodo": "personalizado", "de": "2026-11-12", "ate": "2026-11-20"},
        {"periodo": "30"},
    ):
        assert_report_matches(args)


def assert_report_matches(args):
    report = cr.REPORTS["comprou-fora-do-crm"]
    with time_machine.travel(NOW, tick=False), db.session.no_autoflush:
        period = charts.from_args(args)
        from flask import g

        g.pop("_cross_reports", None)
        grouped = db.session.execute(report.query(period)).all()
        assert report.total(period) == len(grouped), args
        people: dict = {}
        for s in db.session.scalars(select(Sale)):
            if not (
                not s.is_test
                and (s.currency or "BRL") in ("BRL", "")
                and s.status in GRANTING_STATUSES
                and s.listed_at >= period.since
                and (period.until is None or s.listed_at < period.until)
            ):
                continue
            key = (s.platform, (s.buyer_email or "").lower() or f"sale:{s.id}")
            people[key] = people.get(key, False) or s.crm_matched
        platforms = sorted({p for p, _ in people})
        chart = report.chart(period)
        assert chart["labels"] == [cr.platform_label(p) for p in platforms], args
        for column, platform in enumerate(platforms):
            out = sum(1 for (p, _), m in people.items() if p == platform and not m)
            inside = sum(1 for (p, _), m in people.items() if p == platform and m)
            assert [d["data"][column] for d in chart["datasets"]] == [out, inside], args


@pytest.fixture
def history(app):
    with app.test_request_context():
        # Ana buys four times across the days and platforms (one a tie at the same minute),
        # one of them matched to the CRM; Bia twice; Caio without an e-mail; a test sale.
        sale("A1", "ana@x.com", at(8))
        sale("A2", "Ana@X.com", at(10), matched=True)
        sale("A3", "ana@x.com", at(10), platform="kiwify")
        sale("A4", "ANA@x.com", at(12))
        sale("B1", "bia@x.com", at(9, 2))  # 23:00 of the 8th in São Paulo
        sale("B2", "bia@x.com", at(11), platform="kirvano")
        sale("C1", None, at(10))
        sale("C2", "", at(10))
        sale("T1", "ana@x.com", at(9), is_test=True)
        sale("P1", "ana@x.com", at(9), status="pending")
        db.session.flush()
        yield


def test_previous_days_follow_inserts_and_ties(history):
    assert_consistent()
    # A sale between two of Ana's moves the next one's previous day.
    sale("A5", "ana@x.com", at(11))
    sale("B0", "BIA@x.com", at(7), platform="kirvano")
    assert_consistent()


def test_previous_days_follow_refunds_redating_and_status(history):
    a2 = db.session.scalar(select(Sale).filter_by(transaction_id="A2"))
    a2.status = "refunded"  # the matched sale leaves: Ana is out of the CRM on the 10th
    assert_consistent()
    a2.status = "approved"
    a1 = db.session.scalar(select(Sale).filter_by(transaction_id="A1"))
    a1.ordered_at = at(13)  # now Ana's last sale
    assert_consistent()
    pending = db.session.scalar(select(Sale).filter_by(transaction_id="P1"))
    pending.status = "approved"
    test = db.session.scalar(select(Sale).filter_by(transaction_id="T1"))
    test.is_test = False
    test.currency = "USD"  # another currency never counts
    assert_consistent()


def test_previous_days_follow_email_and_platform_changes(history):
    a3 = db.session.scalar(select(Sale).filter_by(transaction_id="A3"))
    a3.buyer_email = "bia@x.com"  # corrected: one sale moves between buyers
    assert_consistent()
    a3.buyer_email = None
    assert_consistent()
    b2 = db.session.scalar(select(Sale).filter_by(transaction_id="B2"))
    b2.platform = "hotmart"
    c1 = db.session.scalar(select(Sale).filter_by(transaction_id="C1"))
    c1.buyer_email = "ana@x.com"
    assert_consistent()


def test_previous_days_follow_statements_over_several_rows(history):
    # The CRM match of every Ana sale at once (what matches.refresh writes), then undone.
    db.session.execute(
        update(Sale).where(text("lower(buyer_email) = 'ana@x.com'")).values(crm_matched=True)
    )
    assert_consistent()
    db.session.execute(update(Sale).values(crm_matched=False))
    assert_consistent()
    # An upsert re-dating two of Bia's sales and adding a third, then a bulk delete.
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    rows = [
        {
            "platform": p,
            "transaction_id": tx,
            "status": "approved",
            "buyer_email": "bia@x.com",
            "currency": "BRL",
            "ordered_at": when,
            "is_order_bump": False,
            "is_test": False,
            "source": "sync",
            "created_at": when,
            "updated_at": when,
        }
        for p, tx, when in (
            ("hotmart", "B1", at(12)),
            ("kirvano", "B2", at(8)),
            ("kirvano", "B3", at(10)),
        )
    ]
    stmt = upsert(Sale).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform", "transaction_id"],
        set_={"ordered_at": stmt.excluded.ordered_at},
    )
    db.session.execute(stmt)
    assert_consistent()
    db.session.execute(delete(Sale).where(Sale.transaction_id.in_(("A2", "A4", "B2"))))
    assert_consistent()
    db.session.delete(db.session.scalar(select(Sale).filter_by(transaction_id="A1")))
    assert_consistent()


def test_rebuild_restores_the_previous_days(history):
    db.session.execute(text("UPDATE sales SET prev_buyer_day = '', prev_platform_crm_day = 'x'"))
    db.session.execute(text("DELETE FROM sales_daily_buyers"))
    summaries.rebuild(db.session.connection())
    assert_consistent()


def test_a_day_range_counts_each_buyer_once(history):
    # The 10th: Ana (three sales, one matched: in the CRM) and the two sales without an
    # e-mail (each its own buyer, out of the CRM).
    with time_machine.travel(NOW, tick=False):
        period = charts.from_args(
            {"periodo": "personalizado", "de": "2026-11-10", "ate": "2026-11-10"}
        )
        assert period.start == date(2026, 11, 10)
        assert cr.REPORTS["comprou-fora-do-crm"].total(period) == 2


def _stored_prevs(tx: str) -> tuple[str, ...]:
    db.session.flush()
    columns = ", ".join(PREVS)
    return tuple(
        db.session.execute(
            text(f"SELECT {columns} FROM sales WHERE transaction_id = :tx"), {"tx": tx}
        ).one()
    )


def _buckets() -> list[tuple]:
    db.session.flush()
    return db.session.execute(
        text(
            "SELECT day, platform, kind, prev_day, n FROM sales_daily_buyers "
            "WHERE n <> 0 ORDER BY 1, 2, 3, 4"
        )
    ).all()


def test_a_write_of_nothing_they_depend_on_leaves_everything_as_it_was(history):
    columns = ", ".join(PREVS)
    before = db.session.execute(text(f"SELECT id, {columns} FROM sales ORDER BY id")).all()
    buckets = _buckets()
    a2 = db.session.scalar(select(Sale).filter_by(transaction_id="A2"))
    a2.buyer_name = "Ana Souza"
    a2.amount_cents = 4990
    db.session.execute(update(Sale).values(utm_source="instagram"))
    # A test sale and a pending one re-dated and renamed: neither is counted.
    test = db.session.scalar(select(Sale).filter_by(transaction_id="T1"))
    test.ordered_at = at(6)
    test.buyer_email = "bia@x.com"
    pending = db.session.scalar(select(Sale).filter_by(transaction_id="P1"))
    pending.ordered_at = at(6)
    db.session.flush()
    db.session.expire_all()
    assert db.session.execute(text(f"SELECT id, {columns} FROM sales ORDER BY id")).all() == before
    assert _buckets() == buckets
    assert_consistent()


def test_an_older_sale_fixes_the_next_sale_of_its_buyer(history):
    # Ana's Hotmart sales (out of the CRM but the 10th's): the 8th, the 10th, the 12th. One
    # on the 11th becomes the previous sale of the 12th's; one on the 7th the previous of
    # the 8th's, in the CRM too once that one is matched.
    assert _stored_prevs("A4") == ("2026-11-10", "", "2026-11-10", "")
    sale("A5", "ana@x.com", at(11))
    assert _stored_prevs("A4") == ("2026-11-11", "", "2026-11-11", "")
    assert _stored_prevs("A2") == ("2026-11-08", "", "2026-11-08", "")
    sale("A0", "ana@x.com", at(7), matched=True)
    assert _stored_prevs("A1") == ("2026-11-07", "", "2026-11-07", "")
    assert _stored_prevs("A2") == ("2026-11-08", "2026-11-07", "2026-11-08", "2026-11-07")
    assert_consistent()
    # Deleting the 11th's gives the 12th's its previous day back.
    db.session.execute(delete(Sale).where(Sale.transaction_id == "A5"))
    assert _stored_prevs("A4") == ("2026-11-10", "", "2026-11-10", "")
    assert_consistent()


def test_a_webhook_approval_stored_then_filled_in(history):
    # What webhook processing writes: the sale first (status, no buyer, no dates), then its
    # buyer, dates and amount in an update; for a buyer's newest sale and an older one.
    for tx, when in (("A6", at(14)), ("A7", at(9))):
        row = Sale(platform="hotmart", transaction_id=tx, status="approved", source="webhook")
        db.session.add(row)
        db.session.flush()
        row.buyer_email = "ana@x.com"
        row.ordered_at = row.approved_at = row.status_at = when
        row.currency = "BRL"
        row.amount_cents = 1000
        assert_consistent()
    assert _stored_prevs("A6")[0] == "2026-11-12"
    assert _stored_prevs("A7")[0] == "2026-11-08"
    assert _stored_prevs("A2")[0] == "2026-11-09"
