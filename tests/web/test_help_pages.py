"""The in-app set-up guides (/ajuda/<guia>): each renders in plain Portuguese with this
install's real addresses, and /webhooks, /configuracoes and the integration pages link them."""

import pytest

from app.inbox.guides import GUIDES, slug_of
from app.registry import settings_schema
from tests.plain_text import english, visible


def test_every_platform_has_a_guide():
    """One guide per settings group the registry declares (webhook sources, API integrations,
    e-mail, Telegram), and no guide of a platform it does not know."""
    assert set(GUIDES) == {slug_of(group.platform) for group in settings_schema()}


@pytest.mark.parametrize("slug", sorted(GUIDES))
def test_each_guide_renders_in_portuguese(app_factory, slug):
    from tests.conftest import Auth

    app = app_factory(TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    Auth(app, client).operator()
    # The operator opens the panel at its public address, behind the HTTPS proxy.
    public = {"X-Forwarded-Host": "painel.minhaloja.com.br", "X-Forwarded-Proto": "https"}
    response = client.get(f"/ajuda/{slug}", headers=public)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = visible(html).main_text
    assert "Passo a passo" in text and f"Como configurar: {GUIDES[slug].title}" in html
    assert english(text) == []
    assert f'href="/configuracoes#{GUIDES[slug].settings}"' in html
    if GUIDES[slug].webhook_path:
        # The address the operator is using, the same one /webhooks shows.
        assert f"https://painel.minhaloja.com.br{GUIDES[slug].webhook_path}</code>" in html
        assert "data-help-https-warning" not in html


def test_guides_say_when_a_menu_name_is_unverified(app, auth, client):
    auth.operator()
    for slug in ("hotmart", "kiwify", "eduzz", "kommo", "gestao-click"):
        assert "o nome do menu pode variar" in client.get(f"/ajuda/{slug}").get_data(as_text=True)


def test_a_local_address_gets_the_https_warning(app, auth, client):
    auth.operator()
    html = client.get("/ajuda/kiwify").get_data(as_text=True)
    assert "http://localhost/webhook/kiwify</code>" in html
    assert "data-help-https-warning" in html
    kommo = client.get("/ajuda/kommo").get_data(as_text=True)
    assert "http://localhost/webhook/kommo/&lt;token&gt;" in kommo


def test_guides_need_login_and_unknown_is_404(app, auth, client):
    assert client.get("/ajuda/hotmart").status_code in (302, 401, 403)
    auth.operator()
    assert client.get("/ajuda/nada").status_code == 404
    index = client.get("/ajuda").get_data(as_text=True)
    for slug in GUIDES:
        assert f'href="/ajuda/{slug}"' in index


def test_webhooks_settings_and_integration_pages_link_each_guide(app, auth, client):
    auth.operator()
    webhooks = client.get("/webhooks").get_data(as_text=True)
    for slug in GUIDES:
        assert f'href="/ajuda/{slug}"' in webhooks, slug
    settings = client.get("/configuracoes").get_data(as_text=True)
    for slug in GUIDES:
        assert f'href="/ajuda/{slug}"' in settings, slug
    for path, slug in (
        ("/hotmart", "hotmart"),
        ("/kommo", "kommo"),
        ("/gestao-click", "gestao-click"),
        ("/telegram", "telegram"),
    ):
        assert f'href="/ajuda/{slug}"' in client.get(path).get_data(as_text=True), path


def test_a_platform_without_a_guide_gets_no_link(app, auth, client, monkeypatch):
    """A platform registered before its guide is written keeps its card and its settings, but
    no "Como configurar" link (it would lead to a 404)."""
    from app.inbox import guides

    monkeypatch.setattr(guides, "GUIDES", {k: g for k, g in GUIDES.items() if k != "eduzz"})
    auth.operator()
    webhooks = client.get("/webhooks").get_data(as_text=True)
    assert "/webhook/eduzz" in webhooks
    assert 'href="/ajuda/eduzz"' not in webhooks and 'href="/ajuda/kiwify"' in webhooks
    settings = client.get("/configuracoes").get_data(as_text=True)
    assert 'id="eduzz"' in settings and 'href="/ajuda/eduzz"' not in settings
    assert client.get("/ajuda/eduzz").status_code == 404
