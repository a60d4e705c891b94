"""/webhooks tells where the platforms must send: the address in use (and the configured one
when they differ), with a warning when the platforms cannot reach it (no public HTTPS)."""

import pytest

from app.inbox.routes import webhook_address


@pytest.mark.parametrize(
    ("app_url", "used", "base", "configured", "public"),
    [
        (
            "https://painel.loja.com.br",
            "https://painel.loja.com.br/",
            "https://painel.loja.com.br",
            None,
            True,
        ),
        (
            "https://painel.loja.com.br",
            "http://127.0.0.1:5000/",
            "http://127.0.0.1:5000",
            "https://painel.loja.com.br",
            False,
        ),
        ("http://localhost:5000", "http://localhost:5000/", "http://localhost:5000", None, False),
        ("https://10.0.0.5", "https://10.0.0.5/", "https://10.0.0.5", None, False),
        ("https://painel.local", "https://painel.local/", "https://painel.local", None, False),
        (
            "http://painel.loja.com.br",
            "http://painel.loja.com.br/",
            "http://painel.loja.com.br",
            None,
            False,
        ),
    ],
)
def test_webhook_address(app_url, used, base, configured, public):
    assert webhook_address(app_url, used) == {
        "base": base,
        "configured": configured,
        "public_https": public,
    }


def test_the_page_shows_the_address_in_use_and_warns_it_is_local(app_factory):
    from tests.conftest import Auth

    app = app_factory(APP_URL="http://127.0.0.1:5000")
    client = app.test_client()  # opens the panel as http://localhost
    with app.app_context():
        Auth(app, client).operator()
    html = client.get("/webhooks").get_data(as_text=True)
    assert "http://localhost/webhook/hotmart" in html
    assert "data-webhook-address-warning" in html and "público com HTTPS" in html
    assert "http://127.0.0.1:5000</code>" in html  # the configured address, for reference
