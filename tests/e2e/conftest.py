"""Browser tests: a live server of the app and Debian's chromium driven by Playwright."""

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import make_server

from tests.conftest import WEBHOOK_SECRETS, Auth, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serving(app_factory, **config):
    """An app built with ``config`` served on a free port (``app.live_url``), inside its
    app context for the test's own database access."""
    port = free_port()
    app = app_factory(APP_URL=f"http://127.0.0.1:{port}", **config)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.live_url = f"http://127.0.0.1:{port}"
    try:
        with app.app_context():
            yield app
    finally:
        server.shutdown()
        thread.join(5)


OPERATOR_EMAIL = "operador@example.com"  # the operator ``Auth.create()`` makes


def login(page, base_url: str, email: str = OPERATOR_EMAIL, password: str = Auth.PASSWORD):
    """Sign in through /login as a person does (e-mail, password, "Entrar") and wait until the
    panel has taken them off the login page (the overview, or /conta for a member)."""
    page.goto(base_url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def setup_operator(page, base_url: str, *, visit: bool = True):
    """Create the first operator on /setup as a person does, and wait for the overview.
    ``visit=False`` when the page is already on /setup (a redirect the test checks)."""
    if visit:
        page.goto(base_url + "/setup")
    page.fill("#name", "Ana Operadora")
    page.fill("#email", "ana@example.com")
    page.fill("#password", "senha-forte-123")
    page.fill("#password_confirm", "senha-forte-123")
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")


def open_menu(page):
    """Open the collapsed navbar (below 1200 px) and wait until it is shown. Bootstrap ignores a
    toggle while the menu is still moving, so a click that did not open it is repeated."""
    for _ in range(3):
        page.click(".navbar-toggler")
        try:
            page.wait_for_selector(".navbar-collapse.show", state="visible", timeout=2000)
            return
        except PlaywrightTimeout:
            continue
    page.wait_for_selector(".navbar-collapse.show", state="visible", timeout=2000)


@pytest.fixture
def shots(tmp_path):
    """Where a test's screenshots go: ``E2E_SCREENSHOTS`` (kept for a person to look at),
    else the test's own temporary directory."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if not folder:
        return tmp_path
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def live_app(app_factory, smtp_server):
    with serving(
        app_factory,
        **WEBHOOK_SECRETS,
        **smtp_server.config(),
    ) as app:
        yield app


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium not installed at {CHROMIUM} (run: make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="pt-BR")
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.console_errors = errors
        yield page
        context.close()
        browser.close()
