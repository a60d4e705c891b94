"""Settings: encrypted at rest, database wins over the environment, never echoed back."""

from cryptography.fernet import Fernet
from sqlalchemy import select, text

from app import crypto
from app.extensions import db
from app.models import IntegrationSetting
from app.services import settings
from tests.conftest import TEST_KEY, Auth, csrf_token


def test_encryption_round_trip(app):
    token = crypto.encrypt("segredo")
    assert token != "segredo"
    assert crypto.decrypt(token) == "segredo"


def test_setting_is_encrypted_at_rest_and_wins_over_env(app_factory):
    app = app_factory(KOMMO_JWT_TOKEN="from-env-token", KOMMO_API_URL="https://env.kommo.com")
    with app.app_context():
        assert settings.get("KOMMO_JWT_TOKEN") == "from-env-token"
        assert settings.source("KOMMO_JWT_TOKEN") == "environment"
        settings.set_value("KOMMO_JWT_TOKEN", "from-db-token")
        db.session.commit()
        raw = db.session.execute(text("SELECT value FROM integration_settings")).scalar_one()
        assert "from-db-token" not in raw
        assert settings.get("KOMMO_JWT_TOKEN") == "from-db-token"
        assert settings.source("KOMMO_JWT_TOKEN") == "database"
        settings.clear("KOMMO_JWT_TOKEN")
        db.session.commit()
        assert settings.get("KOMMO_JWT_TOKEN") == "from-env-token"
        assert settings.source("HOTMART_CLIENT_SECRET") == "unset"


def test_settings_page_saves_and_never_echoes_secrets(app, client):
    Auth(app, client).operator()
    token = csrf_token(client, "/configuracoes")
    response = client.post(
        "/configuracoes/gestao_click",
        data={
            "csrf_token": token,
            "GESTAOCLICK_ACCESS_TOKEN": "gc-access-abcdef123456",
            "GESTAOCLICK_SECRET_TOKEN": "gc-secret-zyx987654321",
            "GESTAOCLICK_API_URL": "https://api.gestaoclick.com/api",
        },
    )
    assert response.status_code == 302
    page = client.get("/configuracoes").get_data(as_text=True)
    assert "gc-access-abcdef123456" not in page and "gc-secret-zyx987654321" not in page
    assert "https://api.gestaoclick.com/api" in page  # non-secret values are shown
    assert "salvo no painel" in page
    assert "Limpar (usar o valor padrão)" in page  # no server value behind it
    assert settings.get("GESTAOCLICK_SECRET_TOKEN") == "gc-secret-zyx987654321"
    # A blank secret keeps the stored value.
    client.post(
        "/configuracoes/gestao_click", data={"csrf_token": token, "GESTAOCLICK_ACCESS_TOKEN": ""}
    )
    assert settings.get("GESTAOCLICK_ACCESS_TOKEN") == "gc-access-abcdef123456"


def test_settings_page_rejects_invalid_choice(app, client):
    Auth(app, client).operator()
    token = csrf_token(client, "/configuracoes")
    response = client.post(
        "/configuracoes/hotmart", data={"csrf_token": token, "HOTMART_ENV": "staging"}
    )
    assert response.status_code == 422
    assert settings.source("HOTMART_ENV") != "database"
    assert client.post("/configuracoes/nope", data={"csrf_token": token}).status_code == 404


def test_rotate_key_reencrypts_with_new_primary(app_factory):
    old_app = app_factory()
    with old_app.app_context():
        settings.set_value("KIWIFY_WEBHOOK_SECRET", "kiwify-token-123")
        db.session.commit()
        before = db.session.execute(text("SELECT value FROM integration_settings")).scalar_one()

    new_key = Fernet.generate_key().decode()
    both = app_factory(SETTINGS_ENCRYPTION_KEYS=f"{new_key},{TEST_KEY}")
    result = both.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    assert "1 registro" in result.output

    only_new = app_factory(SETTINGS_ENCRYPTION_KEYS=new_key)
    with only_new.app_context():
        after = db.session.execute(text("SELECT value FROM integration_settings")).scalar_one()
        assert after != before
        row = db.session.scalar(select(IntegrationSetting))
        assert row.value == "kiwify-token-123"  # readable without the old key


def test_choice_settings_show_the_value_in_effect(app_factory):
    """A choice shows what applies now: the built-in default, the server's value, or the one
    saved here (then "Limpar" goes back); never a bare "manter" next to "não definido"."""
    from app.registry import settings_schema
    from app.services import telegram

    fields = {f.key: f for g in settings_schema() for f in g.fields}
    for key, on in telegram.SWITCH_DEFAULTS.items():  # the page's defaults are the app's
        assert fields[key].default == ("true" if on else "false")
    app = app_factory(SMTP_USE_SSL="true")
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/configuracoes").get_data(as_text=True)
        assert "— manter —" not in page
        daily = page.split('id="TELEGRAM_DAILY_SUMMARY"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>Padrão (Não)</option>' in daily
        ssl = page.split('id="SMTP_USE_SSL"', 1)[1].split("</select>", 1)[0]
        assert '<option value="" selected>Valor do servidor (Sim)</option>' in ssl
        client.post(
            "/configuracoes/telegram",
            data={
                "csrf_token": csrf_token(client, "/configuracoes"),
                "TELEGRAM_NOTIFY_SALES": "false",
            },
        )
        assert settings.get("TELEGRAM_NOTIFY_SALES") == "false"
        page = client.get("/configuracoes").get_data(as_text=True)
        sales = page.split('id="TELEGRAM_NOTIFY_SALES"', 1)[1].split("</select>", 1)[0]
        assert '<option value="false" selected>Não</option>' in sales
        assert 'value=""' not in sales  # saved here: "Limpar" goes back to the default
        assert 'name="clear_TELEGRAM_NOTIFY_SALES"' in page
