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


def test_settings_show_the_same_address_and_warning_as_webhooks(app_factory):
    from tests.conftest import Auth

    app = app_factory(APP_URL="https://painel.loja.com.br", TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    # The session cookie is Secure and a CSRF check over HTTPS wants a same-site Referer.
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/"})
    with app.app_context():
        Auth(app, client).operator()
    # Opened on this computer, not at the public address: both pages say so, the same way.
    for path in ("/webhooks", "/configuracoes"):
        html = client.get(path).get_data(as_text=True)
        assert "https://localhost/webhook/kiwify</code>" in html, path
        assert "data-webhook-address-warning" in html, path
        assert "https://painel.loja.com.br</code>" in html, path  # the configured one
        assert "https://painel.loja.com.br/webhook/kiwify" not in html, path
    # At the public HTTPS address (behind the proxy): no warning, no second address.
    public = {"X-Forwarded-Host": "painel.loja.com.br", "X-Forwarded-Proto": "https"}
    for path in ("/webhooks", "/configuracoes"):
        html = client.get(path, headers=public).get_data(as_text=True)
        assert "https://painel.loja.com.br/webhook/kiwify</code>" in html, path
        assert "data-webhook-address-warning" not in html, path
        assert "data-webhook-address-configured" not in html, path
