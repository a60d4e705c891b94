from pathlib import Path

import pytest

from app import create_app
from config import Config, TestConfig, normalize_database_url


def test_factory_registers_blueprints_and_extensions(app):
    for name in ("auth", "dashboard", "errors", "health", "member", "settings", "cli"):
        assert name in app.blueprints
    for ext in ("sqlalchemy", "migrate", "limiter"):
        assert ext in app.extensions
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.template_folder.endswith("templates")


def test_secret_key_and_encryption_key_generated_once_into_instance(tmp_path, database_url):
    config = TestConfig({"DATABASE_URL": database_url})
    inst = tmp_path / "instance"
    first = create_app(config, instance_path=str(inst))
    key = first.config["SECRET_KEY"]
    assert len(key) >= 64
    assert (inst / "secret_key").read_text().strip() == key
    assert (inst / "secret_key").stat().st_mode & 0o077 == 0
    assert (inst / "encryption_key").exists()
    second = create_app(TestConfig({"DATABASE_URL": database_url}), instance_path=str(inst))
    assert second.config["SECRET_KEY"] == key


def test_default_database_is_sqlite_in_instance(tmp_path):
    app = create_app(TestConfig({}), instance_path=str(tmp_path / "i"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{Path(tmp_path / 'i' / 'app.db')}"


def test_postgres_urls_are_rewritten():
    assert normalize_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_config_reads_spec_names_from_environment():
    cfg = Config(
        {
            "APP_URL": "https://vendas.example.com/",
            "HOTMART_WEBHOOK_SECRET": "alias-hottok",
            "SMTP_HOST": "smtp.example.com",
            "SMTP_USE_TLS": "true",
            "SCHEDULER_ENABLED": "yes",
            "RETRY_ATTEMPTS": "5",
            "RETRY_DELAY": "0.5",
            "LOG_FORMAT": "JSON",
            "KOMMO_JWT_TOKEN": "jwt",
        }
    )
    assert cfg.APP_URL == "https://vendas.example.com"
    assert cfg.SESSION_COOKIE_SECURE is True
    assert cfg.HOTMART_WEBHOOK_HOTTOK == "alias-hottok"
    assert cfg.HOTMART_ENV == "sandbox"
    assert cfg.MAIL_SERVER == "smtp.example.com" and cfg.MAIL_PORT == 587 and cfg.MAIL_USE_TLS
    assert cfg.SCHEDULER_ENABLED is True
    assert (cfg.RETRY_ATTEMPTS, cfg.RETRY_DELAY) == (5, 0.5)
    assert cfg.LOG_FORMAT == "json"
    assert cfg.RATELIMIT_STORAGE_URI == "memory://"
    assert cfg.GESTAOCLICK_API_URL == "https://api.gestaoclick.com"


def test_config_defaults_are_safe():
    cfg = Config({})
    assert cfg.SECRET_KEY is None  # generated into instance/, never a fixed default
    assert cfg.SESSION_COOKIE_SECURE is False and cfg.SESSION_COOKIE_HTTPONLY
    assert cfg.SCHEDULER_ENABLED is False
    assert cfg.RETRY_ATTEMPTS == 3 and cfg.RETRY_DELAY == 1.0
    assert Config({"RETRY_ATTEMPTS": "abc"}).RETRY_ATTEMPTS == 3


def test_tunables_are_read_from_the_environment():
    cfg = Config(
        {
            "SYNC_WORKERS": "4",
            "SYNC_STALE_MINUTES": "2,5",
            "LOGIN_LIMIT_PER_IP": "20 per minute",
            "ACTIVATION_LINK_DAYS": "14",
            "SESSION_LIFETIME_DAYS": " ",  # blank: the default stays
        }
    )
    assert cfg.SYNC_WORKERS == 4 and cfg.SYNC_STALE_MINUTES == 2.5
    assert cfg.LOGIN_LIMIT_PER_IP == "20 per minute"
    assert cfg.ACTIVATION_LINK_DAYS == 14
    assert cfg.SESSION_LIFETIME_DAYS == Config.SESSION_LIFETIME_DAYS


@pytest.mark.parametrize(
    "name, value",
    [("SYNC_WORKERS", "0"), ("SYNC_WORKERS", "dois"), ("LOGIN_LIMIT_PER_IP", "muitos")],
)
def test_a_malformed_tunable_stops_the_start_with_its_name(name, value):
    with pytest.raises(ValueError, match=name):
        Config({name: value})


def test_every_tunable_is_documented():
    from config import TUNABLES

    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    assert [name for name in TUNABLES if f"`{name}`" not in doc] == []


def _variables_config_reads() -> set[str]:
    """Every environment variable ``config.py`` reads: the tunables, the registry's settings
    (and their seed aliases), and each literal ``env.get("…")`` in the file."""
    import ast

    import config

    names = set(config.TUNABLES) | set(config.INTEGRATION_VARS)
    names |= {alias for aliases in config.ENV_ALIASES.values() for alias in aliases}
    tree = ast.parse(Path(config.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def test_every_variable_config_reads_is_documented():
    """Named in backticks in docs/configuration.md, docs/deploy.md or the README."""
    root = Path(__file__).parent.parent
    docs = "".join(
        (root / name).read_text(encoding="utf-8")
        for name in ("docs/configuration.md", "docs/deploy.md", "README.md")
    )
    names = _variables_config_reads()
    assert {"SMTP_USE_SSL", "WEBHOOK_PROCESS_INLINE", "DATABASE_URL", "HOTMART_CLIENT_ID"} <= names
    assert sorted(name for name in names if f"`{name}`" not in docs) == []
