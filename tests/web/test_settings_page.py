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
