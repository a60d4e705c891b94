"""The overview's and the reports' date range drives their charts; list headers sort."""

import json
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Sale
from app.models.types import utcnow
from tests.conftest import Auth

pytestmark = pytest.mark.browser


def _sale(tx, days_ago, cents, platform="hotmart", status="approved", method="pix", **extra):
    when = utcnow() - timedelta(days=days_ago, hours=1)
    return Sale(
        platform=platform,
        transaction_id=tx,
        status=status,
        buyer_email=f"{tx.lower()}@example.com",
        buyer_name=f"Comprador {tx}",
        product_name=f"Produto {tx}",
        amount_cents=cents,
        currency="BRL",
        payment_method=method,
        approved_at=when,
        status_at=when,
        created_at=when,
        **extra,
    )


def _seed(app):
    db.session.add_all(
        [
            _sale("RECENTE", 2, 10_000),
            _sale("ANTIGA", 60, 25_000, platform="kiwify", method="credit_card"),
            _sale("REEMB", 50, 5_000, status="refunded"),
        ]
    )
    db.session.commit()
    Auth(app, app.test_client()).create()


def _login(page, base):
    page.goto(base + "/login")
    page.fill("#email", "operador@example.com")
    page.fill("#password", Auth.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def _chart(page, name):
    canvas = page.locator(f"#chart-{name}")
    if not canvas.count():
        return None
    return json.loads(canvas.get_attribute("data-chart"))


def _fits(page):
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("path", ["/", "/relatorios"])
def test_date_range_changes_the_charts(live_app, page, path, tmp_path):
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, base)
    page.goto(base + path)
    page.click("[data-date-range] >> text=7 dias")
    page.wait_for_url("**periodo=7")
    revenue = _chart(page, "receita")
    assert [d["label"] for d in revenue["datasets"]] == ["Hotmart"]
    assert sum(revenue["datasets"][0]["data"]) == 100.0
    assert len(revenue["labels"]) == 7
    # No refund in the last 7 days: the plain-language empty state instead of a chart.
    assert "Nenhum reembolso" in page.locator("[data-chart-card=reembolsos]").inner_text()
    assert page.locator("[data-date-range] a[aria-current]").inner_text() == "7 dias"

    page.click("[data-date-range] >> text=90 dias")
    page.wait_for_url("**periodo=90")
    revenue = _chart(page, "receita")
    assert sorted(d["label"] for d in revenue["datasets"]) == ["Hotmart", "Kiwify"]
    assert sum(sum(d["data"]) for d in revenue["datasets"]) == 350.0
    assert revenue["labels"][0].startswith("sem. ")  # 90 days: weekly bars
    refunds = _chart(page, "reembolsos")
    assert sum(refunds["datasets"][0]["data"]) == 1
    payments = _chart(page, "pagamentos")
    assert set(payments["labels"]) == {"PIX", "Cartão de crédito"}
    # Every chart has its table.
    page.click("[data-chart-card=receita] summary")
    table = page.locator("[data-chart-card=receita] table").inner_text().replace("\xa0", " ")
    assert "R$ 250,00" in table and "R$ 100,00" in table

    # A custom range: only the older sales.
    page.fill("#periodo-de", (utcnow() - timedelta(days=70)).date().isoformat())
    page.fill("#periodo-ate", (utcnow() - timedelta(days=40)).date().isoformat())
    page.click("[data-date-range] button[type=submit]")
    page.wait_for_url("**periodo=personalizado**")
    revenue = _chart(page, "receita")
    assert [d["label"] for d in revenue["datasets"]] == ["Kiwify"]
    assert "a" in page.locator("[data-period-label]").inner_text()

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(base + path + "?periodo=12m")
        assert _chart(page, "receita")["labels"][-1].count("/") == 1  # monthly, with the year
        page.screenshot(path=str(tmp_path / f"charts-{width}.png"), full_page=True)
        assert _fits(page), width
        box = page.locator("#chart-receita").bounding_box()
        assert box and box["width"] <= width
    assert page.console_errors == []
