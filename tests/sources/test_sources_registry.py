"""The integration registry: every list of platforms is derived from it."""

from app import registry
from app.sources import PLATFORMS, SOURCES
from app.sources.registry import REDACTED, body_secret_paths, redact_body, secret_key
from config import INTEGRATION_VARS


def test_platforms_follow_the_registry_line():
    assert PLATFORMS == ("hotmart", "kiwify", "kirvano", "eduzz")
    assert tuple(SOURCES) == PLATFORMS


def test_settings_schema_has_one_group_per_platform_with_secrets_marked():
    groups = {group.platform: group for group in registry.settings_schema()}
    assert list(groups) == [*PLATFORMS, "kommo", "gestao_click", "email", "telegram"]
    assert [f.key for f in groups["email"].fields if f.secret] == ["SMTP_PASSWORD"]
    for name, source in SOURCES.items():
        keys = {field.key: field for field in groups[name].fields}
        assert all(keys[field.key].secret for field in source.secrets)
    hotmart = [field.key for field in groups["hotmart"].fields]
    assert hotmart[0] == "HOTMART_CLIENT_ID" and hotmart[-1] == "HOTMART_WEBHOOK_HOTTOK"


def test_config_reads_every_declared_variable():
    for source in SOURCES.values():
        assert source.secret_key in INTEGRATION_VARS
    assert "EDUZZ_WEBHOOK_SECRET" in INTEGRATION_VARS and "KOMMO_JWT_TOKEN" in INTEGRATION_VARS
    assert "SMTP_HOST" in INTEGRATION_VARS and "SMTP_PASSWORD" in INTEGRATION_VARS
    # never credentials: a choice, a number, a host name, a sender address (SMTP_USER and
    # SMTP_PASSWORD stay masked)
    assert registry.loggable_vars() == {
        "HOTMART_ENV",
        "KOMMO_TIMEOUT",
        "KOMMO_PUSH_SALES",
        "KOMMO_SALE_PIPELINE_ID",
        "KOMMO_SALE_STATUS_ID",
        "KOMMO_LOST_STATUS_ID",
        "KOMMO_CART_STATUS_ID",
        "GESTAOCLICK_PUSH_SALES",
        "GESTAOCLICK_SALE_SITUACAO_ID",
        "GESTAOCLICK_LOJA_ID",
        "GESTAOCLICK_REFUND_SITUACAO_ID",
        "SMTP_HOST",
        "TELEGRAM_CHAT_ID",
        "TELEGRAM_NOTIFY_CHAT_ID",
        "TELEGRAM_NOTIFY_SALES",
        "TELEGRAM_NOTIFY_REVOKED",
        "TELEGRAM_NOTIFY_FAILURES",
        "TELEGRAM_DAILY_SUMMARY",
        "SMTP_PORT",
        "SMTP_USE_TLS",
        "SMTP_USE_SSL",
        "SMTP_FROM",
    }


def test_nav_and_template_globals():
    assert registry.nav_entries() == (
        ("dashboard.hotmart", "Hotmart"),
        ("dashboard.kommo", "Kommo"),
        ("dashboard.gestao_click", "Gestão Click"),
    )
    assert registry.template_globals()["webhook_labels"] == "Hotmart, Kiwify, Kirvano e Eduzz"
    assert registry.join_pt(["A"]) == "A" and registry.join_pt([]) == ""


def test_secret_key_of_an_unknown_platform_is_none():
    assert secret_key("eduzz") == "EDUZZ_WEBHOOK_SECRET"
    assert secret_key("monetizze") is None


def test_redaction_covers_nested_paths_without_touching_the_original():
    assert ("hottok",) in body_secret_paths() and ("token",) in body_secret_paths()
    body = {"origin": "s3cret", "data": {"producer": {"originSecret": "x", "id": "1"}}}
    clean = redact_body(body)
    assert clean == {
        "origin": REDACTED,
        "data": {"producer": {"originSecret": REDACTED, "id": "1"}},
    }
    assert body["data"]["producer"]["originSecret"] == "x"
    assert redact_body({"event": "x"}) is None and redact_body([1]) is None
