"""Hotmart subscription webhooks (real-format fixtures) update /assinaturas: a paid purchase
starts or renews the subscription the sync would write (subscriber code + numeric product),
a cancellation churns it, a plan switch books the value difference, a charge-date change moves
the next charge. Replays change nothing; an older event after a newer one undoes nothing."""

from __future__ import annotations

import copy
from datetime import date

from app.extensions import db
from app.models import Subscription, SubscriptionMovement, WebhookEvent
from app.services import subscription_report as report
from app.services.charts import CUSTOM, DateRange
from tests.conftest import count_rows, load_fixture
from tests.subscriptions.conftest import make, utc

RANGE = DateRange(CUSTOM, date(2025, 11, 1), date(2026, 1, 31))


def months(**filters):
    return {m.month: m for m in report.movement(report.Filters(**filters), RANGE)}


def carla() -> Subscription:
    sub = db.session.query(Subscription).filter_by(subscriber_code="I9OT62C3").one()
    db.session.refresh(sub)
    return sub


def movements():
    return sorted(
        db.session.query(
            SubscriptionMovement.month,
            SubscriptionMovement.platform,
            SubscriptionMovement.product_id,
            SubscriptionMovement.plan_name,
            SubscriptionMovement.kind,
            SubscriptionMovement.n,
            SubscriptionMovement.mrr_cents,
        ).all()
    )


def status_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["status"]


def test_purchase_renewal_charge_date_and_cancellation(send_webhook):
    assert status_of(send_webhook("hotmart", "purchase_approved_subscription")) == "accepted"
    sub = carla()
    assert (sub.platform, sub.product_id, sub.product_ucode) == (
        "hotmart",
        "5123456",
        "3b0e5c7a-2d4f-4e6b-8a1c-9d0e1f2a3b4c",
    )
    assert (sub.state, sub.price_cents, sub.mrr_cents, sub.plan_name) == (
        "active",
        4990,
        4990,
        "Plano Mensal",
    )
    assert sub.accession_date == utc(2025, 11, 15, 23, 2, 25)
    assert months()["2025-11"].n["new"] == 1

    assert status_of(send_webhook("hotmart", "purchase_approved_renewal")) == "accepted"
    assert count_rows(Subscription) == 1  # two charges, one subscription

    assert status_of(send_webhook("hotmart", "update_subscription_charge_date")) == "accepted"
    sub = carla()
    assert sub.date_next_charge == utc(2026, 1, 20, 23, 0)
    assert sub.state == "active"
    row = db.session.query(WebhookEvent).filter_by(event_type="UPDATE_SUBSCRIPTION_CHARGE_DATE")
    assert row.one().status == "processed"

    assert status_of(send_webhook("hotmart", "subscription_cancellation")) == "accepted"
    sub = carla()
    assert (sub.state, sub.canceled_at) == ("canceled", utc(2025, 12, 17, 19, 33, 10))
    assert sub.date_next_charge == utc(2026, 1, 14, 23, 2, 25)  # access until then
    dec = months()["2025-12"]
    assert (dec.active_start, dec.n["churn"], dec.cents["churn"], dec.mrr_end) == (1, 1, 4990, 0)
    assert dec.churn_rate == 1.0
    summary = report.summary(report.Filters(platform="hotmart"), list(months().values()))
    assert (summary.active, summary.mrr_cents) == (0, 0)


def test_replays_change_nothing(send_webhook, webhook_app):
    from app.services import webhook_processing

    for name in (
        "purchase_approved_subscription",
        "update_subscription_charge_date",
        "subscription_cancellation",
    ):
        send_webhook("hotmart", name)
    before = movements()
    assert status_of(send_webhook("hotmart", "subscription_cancellation")) == "duplicate"
    body = load_fixture("hotmart", "subscription_cancellation")
    body["id"] = "another-delivery-of-the-same-cancellation"
    send_webhook("hotmart", body)
    for row in db.session.query(WebhookEvent).all():  # the operator's "reprocessar"
        webhook_processing.process(row.id)
    assert movements() == before
    assert carla().state == "canceled"


def test_an_older_event_does_not_undo_a_newer_one(send_webhook):
    send_webhook("hotmart", "purchase_approved_subscription")
    send_webhook("hotmart", "subscription_cancellation")  # 17/12
    switch = load_fixture("hotmart", "switch_plan")  # 16/12, ACTIVE: older than the cancel
    assert status_of(send_webhook("hotmart", switch)) == "accepted"
    charge = load_fixture("hotmart", "update_subscription_charge_date")  # 17/12 08:26
    send_webhook("hotmart", charge)
    sub = carla()
    assert (sub.state, sub.plan_name, sub.mrr_cents) == ("canceled", "Plano Mensal", 4990)
    assert sub.date_next_charge == utc(2026, 1, 14, 23, 2, 25)
    assert months()["2025-12"].n["reactivation"] == 0
    # A newer payment brings it back (reactivation), as a sync would.
    renewal = copy.deepcopy(load_fixture("hotmart", "purchase_approved_renewal"))
    renewal["id"] = "renewal-after-the-cancellation"
    renewal["data"]["purchase"].update(
        {"transaction": "HP19044556677999", "approved_date": 1768431745000}
    )
    send_webhook("hotmart", renewal)
    assert carla().state == "active"
    assert months()["2026-01"].n["reactivation"] == 1


def test_plan_switch_books_the_value_difference(send_webhook, app):
    # Another subscriber already on the annual plan says what it costs.
    make(
        "OUTRO",
        product_id="5123456",
        plan_id="778900",
        plan_name="Plano Anual",
        frequency="annual",
        price_cents=47880,
        accession_date=utc(2025, 10, 1, 12),
    )
    db.session.commit()
    send_webhook("hotmart", "purchase_approved_subscription")
    assert status_of(send_webhook("hotmart", "switch_plan")) == "accepted"
    sub = carla()
    assert (sub.plan_id, sub.plan_name, sub.frequency) == ("778900", "Plano Anual", "annual")
    assert (sub.price_cents, sub.mrr_cents) == (47880, 3990)
    assert sub.date_next_charge == utc(2026, 12, 16, 21, 15, 45)
    dec = months(product="5123456")["2025-12"]
    assert (dec.n["contraction"], dec.cents["contraction"], dec.n["churn"]) == (1, 1000, 0)
    assert dec.active_end == 1  # carla only: OUTRO was never settled here
    assert status_of(send_webhook("hotmart", "switch_plan")) == "duplicate"
    assert months(product="5123456")["2025-12"].cents["contraction"] == 1000


def test_plan_switch_without_a_known_price_keeps_the_value(send_webhook):
    send_webhook("hotmart", "purchase_approved_subscription")
    send_webhook("hotmart", "switch_plan")
    sub = carla()
    assert (sub.plan_name, sub.price_cents, sub.mrr_cents, sub.frequency) == (
        "Plano Anual",
        4990,
        4990,
        "monthly",
    )  # the value is booked when the next charge or the sync says it
    assert months()["2025-12"].n["contraction"] == months()["2025-12"].n["expansion"] == 0


def test_events_about_an_unknown_subscription_are_ignored(send_webhook):
    assert status_of(send_webhook("hotmart", "switch_plan")) == "ignored"
    row = db.session.query(WebhookEvent).filter_by(event_type="SWITCH_PLAN").one()
    assert row.status == "ignored" and "assinatura" in row.last_error
    send_webhook("hotmart", "subscription_cancellation")
    assert count_rows(Subscription) == 0 and count_rows(SubscriptionMovement) == 0


def test_synced_subscription_is_the_same_row(send_webhook, app):
    """The sync's row (numeric product id) is the one the webhooks change: one subscriber."""
    from app.services import subscriptions

    make(
        "I9OT62C3",
        product_id="5123456",
        plan_id="778899",
        price_cents=4990,
        accession_date=utc(2025, 11, 15, 23, 2, 25),
        status="ACTIVE",
    )
    db.session.commit()
    subscriptions.settle_pending()
    send_webhook("hotmart", "subscription_cancellation")
    assert count_rows(Subscription) == 1
    sub = carla()
    assert sub.state == "canceled" and sub.buyer_email == "i9ot62c3@example.com"
    assert months()["2025-12"].n["churn"] == 1
    assert subscriptions.settle_pending() == 0  # the sync after it finds nothing to count


def test_platform_test_delivery_is_never_counted(send_webhook):
    body = load_fixture("hotmart", "purchase_approved_subscription")
    body["data"]["product"].update({"id": 0, "name": "Produto test postback2"})
    send_webhook("hotmart", body)
    assert all(s.is_test for s in db.session.query(Subscription))
    assert count_rows(SubscriptionMovement) == 0
