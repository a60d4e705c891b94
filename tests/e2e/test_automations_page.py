"""The operator turns the sale → Kommo (or Gestão Click) automation on, sends a test sale and
sees it delivered, with the link to the lead (or venda)."""

import pytest

from tests.clients.conftest import start_emulator  # noqa: F401
from tests.conftest import WEBHOOK_SECRETS
from tests.e2e.conftest import serving, setup_operator

pytestmark = pytest.mark.browser

NO_HORIZONTAL_SCROLL = (
    "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


def test_turn_on_send_a_test_sale_and_see_the_kommo_lead(app_factory, start_emulator, page):  # noqa: F811
    emu = start_emulator(contacts=10, leads=10, kommo_rate_limit=0)
    config = {
        **WEBHOOK_SECRETS,
        "KOMMO_JWT_TOKEN": emu.config.kommo_token(),
        "KOMMO_API_URL": emu.kommo,
        "KOMMO_THROTTLE_PER_SECOND": 0,
        "RETRY_DELAY": 0.01,
    }
    with serving(app_factory, **config) as app:
        url = app.live_url
        setup_operator(page, url)

        page.click("nav >> text=Automações")
        page.wait_for_url(url + "/automacoes")
        assert "Nenhum envio" in page.locator("main").inner_text()
        page.check("#enabled")
        page.select_option("#KOMMO_SALE_STATUS_ID", "142")
        page.click("#kommo button[type=submit]")
        page.wait_for_url(url + "/automacoes")
        assert "envio de vendas ao Kommo ligado" in page.locator(".alert").first.inner_text()
        assert page.is_checked("#enabled")

        # A test sale through the panel's "Enviar teste" (the real receiver).
        page.click("nav >> text=Webhooks")
        page.wait_for_url(url + "/webhooks")
        hotmart = page.locator(".card", has=page.locator("input[value=hotmart]")).first
        hotmart.locator("select[name=event]").select_option("approved")
        hotmart.locator("input[name=email]").fill("compradora.teste@example.com")
        hotmart.locator("button[type=submit]").click()
        page.wait_for_url(f"{url}/webhooks/*")

        page.click("nav >> text=Automações")
        page.wait_for_url(url + "/automacoes")
        row = page.locator("tbody tr").first
        assert "Enviado" in row.locator("td[data-label=Status]").inner_text()
        link = row.locator("td[data-label='No Kommo'] a")
        href = link.get_attribute("href")
        assert href.startswith(f"{emu.kommo}/leads/detail/")
        lead_id = int(href.rsplit("/", 1)[1])
        written = emu.app.extensions["kommo_store"].leads[lead_id]
        assert written["status_id"] == 142
        assert {t["name"] for t in written["_tags"]} >= {"Hotmart", "Teste"}

        # Stacked cards on a phone.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        assert page.console_errors == []


def test_turn_on_gestao_click_send_a_test_sale_and_open_the_venda(
    app_factory,
    start_emulator,  # noqa: F811
    page,
):
    emu = start_emulator(gc_sales=5, gc_clients=5, gc_products=10, gc_rate_limit=0)
    config = {
        **WEBHOOK_SECRETS,
        "GESTAOCLICK_ACCESS_TOKEN": emu.config.gc_access_token,
        "GESTAOCLICK_SECRET_TOKEN": emu.config.gc_secret_token,
        "GESTAOCLICK_API_URL": emu.gestaoclick,
        "GESTAOCLICK_THROTTLE_PER_SECOND": 0,
        "RETRY_DELAY": 0.01,
    }
    with serving(app_factory, **config) as app:
        url = app.live_url
        setup_operator(page, url)

        page.click("nav >> text=Automações")
        page.wait_for_url(url + "/automacoes")
        card = page.locator("#gestao-click")
        assert not page.is_checked("#gc_enabled")
        page.check("#gc_enabled")
        # the pickers read the account's situações and lojas
        page.select_option("#GESTAOCLICK_SALE_SITUACAO_ID", "3154")
        page.select_option("#GESTAOCLICK_LOJA_ID", "280")
        card.locator("button[type=submit]").click()
        page.wait_for_url(url + "/automacoes#gestao-click")
        alert = page.locator(".alert").first.inner_text()
        assert "envio de vendas ao Gestão Click ligado" in alert
        assert page.is_checked("#gc_enabled")

        # A test sale through the panel's "Enviar teste" (the real receiver).
        page.click("nav >> text=Webhooks")
        page.wait_for_url(url + "/webhooks")
        hotmart = page.locator(".card", has=page.locator("input[value=hotmart]")).first
        hotmart.locator("select[name=event]").select_option("approved")
        hotmart.locator("input[name=email]").fill("compradora.gc@example.com")
        hotmart.locator("button[type=submit]").click()
        page.wait_for_url(f"{url}/webhooks/*")

        page.click("nav >> text=Automações")
        page.wait_for_url(url + "/automacoes")
        row = page.locator("tbody tr").first
        assert "Enviado" in row.locator("td[data-label=Status]").inner_text()
        assert "Gestão Click" in row.locator("td[data-label=Etapa]").inner_text()
        cell = row.locator("td[data-label='No Gestão Click']")
        link = cell.locator("a")
        href = link.get_attribute("href")
        base = emu.gestaoclick[: -len("/api")]
        assert href.startswith(f"{base}/vendas_servicos/visualizar/")
        venda_id = href.rsplit("/", 1)[1]
        assert f"Venda #{venda_id}" in link.inner_text() and "Cliente #" in cell.inner_text()
        written = emu.app.extensions["emulator_gestaoclick_writes"].vendas
        [venda] = [v for v in written if v["id"] == venda_id]
        assert (venda["situacao_id"], venda["loja_id"]) == ("3154", "280")

        # The link opens the venda in the (emulated) panel, in a new tab.
        with page.context.expect_page() as opened:
            link.click()
        panel = opened.value
        panel.wait_for_load_state()
        assert panel.url == href
        assert f"Venda nº {venda['codigo']}" in panel.locator("#venda").inner_text()
        assert "Concretizada" in panel.locator("#situacao").inner_text()
        panel.close()

        # "Enviar vendas anteriores": the dry run first (the test sale is left out).
        page.set_viewport_size({"width": 1366, "height": 900})
        page.select_option("#backfill-periodo", "tudo")
        assert page.is_checked("#backfill-gestao-click")
        page.click("#vendas-anteriores button[type=submit]")
        page.wait_for_url(f"{url}/automacoes/vendas-anteriores?*")
        plan = page.locator("#backfill-plan").inner_text()
        assert "Nenhuma venda a enviar ao Gestão Click." in plan
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.click("text=Voltar para Automações")
        page.wait_for_url(url + "/automacoes#vendas-anteriores")
        assert page.evaluate(NO_HORIZONTAL_SCROLL)

        # Stacked cards on a phone.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate(NO_HORIZONTAL_SCROLL)
        assert page.console_errors == []
