"""Kiwify and Kirvano subscription events (captured deliveries) become subscriptions: one per
subscription whatever the number of charges, its plan frequency, next charge and state, and
the MRR movement they make (new, churn, reactivation)."""

from __future__ import annotations

import copy
from datetime import date

from app.extensions import db
from app.models import Sale, Subscription
from app.services import subscription_report as report
from app.services.charts import CUSTOM, DateRange
from tests.conftest import count_rows, load_fixture
from tests.subscriptions.conftest import utc

YEAR = DateRange(CUSTOM, date(2026, 5, 1), date(2026, 9, 30))


def months(**filters):
    return {m.month: m for m in report.movement(report.Filters(**filters), YEAR)}


def only_subscription(platform: str) -> Subscription:
    subs = db.session.query(Subscription).filter_by(platform=platform).all()
    assert len(subs) == 1, subs
    db.session.refresh(subs[0])
    return subs[0]


def accepted(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "accepted"


def test_kiwify_approval_cancellation_and_renewal(send_webhook):
    accepted(send_webhook("kiwify", "order_approved"))
    sale = db.session.query(Sale).filter_by(platform="kiwify").one()
    assert (sale.plan_frequency, sale.next_charge_at) == (
        "monthly",
        utc(2026, 7, 8, 14, 54, 10, 298000),
    )
    sub = only_subscription("kiwify")
    assert sub.subscriber_code == "9584c28e-8c7b-44bc-9282-2fa03c45b7db"
    assert (sub.state, sub.frequency, sub.price_cents, sub.mrr_cents) == (
        "active",
        "monthly",
        19700,
        19700,
    )
    assert (sub.plan_name, sub.product_name, sub.buyer_email) == (
        "Plano Mensal",
        "Curso Exemplo",
        "maria@example.com",
    )
    assert sub.date_next_charge == utc(2026, 7, 8, 14, 54, 10, 298000)
    assert sub.accession_date == utc(2026, 6, 8, 14, 54)  # 11:54 in São Paulo

    accepted(send_webhook("kiwify", "subscription_canceled"))
    sub = only_subscription("kiwify")
    assert sub.state == "canceled" and sub.canceled_at == utc(2026, 6, 25, 21, 2)
    june = months()["2026-06"]
    assert (june.n["new"], june.n["churn"], june.mrr_end) == (1, 1, 0)

    accepted(send_webhook("kiwify", "subscription_renewed"))  # paid again: back
    sub = only_subscription("kiwify")
    assert sub.state == "active" and sub.canceled_at is None
    assert sub.date_next_charge == utc(2026, 8, 8, 14, 54, 10, 298000)
    assert count_rows(Sale, Sale.platform == "kiwify") == 2  # two charges, one subscription
    july = months()["2026-07"]
    assert (july.n["reactivation"], july.cents["reactivation"], july.mrr_end) == (1, 19700, 19700)


def test_kiwify_replayed_delivery_counts_once(send_webhook):
    accepted(send_webhook("kiwify", "order_approved"))
    assert send_webhook("kiwify", "order_approved").get_json()["status"] == "duplicate"
    body = load_fixture("kiwify", "order_approved")
    body["updated_at"] = "2026-06-08 11:59"  # the same approval re-sent with another body
    send_webhook("kiwify", body)
    assert months()["2026-06"].n["new"] == 1
    assert report.summary(report.Filters(), list(months().values())).active == 1


def test_kiwify_annual_plan_is_twelfth_per_month(send_webhook):
    body = load_fixture("kiwify", "order_approved")
    body["Subscription"]["plan"].update({"name": "Plano Anual", "frequency": "yearly"})
    body["Commissions"]["charge_amount"] = 118800
    accepted(send_webhook("kiwify", body))
    sub = only_subscription("kiwify")
    assert (sub.frequency, sub.mrr_cents) == ("annual", 9900)


def test_kiwify_test_delivery_is_never_counted(send_webhook):
    send_webhook("kiwify", "platform_test_approved")
    assert all(s.is_test for s in db.session.query(Subscription))
    assert report.summary(report.Filters(), list(months().values())).active == 0


def test_kiwify_one_off_sale_is_no_subscription(send_webhook):
    body = load_fixture("kiwify", "order_approved")
    body.pop("Subscription")
    body.pop("subscription_id")
    accepted(send_webhook("kiwify", body))
    assert count_rows(Subscription) == 0


def test_kirvano_sale_renewal_and_cancellation(send_webhook):
    accepted(send_webhook("kirvano", "sale_approved"))
    sub = only_subscription("kirvano")
    assert sub.subscriber_code.startswith("kv-")  # no id from Kirvano: e-mail + product + plan
    assert (sub.state, sub.frequency, sub.mrr_cents, sub.plan_name) == (
        "active",
        "monthly",
        9700,
        "Plano Mensal",
    )
    assert sub.date_next_charge == utc(2026, 8, 10, 20, 5, 41)
    accepted(send_webhook("kirvano", "subscription_renewed"))
    sub = only_subscription("kirvano")  # the renewal's new sale_id joins the same subscription
    assert sub.date_next_charge == utc(2026, 9, 10, 20, 5, 44) and sub.state == "active"
    assert count_rows(Sale, Sale.platform == "kirvano") == 2
    late = copy.deepcopy(load_fixture("kirvano", "subscription_renewed"))
    late.update(
        {"event": "SUBSCRIPTION_EXPIRED", "status": "EXPIRED", "created_at": "2026-09-11 09:00:00"}
    )
    late["plan"]["charge_number"] = 3
    late["sale_id"] = "LATE3456"
    send_webhook("kirvano", late)
    sub = only_subscription("kirvano")
    assert sub.state == "overdue"
    summary = report.summary(report.Filters(platform="kirvano"), list(months().values()))
    assert (summary.overdue, summary.active, summary.mrr_cents) == (1, 1, 9700)  # still counted

    cancel = load_fixture("kirvano", "subscription_canceled")
    cancel["created_at"] = "2026-09-20 08:15:00"
    accepted(send_webhook("kirvano", cancel))
    sub = only_subscription("kirvano")
    assert sub.state == "canceled"
    by = months(platform="kirvano")
    assert (by["2026-07"].n["new"], by["2026-09"].n["churn"], by["2026-09"].mrr_end) == (1, 1, 0)


def test_kirvano_stale_cancellation_does_not_undo_a_later_renewal(send_webhook):
    accepted(send_webhook("kirvano", "sale_approved"))
    accepted(send_webhook("kirvano", "subscription_renewed"))  # 10/08
    send_webhook("kirvano", "subscription_canceled")  # dated 25/07: older than the renewal
    assert only_subscription("kirvano").state == "active"


def test_kirvano_one_off_sale_is_no_subscription(send_webhook):
    body = load_fixture("kirvano", "sale_approved")
    body["type"] = "ONE_TIME"
    body.pop("plan")
    accepted(send_webhook("kirvano", body))
    assert count_rows(Subscription) == 0


def test_sales_stored_before_subscriptions_are_backfilled(send_webhook, webhook_app):
    from app.models import SubscriptionMovement

    accepted(send_webhook("kiwify", "order_approved"))
    accepted(send_webhook("kiwify", "subscription_canceled"))
    accepted(send_webhook("kirvano", "sale_approved"))
    accepted(send_webhook("kirvano", "subscription_renewed"))
    expected = {k: (m.n, m.cents, m.mrr_end) for k, m in months().items()}
    db.session.query(SubscriptionMovement).delete()
    db.session.query(Subscription).delete()
    db.session.commit()
    result = webhook_app.test_cli_runner().invoke(args=["subscriptions", "rebuild", "--from-sales"])
    assert result.exit_code == 0, result.output
    assert "vendas de assinatura lidas: 3" in result.output
    assert {k: (m.n, m.cents, m.mrr_end) for k, m in months().items()} == expected
    assert {s.state for s in db.session.query(Subscription)} == {"canceled", "active"}
