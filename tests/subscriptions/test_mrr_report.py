"""MRR, its movement per São Paulo month, churn, overdue and next charges (SQL aggregates over
``subscription_movements``), the page, its JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from app.extensions import db
from app.models import Subscription, SubscriptionMovement
from app.services import subscription_report as report
from app.services import subscriptions
from app.services.charts import CUSTOM, DateRange
from tests.conftest import count_rows
from tests.subscriptions.conftest import make, utc

RANGE = DateRange(CUSTOM, date(2026, 1, 1), date(2026, 4, 30))
MRR_ARGS = {"periodo": CUSTOM, "de": "2026-01-01", "ate": "2026-04-30"}


def by_month(f=None):
    return {m.month: m for m in report.movement(f or report.Filters(), RANGE)}


def test_movement_by_sao_paulo_month(known):
    months = by_month()
    assert list(months) == ["2026-01", "2026-02", "2026-03", "2026-04"]
    jan, feb, mar, apr = months.values()
    assert (jan.n["new"], jan.mrr_end, jan.active_end) == (1, 8000, 1)
    # A started at 23:00 of 28/02 in São Paulo (02:00 UTC of 01/03): February.
    assert (feb.n["new"], feb.cents["new"], feb.active_end, feb.mrr_end) == (2, 15000, 3, 23000)
    assert (mar.n["new"], mar.cents["new"]) == (2, 20000)  # annual and quarterly as R$ 100/month
    assert (mar.n["churn"], mar.cents["churn"], mar.active_start) == (1, 5000, 3)
    # 1 canceled over the 3 it began with + the 2 new ones.
    assert (mar.base, mar.churn_rate) == (5, 0.2)
    assert (mar.mrr_end, mar.active_end) == (38000, 4)
    assert (apr.n["churn"], apr.n["reactivation"], apr.cents["reactivation"]) == (1, 1, 5000)
    assert (apr.active_start, apr.base, apr.churn_rate) == (4, 5, 0.2)  # D came back
    assert (apr.mrr_end, apr.active_end, apr.net_cents) == (33000, 4, -5000)


def test_opening_balance_counts_months_before_the_range(known):
    april = report.movement(
        report.Filters(), DateRange(CUSTOM, date(2026, 4, 1), date(2026, 4, 30))
    )
    assert [(m.month, m.active_start, m.mrr_start, m.mrr_end) for m in april] == [
        ("2026-04", 4, 38000, 33000)
    ]


def test_summary_now(known):
    months = report.movement(report.Filters(), RANGE)
    summary = report.summary(report.Filters(), months)
    assert (summary.active, summary.mrr_cents) == (4, 33000)  # A, C, D, F
    assert (summary.overdue, summary.overdue_mrr_cents) == (1, 8000)  # F
    # Next 30 days, active only: A (in 5 days); C is in 40 days, D's date is past.
    assert [s.subscriber_code for s in summary.next_charges] == ["A"]
    assert summary.next_charges_total == 1
    assert summary.churn_rate == 0.2


def test_filters(known):
    hotmart = report.Filters(platform="hotmart")
    summary = report.summary(hotmart, report.movement(hotmart, RANGE))
    assert (summary.active, summary.mrr_cents, summary.overdue) == (3, 25000, 0)
    annual = report.Filters(plan="Plano Anual")
    assert by_month(annual)["2026-04"].n["churn"] == 1
    assert by_month(annual)["2026-04"].mrr_end == 0
    kiwify = report.Filters(product="K1")
    assert by_month(kiwify)["2026-04"].mrr_end == 8000
    listed = db.session.scalars(report.subscriptions_query(report.Filters(state="canceled"))).all()
    assert [s.subscriber_code for s in listed] == ["B"]
    everyone = db.session.scalars(report.subscriptions_query(report.Filters())).all()
    assert "T" not in {s.subscriber_code for s in everyone}  # tests never listed


def test_settling_twice_counts_nothing_twice(known):
    before = db.session.query(SubscriptionMovement.n, SubscriptionMovement.mrr_cents).all()
    assert subscriptions.settle_pending() == 0
    assert db.session.query(SubscriptionMovement.n, SubscriptionMovement.mrr_cents).all() == before
    assert subscriptions.rebuild() >= 5
    rebuilt = report.summary(report.Filters(), report.movement(report.Filters(), RANGE))
    assert (rebuilt.active, rebuilt.mrr_cents) == (4, 33000)


def test_price_change_is_expansion_or_contraction(known):
    a = known["A"]
    a.price_cents, a.state_at = 15000, utc(2026, 4, 2, 12)
    a.mrr_cents = subscriptions.monthly_cents(a.price_cents, a.frequency)
    db.session.commit()
    subscriptions.settle_pending()
    apr = by_month()["2026-04"]
    assert (apr.n["expansion"], apr.cents["expansion"], apr.mrr_end) == (1, 5000, 38000)


# ---------------------------------------------------------------- HTTP


def test_page_and_api_need_an_operator(client, auth):
    auth.create()  # setup done: anonymous requests are asked to log in
    for path in (
        "/assinaturas",
        "/api/subscriptions",
        "/api/reports/mrr",
        "/assinaturas/exportar.csv",
    ):
        response = client.get(path)
        assert response.status_code in (302, 401), path
    auth.create(email="membro@example.com", role="member", name="Bia")
    assert auth.login(email="membro@example.com").status_code == 302
    for path in ("/assinaturas", "/api/subscriptions", "/api/reports/mrr"):
        assert client.get(path).status_code == 403, path


def test_mrr_api(known, client, auth):
    auth.operator()
    body = client.get("/api/reports/mrr", query_string=MRR_ARGS).get_json()
    assert body["success"] is True
    assert body["summary"]["active"] == 4
    assert body["summary"]["mrr_cents"] == 33000
    assert body["summary"]["overdue"] == 1
    assert [m["month"] for m in body["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    april = body["months"][-1]
    assert (april["churn_count"], april["reactivation_cents"], april["churn_rate"]) == (
        1,
        5000,
        0.2,
    )
    assert april["churn_base"] == 5
    filtered = client.get("/api/reports/mrr", query_string={**MRR_ARGS, "platform": "kiwify"})
    assert filtered.get_json()["summary"]["mrr_cents"] == 8000


def test_subscriptions_api(known, client, auth):
    auth.operator()
    body = client.get("/api/subscriptions").get_json()
    assert body["success"] is True and body["total"] == 5
    assert {item["subscription_code"] for item in body["items"]} == {"A", "B", "C", "D", "F"}
    overdue = client.get("/api/subscriptions", query_string={"status": "overdue"}).get_json()
    assert [(i["subscription_code"], i["mrr_cents"]) for i in overdue["items"]] == [("F", 8000)]
    bad = client.get("/api/subscriptions", query_string={"limit": "abc"})
    assert bad.status_code == 400 and bad.get_json()["success"] is False


def test_page_shows_cards_table_and_chart(known, client, auth):
    auth.operator()
    html = client.get("/assinaturas", query_string=MRR_ARGS).get_data(as_text=True)
    assert "Assinaturas" in html and 'href="/assinaturas"' in html  # navbar entry
    assert "R$\xa0330,00" in html  # MRR card
    assert "data-chart=" in html and "Movimento do MRR" in html
    assert 'data-month="2026-03"' in html and "20,0%" in html
    assert "nunca passa de 100%" in html  # how the rate is worked out, in plain words
    assert "assinante a@example.com".split()[1] in html
    sorted_page = client.get("/assinaturas", query_string={"ordem": "mrr", "dir": "desc"})
    assert sorted_page.status_code == 200
    assert (
        client.get("/assinaturas", query_string={"status": "nada", "platform": "x"}).status_code
        == 200
    )


def test_csv_is_formula_safe(known, client, auth):
    make(
        "X",
        buyer_name='=HYPERLINK("http://evil")',
        product_name="+cmd",
        price_cents=100,
        accession_date=utc(2026, 4, 1, 12),
    )
    db.session.commit()
    auth.operator()
    response = client.get("/assinaturas/exportar.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][:3] == ["plataforma", "email", "nome"]
    x = next(r for r in rows if r[1] == "x@example.com")
    assert x[2].startswith("'=") and x[3].startswith("'+")
    assert len(rows) == 1 + count_rows(Subscription, Subscription.is_test.is_(False))


def test_rebuild_command(known, runner):
    result = runner.invoke(args=["subscriptions", "rebuild"])
    assert result.exit_code == 0 and "assinaturas recontadas: " in result.output
    summary = report.summary(report.Filters(), report.movement(report.Filters(), RANGE))
    assert (summary.active, summary.mrr_cents) == (4, 33000)


def test_the_summary_marker_is_no_product_or_plan_filter():
    from werkzeug.datastructures import MultiDict

    from app.services.subscription_report import Filters

    f = Filters.from_args(MultiDict({"product": "*", "plan": " * "}), ("hotmart",))
    assert (f.product, f.plan) == ("", "")


def _month(month="2026-05", **counts) -> report.Month:
    entry = report.Month(month, active_start=counts.pop("start", 0))
    entry.n.update(counts)
    return entry


def test_churn_rate_never_passes_100_percent():
    # Only subscriptions that started and ended in the month: 100%, not "2 of 0".
    assert _month(new=2, churn=2).churn_rate == 1.0
    assert _month(new=3, churn=1).churn_rate == round(1 / 3, 4)
    # Zero base: nothing to lose, no rate (shown as "—").
    assert _month().churn_rate is None
    assert _month(churn=0).to_dict()["churn_rate"] is None
    # A subscriber lost, back and lost again in one month: 2 of 2, not 2 of 1.
    assert _month(start=1, reactivation=1, churn=2).churn_rate == 1.0
    # A negative opening balance (movements booked out of order) never divides below zero.
    assert _month(start=-1, new=1, churn=1).churn_rate == 1.0


def test_churn_of_a_month_with_only_new_and_canceled(app):
    sub = make("N", price_cents=4000, accession_date=utc(2026, 2, 3, 12))
    db.session.commit()
    subscriptions.settle_pending()
    sub.state, sub.canceled_at = "canceled", utc(2026, 2, 20, 12)
    db.session.commit()
    subscriptions.settle_pending()
    feb = by_month()["2026-02"]
    assert (feb.active_start, feb.n["new"], feb.n["churn"]) == (0, 1, 1)
    assert feb.churn_rate == 1.0
    assert by_month()["2026-03"].churn_rate is None  # nobody left to lose
