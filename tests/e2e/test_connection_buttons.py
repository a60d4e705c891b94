"""One "Testar conexão" handler serves every integration page (static/js/app.js)."""

from datetime import UTC, datetime

import pytest

from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import Auth
from tests.e2e.conftest import login, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator(
        contacts=5,
        leads=5,
        gc_sales=5,
        gc_clients=5,
        gc_products=5,
        kommo_rate_limit=0,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def live(app_factory, emu):
    with serving(
        app_factory,
        KOMMO_JWT_TOKEN=emu.config.kommo_token(),
        KOMMO_API_URL=emu.kommo,
        GESTAOCLICK_ACCESS_TOKEN=emu.config.gc_access_token,
        GESTAOCLICK_SECRET_TOKEN=emu.config.gc_secret_token,
        GESTAOCLICK_API_URL=emu.gestaoclick,
        RETRY_DELAY=0.01,
    ) as app:
        Auth(app, app.test_client()).create()
        yield app


def test_kommo_and_gestao_click_buttons_show_the_answer(live, page):
    base = live.live_url
    login(page, base)

    page.goto(base + "/kommo")
    page.click("text=Testar conexão")
    box = page.locator("#kommo-test-result .alert")
    box.wait_for(timeout=10_000)
    assert "Conexão com o Kommo funcionando" in box.inner_text()
    assert box.get_attribute("role") == "status"

    page.goto(base + "/gestao-click")
    before = page.locator("[data-gc-usage]").inner_text()
    page.click("text=Testar conexão")
    box = page.locator("#gc-test-result .alert")
    box.wait_for(timeout=10_000)
    assert "Conexão com o Gestão Click funcionando" in box.inner_text()
    # the test spent requests of today's quota: the counter beside the button moved
    page.wait_for_function(
        "before => document.querySelector('[data-gc-usage]').textContent !== before", arg=before
    )
    assert page.console_errors == []
