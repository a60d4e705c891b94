"""A plan switch moves the subscriber and their MRR from the old plan to the new one from the
switch date on (Hotmart ``SWITCH_PLAN``, a Kiwify charge on another plan, a sync that reads
another plan): per plan it leaves one and joins the other ("troca de plano"), every plan
together keeps one subscriber and books only the value difference."""

from __future__ import annotations

import copy
import re
from datetime import date

from app.extensions import db
from app.models import Subscription, SubscriptionMovement
from app.services import subscription_report as report
from app.services import subscriptions
from app.services.charts import CUSTOM, DateRange
from tests.conftest import load_fixture
from tests.subscriptions.conftest import make, utc

HOTMART_RANGE = DateRange(CUSTOM, date(2025, 11, 1), date(2026, 1, 31))
KIWIFY_RANGE = DateRange(CUSTOM, date(2026, 6, 1), date(2026, 8, 31))
MENSAL, ANUAL = "Plano Mensal", "Plano Anual"
CLUB = "5123456"  # the Hotmart fixtures' product


def months(period=HOTMART_RANGE, **filters):
    return {m.month: m for m in report.movement(report.Filters(**filters), period)}


def now_figures(**filters) -> tuple[int, int]:
    """(active subscribers, MRR) today, as the cards show them."""
    f = report.Filters(**filters)
    summary = report.summary(f, report.movement(f, HOTMART_RANGE))
    return summary.active, summary.mrr_cents


def end_of(month: str, period=HOTMART_RANGE, **filters) -> tuple[int, int]:
    m = months(period, **filters)[month]
    return m.active_end, m.mrr_end


def page_text(client, **args) -> str:
    """/assinaturas as the seller reads it (tags dropped)."""
    html = client.get("/assinaturas", query_string=args).get_data(as_text=True)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def accepted(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "accepted"


def annual_subscriber(price_cents: int) -> None:
    """Someone already on the annual plan (counted), whose price the switch takes."""
    make(
        "OUTRO",
        product_id=CLUB,
        plan_id="778900",
        plan_name=ANUAL,
        frequency="annual",
        price_cents=price_cents,
        accession_date=utc(2025, 10, 1, 12),
    )
    db.session.commit()
    subscriptions.settle_pending()


def test_same_price_switch_moves_the_subscriber_and_keeps_the_total(send_webhook, app):
    annual_subscriber(59880)  # R$ 49,90 a month, as the monthly plan
    accepted(send_webhook("hotmart", "purchase_approved_subscription"))  # 15/11, monthly
    assert now_figures(plan=MENSAL) == (1, 4990)
    assert now_figures(plan=ANUAL) == (1, 4990)
    assert now_figures() == (2, 9980)

    accepted(send_webhook("hotmart", "switch_plan"))  # 16/12 to the annual plan
    assert now_figures(plan=MENSAL) == (0, 0)
    assert now_figures(plan=ANUAL) == (2, 9980)
    assert now_figures() == (2, 9980)  # the same subscribers, the same money
    assert now_figures(product=CLUB) == (2, 9980)

    # From the switch date on: November still had carla on the monthly plan.
    assert end_of("2025-11", plan=MENSAL) == (1, 4990)
    assert end_of("2025-11", plan=ANUAL) == (1, 4990)
    assert end_of("2025-12", plan=MENSAL) == (0, 0)
    assert end_of("2025-12", plan=ANUAL) == (2, 9980)
    old, new, every = months(plan=MENSAL)["2025-12"], months(plan=ANUAL)["2025-12"], months()
    assert (old.n["switch_out"], old.cents["switch_out"], old.n["churn"]) == (1, 4990, 0)
    assert old.churn_rate == 0.0  # a switch is no cancellation
    assert (new.n["switch_in"], new.cents["switch_in"], new.n["new"]) == (1, 4990, 0)
    dec = every["2025-12"]
    assert dec.n["switch_in"] == dec.n["switch_out"] == dec.n["churn"] == 0
    assert dec.n["expansion"] == dec.n["contraction"] == 0
    assert (dec.active_start, dec.active_end, dec.net_cents) == (2, 2, 0)

    # A replay of the switch (another delivery, the operator's reprocess) moves nothing.
    before = db.session.query(SubscriptionMovement).count(), now_figures(plan=ANUAL)
    body = load_fixture("hotmart", "switch_plan")
    body["id"] = "another-delivery-of-the-same-switch"
    accepted(send_webhook("hotmart", body))
    assert (db.session.query(SubscriptionMovement).count(), now_figures(plan=ANUAL)) == before


def test_cheaper_plan_moves_the_new_value_and_the_total_drops_by_the_difference(send_webhook, app):
    annual_subscriber(47880)  # R$ 39,90 a month
    accepted(send_webhook("hotmart", "purchase_approved_subscription"))
    accepted(send_webhook("hotmart", "switch_plan"))
    assert now_figures(plan=MENSAL) == (0, 0)
    assert now_figures(plan=ANUAL) == (2, 7980)
    assert now_figures() == (2, 7980)  # was 3990 + 4990: R$ 10,00 less, no one more
    dec = months()["2025-12"]
    assert (dec.n["contraction"], dec.cents["contraction"], dec.n["expansion"]) == (1, 1000, 0)
    assert (dec.mrr_start, dec.mrr_end) == (8980, 7980)
    new = months(plan=ANUAL)["2025-12"]
    assert (new.n["switch_in"], new.cents["switch_in"], new.n["contraction"]) == (1, 3990, 0)
    old = months(plan=MENSAL)["2025-12"]
    assert (old.cents["switch_out"], old.mrr_end) == (4990, 0)


def test_switch_then_cancel_churns_from_the_new_plan(send_webhook, app):
    accepted(send_webhook("hotmart", "purchase_approved_subscription"))
    accepted(send_webhook("hotmart", "switch_plan"))  # 16/12, price unknown: value kept
    assert now_figures(plan=ANUAL) == (1, 4990)
    cancel = copy.deepcopy(load_fixture("hotmart", "subscription_cancellation"))  # 17/12
    cancel["data"]["subscription"]["plan"] = {"id": 778900, "name": ANUAL}
    accepted(send_webhook("hotmart", cancel))
    assert now_figures(plan=ANUAL) == (0, 0)
    assert now_figures(plan=MENSAL) == (0, 0)  # it left the monthly plan on the switch
    assert now_figures() == (0, 0)
    assert months(plan=ANUAL)["2025-12"].n["churn"] == 1
    assert months(plan=MENSAL)["2025-12"].n["churn"] == 0


def test_plan_filter_page_and_api_follow_the_switch(send_webhook, app, client, auth):
    annual_subscriber(47880)
    send_webhook("hotmart", "purchase_approved_subscription")
    send_webhook("hotmart", "switch_plan")
    auth.operator()
    args = {"periodo": CUSTOM, "de": "2025-11-01", "ate": "2026-01-31"}
    mensal = client.get("/api/reports/mrr", query_string={**args, "plan": MENSAL}).get_json()
    assert (mensal["summary"]["active"], mensal["summary"]["mrr_cents"]) == (0, 0)
    dec = {m["month"]: m for m in mensal["months"]}["2025-12"]
    assert (dec["switch_out_count"], dec["switch_out_cents"], dec["churn_count"]) == (1, 4990, 0)
    anual = client.get("/api/reports/mrr", query_string={**args, "plan": ANUAL}).get_json()
    assert (anual["summary"]["active"], anual["summary"]["mrr_cents"]) == (2, 7980)
    listed = client.get("/api/subscriptions", query_string={"plan": ANUAL}).get_json()
    assert {i["buyer_email"] for i in listed["items"]} == {"carla@example.com", "outro@example.com"}
    assert client.get("/api/subscriptions", query_string={"plan": MENSAL}).get_json()["total"] == 0

    html = client.get("/assinaturas", query_string={**args, "plan": ANUAL}).get_data(as_text=True)
    assert f'value="{ANUAL}"' in html and f'value="{MENSAL}"' in html  # the plan filter
    text = page_text(client, **args, plan=ANUAL)
    assert "R$\xa079,80" in text  # the MRR card: both on the annual plan
    assert "Troca de plano" in text and "+1 / −0" in text
    assert "carla@example.com" in text and "entra (+) no plano novo" in text
    text = page_text(client, **args, plan=MENSAL)
    assert "+0 / −1" in text and "carla@example.com" not in text
    assert "Nenhuma assinatura com estes filtros" in text
    every = page_text(client, **args)
    assert "Troca de plano" not in every  # every plan together: no one moved in or out
    assert "R$\xa079,80" in every


def test_kiwify_charge_on_another_plan_is_a_switch(send_webhook):
    accepted(send_webhook("kiwify", "order_approved"))  # June, Plano Mensal R$ 197
    renewal = copy.deepcopy(load_fixture("kiwify", "subscription_renewed"))  # July
    renewal["Subscription"]["plan"].update({"id": "premium-0001", "name": "Plano Premium"})
    renewal["Commissions"].update({"charge_amount": 29700, "product_base_price": 29700})
    accepted(send_webhook("kiwify", renewal))
    sub = db.session.query(Subscription).filter_by(platform="kiwify").one()
    db.session.refresh(sub)
    assert (sub.plan_name, sub.mrr_cents) == ("Plano Premium", 29700)
    assert end_of("2026-06", KIWIFY_RANGE, plan=MENSAL) == (1, 19700)
    assert end_of("2026-07", KIWIFY_RANGE, plan=MENSAL) == (0, 0)
    assert end_of("2026-07", KIWIFY_RANGE, plan="Plano Premium") == (1, 29700)
    july = months(KIWIFY_RANGE, platform="kiwify")["2026-07"]
    assert (july.active_end, july.mrr_end) == (1, 29700)
    assert (july.n["expansion"], july.cents["expansion"], july.n["new"]) == (1, 10000, 0)


def test_sync_that_reads_another_plan_moves_it(app):
    """The Hotmart sync writes the plan and price it reads; the settle after it moves the
    subscriber even when the monthly value is the same."""
    sub = make("SYNC", price_cents=4990, accession_date=utc(2025, 11, 2, 12))
    db.session.commit()
    subscriptions.settle_pending()
    sub.plan_name, sub.state_at = "Plano Ouro", utc(2026, 1, 10, 12)
    db.session.commit()
    assert subscriptions.settle_pending() == 1
    assert subscriptions.settle_pending() == 0  # counted: nothing the next time
    assert end_of("2026-01", plan=MENSAL) == (0, 0)
    assert end_of("2026-01", plan="Plano Ouro") == (1, 4990)
    assert end_of("2026-01") == (1, 4990)
    assert "Plano Ouro" in report.options()[1]


def test_rebuild_counts_a_switched_subscriber_under_its_plan(send_webhook, runner):
    send_webhook("hotmart", "purchase_approved_subscription")
    send_webhook("hotmart", "switch_plan")
    subscriptions.rebuild()
    assert now_figures(plan=ANUAL) == (1, 4990)
    assert now_figures(plan=MENSAL) == (0, 0)
    assert now_figures() == (1, 4990)


def test_kirvano_first_charge_on_another_plan_is_a_switch(send_webhook):
    """Kirvano sends no subscription id (its key holds the plan): the buyer's first charge on
    the annual plan of a product whose monthly plan they still pay is a switch, not a second
    subscriber; the old plan's cancellation afterwards changes nothing."""
    accepted(send_webhook("kirvano", "sale_approved"))  # 10/07, Plano Mensal R$ 97
    annual = copy.deepcopy(load_fixture("kirvano", "sale_approved"))
    annual.update({"sale_id": "ANUAL0001", "checkout_id": "XE11ANUA", "total_price": "R$ 970,00"})
    annual["created_at"] = annual["payment"]["finished_at"] = "2026-08-05 10:00:00"
    annual["fiscal"] = {"total_value": 970, "net_value": 900, "fee": 70}
    annual["plan"].update(
        {"name": ANUAL, "charge_frequency": "ANNUALLY", "next_charge_date": "2027-08-05 10:00:00"}
    )
    accepted(send_webhook("kirvano", annual))
    subs = db.session.query(Subscription).filter_by(platform="kirvano").all()
    assert [(s.plan_name, s.mrr_cents) for s in subs] == [(ANUAL, 8083)]  # 970 / 12
    assert end_of("2026-07", KIWIFY_RANGE, plan=MENSAL) == (1, 9700)
    assert end_of("2026-08", KIWIFY_RANGE, plan=MENSAL) == (0, 0)
    assert end_of("2026-08", KIWIFY_RANGE, plan=ANUAL) == (1, 8083)
    aug = months(KIWIFY_RANGE, platform="kirvano")["2026-08"]
    assert (aug.active_end, aug.mrr_end, aug.n["new"]) == (1, 8083, 0)
    assert (aug.n["contraction"], aug.cents["contraction"]) == (1, 1617)

    canceled = copy.deepcopy(load_fixture("kirvano", "subscription_canceled"))
    canceled["plan"]["name"] = MENSAL  # the old plan's own ending
    send_webhook("kirvano", canceled)
    assert end_of("2026-08", KIWIFY_RANGE, plan=ANUAL) == (1, 8083)
    assert end_of("2026-08", KIWIFY_RANGE) == (1, 8083)
