"""The overview's and the reports' date range drives their charts; list headers sort."""

import json
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Sale
from app.models.types import utcnow
from tests.conftest import Auth
from tests.e2e.conftest import login, open_menu

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


def _chart(page, name):
    canvas = page.locator(f"#chart-{name}")
    if not canvas.count():
        return None
    return json.loads(canvas.get_attribute("data-chart"))


def _fits(page):
    """No sideways scroll: neither the page nor any table's own scroll area."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth <= window.innerWidth &&
        [...document.querySelectorAll('.table-responsive')].every(
            (box) => box.scrollWidth <= box.clientWidth + 1)"""
    )


@pytest.mark.parametrize("path", ["/", "/relatorios"])
def test_date_range_changes_the_charts(live_app, page, path, tmp_path):
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
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


def _column(page, label):
    return [t.strip() for t in page.locator(f"tbody td[data-label='{label}']").all_inner_texts()]


def test_clicking_headers_sorts_and_keeps_filters(live_app, page, tmp_path):
    _seed(live_app)
    db.session.add(_sale("MEDIA", 5, 17_000, platform="kiwify"))
    db.session.commit()
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    page.goto(base + "/vendas?status=approved")
    valor = page.locator("th[data-sort-key=valor] a")
    valor.click()
    page.wait_for_url("**ordem=valor**")
    assert "status=approved" in page.url  # the filter stays
    header = page.locator("th[data-sort-key=valor]")
    assert header.get_attribute("aria-sort") == "descending" and "▼" in header.inner_text()
    values = _column(page, "Valor")
    assert values == ["R$\xa0250,00", "R$\xa0170,00", "R$\xa0100,00"]
    page.locator("th[data-sort-key=valor] a").click()
    page.wait_for_url("**dir=asc**")
    assert _column(page, "Valor") == list(reversed(values))
    assert page.locator("th[data-sort-key=valor]").get_attribute("aria-sort") == "ascending"
    assert page.locator("th[data-sort-key=data]").get_attribute("aria-sort") == "none"
    # The filter form keeps the sort too.
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**dir=asc**")
    assert _column(page, "Valor") == list(reversed(values))

    from tests.conftest import WebhookSender, load_fixture

    sender = WebhookSender(live_app.test_client())
    sender("hotmart", "purchase_approved")
    sender("kiwify", load_fixture("kiwify", "order_approved"))
    page.goto(base + "/webhooks")
    page.locator("th[data-sort-key=recebido] a").click()  # the default column flips
    page.wait_for_url("**ordem=recebido&dir=asc**")
    assert page.locator("th[data-sort-key=recebido]").get_attribute("aria-sort") == "ascending"

    # On a phone the header is hidden: the filter form's "Ordenar por" does the same.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/vendas")
    page.select_option("#ordem", "valor")
    page.select_option("#dir", "asc")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**ordem=valor**")
    assert _column(page, "Valor")[0] == "R$\xa050,00"
    assert page.console_errors == []


def test_pages_fit_and_the_navbar_is_one_line(live_app, page, tmp_path):
    from tests.conftest import WebhookSender, load_fixture

    _seed(live_app)
    sender = WebhookSender(live_app.test_client())
    sender("hotmart", "purchase_approved")
    body = load_fixture("kirvano", "sale_approved")
    body["customer"]["email"] = "um.nome.bem.comprido.de.comprador@exemplo-de-dominio.com.br"
    sender("kirvano", body)
    sender("hotmart", "purchase_refunded")
    base = live_app.live_url
    login(page, base)
    pages = ["/", "/vendas", "/ativacoes", "/webhooks", "/relatorios", "/configuracoes"]
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            page.goto(base + path)
            name = path.strip("/") or "visao-geral"
            page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
            assert _fits(page), (path, width)
        sale = db.session.query(Sale).filter_by(transaction_id="REEMB").one()
        page.goto(f"{base}/vendas/{sale.id}")
        assert _fits(page), ("detail", width)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base + "/vendas")
    nav = page.locator("nav.navbar").bounding_box()
    assert nav["height"] < 70  # one line: brand, links and "Sair" side by side
    page.click("#nav-integrations")
    menu = page.locator("#nav-integrations + .dropdown-menu")
    assert menu.is_visible() and "Kommo" in menu.inner_text()
    menu.locator("text=Hotmart").click()
    page.wait_for_url("**/hotmart")
    assert "active" in page.locator("#nav-integrations").get_attribute("class")
    # Phone: the menu opens from the toggler and reaches the integrations.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    open_menu(page)
    page.click("#nav-integrations")
    page.locator("#nav-integrations + .dropdown-menu >> text=Gestão Click").click()
    page.wait_for_url("**/gestao-click")
    assert _fits(page)
    assert page.console_errors == []
