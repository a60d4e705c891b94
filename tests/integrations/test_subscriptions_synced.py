"""Subscriptions and MRR over emulator-synced Hotmart subscriptions: the sync fills state,
frequency and monthly value; the report's numbers match the synced rows; a re-run changes
nothing; a status change seen by the next sync is one churn."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Subscription, SubscriptionMovement
from app.services import subscription_report as report
from app.services import subscriptions, sync
from app.services.charts import CUSTOM, DateRange
from app.sources.recurrence import monthly_cents
from tests.clients.conftest import LiveEmulator
from tests.integrations.test_hotmart_integration import hotmart_config

SUBSCRIPTIONS = 80


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        products=12,
        sales=10,
        subscriptions=SUBSCRIPTIONS,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def synced(app_factory, emu):
    app = app_factory(**hotmart_config(emu))
    with app.app_context():
        run = sync.run_sync("hotmart", "subscriptions")
        assert run.status == "succeeded", run.error
        yield app
        sync.wait_idle(10)


def movements():
    return db.session.execute(
        select(
            SubscriptionMovement.month,
            SubscriptionMovement.kind,
            SubscriptionMovement.n,
            SubscriptionMovement.mrr_cents,
        ).order_by(SubscriptionMovement.month, SubscriptionMovement.kind)
    ).all()


def whole_history() -> DateRange:
    first = db.session.scalar(select(func.min(Subscription.accession_date)))
    return DateRange(CUSTOM, first.astimezone(UTC).date().replace(day=1), date.today())


def test_synced_numbers_match_the_rows(synced, emu):
    with emu.hotmart() as client:
        items = [i for page in client.subscription_pages(page_size=50) for i in page.items]
    assert len(items) == SUBSCRIPTIONS
    subs = db.session.scalars(select(Subscription)).all()
    by_code = {s.subscriber_code: s for s in subs}
    for item in items:
        sub = by_code[item["subscriber_code"]]
        days = item["plan"]["recurrency_period"]
        assert sub.frequency == ("monthly" if days == 30 else "annual")
        assert sub.mrr_cents == monthly_cents(round(item["price"]["value"] * 100), sub.frequency)
        if item["status"].startswith("CANCELLED"):
            assert sub.state == "canceled" and sub.canceled_at is not None
    active = [s for s in subs if s.state in ("active", "overdue")]
    months = report.movement(report.Filters(), whole_history())
    summary = report.summary(report.Filters(), months)
    assert summary.active == len(active) > 0
    assert summary.mrr_cents == sum(s.mrr_cents for s in active)
    assert summary.overdue == sum(1 for s in subs if s.state == "overdue")
    assert months[-1].mrr_end == summary.mrr_cents
    ended_with_history = [s for s in subs if s.state in ("canceled", "ended")]
    assert sum(m.n["churn"] for m in months) == len(ended_with_history)
    annual = next((s for s in active if s.frequency == "annual"), None)
    if annual is not None:
        assert annual.mrr_cents * 12 == pytest.approx(annual.price_cents, abs=6)


def test_rerun_counts_nothing_twice(synced):
    before = movements()
    again = sync.run_sync("hotmart", "subscriptions")
    assert again.status == "succeeded" and again.updated_count == 0
    assert movements() == before


def test_a_cancellation_seen_by_the_next_sync_is_one_churn(synced):
    sub = db.session.scalars(select(Subscription).where(Subscription.state == "active")).first()
    sub.status, sub.state = "CANCELLED_BY_CUSTOMER", "canceled"
    sub.canceled_at = datetime.now(UTC)
    db.session.commit()
    subscriptions.settle_pending("hotmart")
    month = report.movement(report.Filters(), whole_history())[-1]
    assert month.n["churn"] >= 1
    # The next sync brings the platform's status back: a reactivation, nothing lost.
    assert sync.run_sync("hotmart", "subscriptions").updated_count == 1
    month = report.movement(report.Filters(), whole_history())[-1]
    assert month.n["reactivation"] == 1
