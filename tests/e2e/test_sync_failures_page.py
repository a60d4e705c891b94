"""/hotmart with a sync run that had failed records, at 1366 and 390 px (issue 17): the page
fits, "Reprocessar falhas" and "Sincronização completa" are there, the full sync asks first,
and the run's page lists the failed records with their reasons."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SyncFailure, SyncRun
from app.models.types import utcnow
from app.services import sync
from tests.e2e.conftest import login
from tests.e2e.test_hotmart_page import emulator_url, hotmart_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _failed_run() -> SyncRun:
    now = utcnow()
    run = SyncRun(
        source="hotmart",
        resource="sales",
        status="succeeded",
        trigger="scheduled",
        started_at=now - timedelta(minutes=3),
        finished_at=now - timedelta(minutes=1),
        progress_done=340,
        progress_total=340,
        created_count=300,
        updated_count=20,
        unchanged_count=17,
        failed_count=3,
    )
    db.session.add(run)
    db.session.flush()
    for i in range(3):
        db.session.add(
            SyncFailure(
                run_id=run.id,
                resource="sales",
                remote_id=f"HP1234567890{i:03d}",
                error="Não foi possível salvar: um valor veio em formato ou tamanho que o "
                "banco de dados não aceita (detalhe técnico: DataError: value too long).",
            )
        )
    db.session.commit()
    return run


@pytest.mark.parametrize("width", [1366, 390])
def test_integration_page_with_a_failed_run(hotmart_app, page, width, tmp_path):  # noqa: F811
    run = _failed_run()
    base = hotmart_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    login(page, base)
    page.goto(base + "/hotmart")
    page.screenshot(path=str(tmp_path / f"hotmart-{width}.png"), full_page=True)
    assert page.evaluate(FITS), f"/hotmart overflows at {width} px"

    sales = page.locator("tr", has_text="Vendas").first
    reprocess = sales.locator("button[data-reprocess-button]")
    assert reprocess.is_visible() and reprocess.inner_text() == "Reprocessar falhas"
    box = reprocess.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert "falha" in sales.locator("td[id^=last-run]").inner_text()

    # "Sincronização completa" asks first; saying no starts nothing
    products = page.locator("tr", has_text="Produtos").first
    full = products.locator("button[data-sync-full]")
    assert full.inner_text() == "Sincronização completa"
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    full.click()
    page.wait_for_timeout(300)
    assert questions and "pode demorar" in questions[0]
    assert db.session.scalar(select(SyncRun).where(SyncRun.resource == "products")) is None
    page.once("dialog", lambda d: d.accept())
    full.click()
    products.locator(".sync-progress", has_text="concluída").wait_for(timeout=20_000)
    db.session.rollback()
    started = db.session.scalar(select(SyncRun).where(SyncRun.resource == "products"))
    assert started.full is True and started.status == "succeeded"

    sales.locator("a[data-run-detail-link]").click()
    page.wait_for_url(f"**/sincronizacoes/{run.id}")
    page.screenshot(path=str(tmp_path / f"run-{width}.png"), full_page=True)
    assert page.evaluate(FITS), f"the run's page overflows at {width} px"
    table = page.locator("table[data-run-failures]")
    assert table.locator("tbody tr").count() == 3
    text = table.inner_text()
    assert "HP1234567890000" in text and "formato ou tamanho" in text
    assert page.locator("[data-run-summary]").is_visible()
    assert page.locator("button[data-reprocess-button]").is_visible()
    assert page.console_errors == []
    assert sync.wait_idle(30)


# Every element of the page that reloads itself when a sync finishes has settled again.
REFRESH_ALL = """() => new Promise(resolve => {
  const pending = new Set([...document.querySelectorAll('[hx-trigger*="vh-sync-finished"]')]
    .map(el => el.id));
  document.body.addEventListener('htmx:afterSettle', event => {
    pending.delete(event.target.id);
    if (pending.size === 0) { resolve(true); }
  });
  document.body.dispatchEvent(new CustomEvent('vh-sync-finished'));
})"""


def test_refresh_after_a_sync_sets_no_inline_style(hotmart_app, page, tmp_path):  # noqa: F811
    """The CSP error of 2026-12-02: Playwright's screenshot (hiding the caret) leaves an empty
    style="" on the inputs; when #sync-data reloaded itself, htmx carried the old #hm-q's
    `style` over to the new #hm-q (its default attributesToSettle), a setAttribute("style")
    the CSP blocks. templates/base.html leaves `style` out of what htmx carries over."""
    base = hotmart_app.live_url
    login(page, base)
    page.goto(base + "/hotmart")
    config = page.evaluate("() => window.htmx.config.attributesToSettle")
    assert "style" not in config
    page.screenshot(path=str(tmp_path / "hotmart.png"))
    # the precondition: the element that replaces #hm-q has an old one with a style attribute
    assert page.locator("#hm-q").get_attribute("style") is not None
    assert page.evaluate(REFRESH_ALL)
    assert page.locator("#hm-q").get_attribute("style") is None
    assert page.console_errors == []
