"""/assinaturas in a browser: reached from the navbar, cards, the MRR charts drawn, filters and
a header sort, readable at 1366 and 390 px with no sideways scroll."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.models.types import utcnow
from app.services import subscriptions
from tests.conftest import Auth
from tests.e2e.conftest import login
from tests.e2e.test_charts_and_sorting import _fits
from tests.subscriptions.conftest import make

pytestmark = pytest.mark.browser


def _seed(app):
    now = utcnow()
    make(
        "MENSAL1",
        price_cents=9700,
        accession_date=now - timedelta(days=95),
        date_next_charge=now + timedelta(days=3),
        buyer_name="Maria Souza",
    )
    make(
        "ANUAL1",
        plan_name="Plano Anual",
        frequency="annual",
        price_cents=118800,
        accession_date=now - timedelta(days=40),
        date_next_charge=now + timedelta(days=325),
    )
    make(
        "ATRASO",
        platform="kiwify",
        product_id="K1",
        product_name="Mentoria de Vendas Online",
        price_cents=4990,
        state="overdue",
        accession_date=now - timedelta(days=70),
        buyer_name="Carla Dias com um nome bem comprido para caber no celular",
    )
    make(
        "CANCEL",
        price_cents=9700,
        state="canceled",
        accession_date=now - timedelta(days=200),
        canceled_at=now - timedelta(days=20),
    )
    db.session.commit()
    subscriptions.settle_pending()
    Auth(app, app.test_client()).create()


@pytest.mark.parametrize("width", [1366, 390])
def test_subscriptions_page(live_app, page, width, shots):
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    page.click("nav >> text=Assinaturas")
    page.wait_for_url(base + "/assinaturas")
    page.set_viewport_size({"width": width, "height": 900})
    cards = page.locator("[data-subscription-cards]")
    assert "Assinantes ativos" in cards.inner_text()
    assert "R$ 245,90" in cards.inner_text().replace("\xa0", " ")  # 97 + 1188/12 + 49,90
    page.wait_for_function("() => !!window.Chart && Chart.getChart('chart-mrr-movimento')")
    assert page.locator("#chart-mrr").count() == 1
    assert page.locator("[data-next-charges] li").count() == 1  # the monthly plan, in 3 days
    assert page.locator("[data-subscriptions-table] tbody tr").count() == 4
    note = page.locator("[data-churn-note]")  # how the churn rate is worked out
    assert note.is_visible() and "nunca passa de 100%" in note.inner_text()
    page.screenshot(path=shots / f"assinaturas-{width}.png", full_page=True)
    page.screenshot(path=shots / f"assinaturas-{width}-top.png")
    assert _fits(page)

    page.select_option("#filtro-status", "overdue")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**status=overdue**")
    rows = page.locator("[data-subscriptions-table] tbody tr")
    assert rows.count() == 1 and "Em atraso" in rows.first.inner_text()
    if width == 1366:
        page.goto(base + "/assinaturas")
        page.click("[data-sort-key=mrr] a")
        page.wait_for_url("**ordem=mrr**")
        first = page.locator("[data-subscriptions-table] tbody tr").first.inner_text()
        assert "Plano Anual" in first  # R$ 1.188/12 = R$ 99 a month, the highest
    assert not page.console_errors


@pytest.mark.parametrize("width", [1366, 390])
def test_a_plan_switch_on_the_plan_filter(live_app, page, width, shots):
    """Maria moves from the monthly to the annual plan: the annual plan's cards count her,
    its month table shows the switch, and the page still fits a phone."""
    from app.models import Subscription

    _seed(live_app)
    maria = db.session.query(Subscription).filter_by(subscriber_code="MENSAL1").one()
    maria.plan_name, maria.frequency, maria.price_cents = "Plano Anual", "annual", 118800
    maria.mrr_cents, maria.state_at = 9900, utcnow()
    db.session.commit()
    subscriptions.settle_pending()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base)
    page.goto(base + "/assinaturas")
    page.select_option("#filtro-plan", "Plano Anual")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**plan=Plano+Anual**")
    cards = page.locator("[data-subscription-cards]").inner_text().replace("\xa0", " ")
    assert "R$ 198,00" in cards  # both on R$ 1.188 a year
    assert page.locator("[data-subscriptions-table] tbody tr").count() == 2
    switches = page.locator("[data-months-table] [data-switches]")
    if width == 1366:  # a phone leaves the column out, as "Reativadas" (the chart says it)
        assert switches.all_inner_texts()[0] == "+1 / −0"  # this month, the newest row
    else:
        assert not switches.first.is_visible()
    assert "Troca de plano" in page.locator("[data-churn-note]").inner_text()
    page.screenshot(path=shots / f"assinaturas-troca-{width}.png", full_page=True)
    assert _fits(page)
    assert not page.console_errors
