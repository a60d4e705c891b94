"""The operator clicks "Testar conexão" and "Sincronizar" on /hotmart, against the emulator."""

import threading

import pytest
from werkzeug.serving import make_server

from emulator import create_app as create_emulator
from tests.conftest import Auth, free_port
from tests.e2e.conftest import login, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def emulator_url():
    port = free_port()
    server = make_server(
        "127.0.0.1", port, create_emulator({"products": 23, "seed": 7}), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def hotmart_app(app_factory, emulator_url):
    with serving(
        app_factory,
        HOTMART_ENV="sandbox",
        HOTMART_CLIENT_ID="emu-client-id",
        HOTMART_CLIENT_SECRET="emu-client-secret",
        HOTMART_API_URL=f"{emulator_url}/hotmart/sandbox",
        HOTMART_AUTH_URL=f"{emulator_url}/hotmart/auth/security/oauth/token",
        RETRY_DELAY=0.01,
    ) as app:
        Auth(app, app.test_client()).create()
        yield app


def test_operator_tests_connection_and_syncs_products(hotmart_app, page):
    base = hotmart_app.live_url
    login(page, base)
    page.goto(base + "/hotmart")
    assert "Sandbox" in page.locator("h1 ~ .badge").first.inner_text()

    page.click("text=Testar conexão")
    result = page.locator("#hotmart-test-result")
    result.locator(".alert").wait_for(timeout=10_000)
    assert "emu-client-secret" not in page.content()
    assert "Conexão com a Hotmart (sandbox) funcionando" in result.inner_text()

    row = page.locator("tr", has_text="Produtos").first
    row.locator("button", has_text="Sincronizar").click()
    done = page.locator("text=concluída").first
    done.wait_for(timeout=20_000)
    # without a reload: the latest-run row and the tab counts follow the finished run
    page.locator("#sync-data .nav-tabs .badge", has_text="23").wait_for(timeout=10_000)
    assert "criados 23" in row.locator("td[id^=last-run]").inner_text()
    assert "nunca sincronizado" not in row.inner_text()
    assert page.console_errors == []
