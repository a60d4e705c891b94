"""/relatorios' cross reports in a browser at a laptop (1366 px) and a phone (390 px) width:
every report with its chart, table and CSV link, nothing wider than the screen."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import KommoContact, KommoLead, Sale
from app.models.types import utcnow
from app.services.cross_reports import REPORTS
from tests.conftest import Auth
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser


def _seed():
    when = utcnow() - timedelta(days=1)
    for i, (platform, status, utm) in enumerate(
        [
            ("hotmart", "approved", "google"),
            ("hotmart", "refunded", "google"),
            ("kiwify", "approved", "instagram-campanha-de-black-friday-com-nome-comprido"),
            ("kiwify", "chargeback", None),
        ]
    ):
        db.session.add(
            Sale(
                platform=platform,
                transaction_id=f"T{i}",
                status=status,
                buyer_email=f"comprador.com.um.endereco.bem.longo{i}@example.com",
                buyer_name=f"Comprador {i}",
                product_name="Curso completo de marketing digital para iniciantes",
                amount_cents=19700 * (i + 1),
                currency="BRL",
                payment_method="pix",
                utm_source=utm,
                utm_campaign="bf" if utm else None,
                approved_at=when,
                status_at=when,
            )
        )
    db.session.add(
        KommoContact(
            remote_id=1, name="Ana", email="comprador.com.um.endereco.bem.longo0@example.com"
        )
    )
    db.session.add(KommoContact(remote_id=2, name="Zé sem compra", email="ze@example.com"))
    for rid, contact in ((10, 1), (11, 2)):
        db.session.add(
            KommoLead(
                remote_id=rid,
                name=f"Negócio {rid}",
                contact_id=contact,
                is_won=True,
                closed_at=when,
                responsible_user_id=7,
                price=300,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("width,height", [(1366, 900), (390, 844)])
def test_cross_reports_fit_the_screen(live_app, page, width, height, shots):
    _seed()
    Auth(live_app, live_app.test_client()).create()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": height})
    login(page, base)
    page.goto(base + "/relatorios")
    for slug, report in REPORTS.items():
        section = page.locator(f"[data-cross-report={slug}]")
        assert section.is_visible()
        assert report.title in section.inner_text()
        assert section.locator("a", has_text="Baixar CSV").count() == 1
        assert section.locator(f"#chart-cruzado-{slug}").count() == 1
        assert section.locator("table[data-cross-table] tbody tr").count() >= 1
    # Chart.js drew every canvas (it sizes them), and nothing overflows the viewport.
    assert page.evaluate(
        "[...document.querySelectorAll('[data-cross-report] canvas')].every(c => c.width > 0)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#relatorios-cruzados").scroll_into_view_if_needed()
    page.screenshot(path=shots / f"cross-reports-{width}.png", full_page=True)
    for slug in ("ganho-sem-venda", "reembolsos"):
        page.locator(f"[data-cross-report={slug}]").screenshot(
            path=shots / f"cross-{slug}-{width}.png"
        )
    with page.expect_download() as download:
        page.locator("[data-cross-report=por-origem] a", has_text="Baixar CSV").click()
    assert download.value.suggested_filename.startswith("por-origem-")
    page.goto(base + "/relatorios/cruzados/ganho-sem-venda")
    assert "Zé sem compra" in page.inner_text("table")
    assert "Ana" not in page.inner_text("table")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=shots / f"cross-report-page-{width}.png", full_page=True)
    assert page.console_errors == []
