"""Vendas Hub: purchase webhooks → activation links, plus one dashboard over the integrations."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import crypto, database, events
from app.extensions import db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | None = None, instance_path: str | None = None) -> Flask:
    from app.webhooks.lane import LaneFlask  # Flask, with /webhook/* on a lean hook lane

    app = LaneFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=instance_path or str(ROOT / "instance"),
    )
    configure(app, config)
    from app.logs import configure_logging

    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_commands(app)
    register_scheduler(app)
    register_worker(app)
    return app


def configure(app: Flask, config: object | None) -> None:
    from config import Config

    app.config.from_object(config if config is not None else Config())
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(instance)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'app.db'}"
    keys_raw = app.config.get("SETTINGS_ENCRYPTION_KEYS") or crypto.load_or_create_key_file(
        str(instance)
    )
    app.extensions["vendas_fernet"] = crypto.build_multifernet(crypto.parse_keys(keys_raw))
    proxies = app.config.get("TRUSTED_PROXY_COUNT", 0)
    if proxies:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )


def _instance_secret_key(instance: Path) -> str:
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    logging.getLogger(__name__).info("generated a new SECRET_KEY in %s", path)
    return key


def register_extensions(app: Flask) -> None:
    from app import security
    from app.models import User  # noqa: F401  (registers the models on the metadata)

    db.init_app(app)
    database.install()
    events.install()
    # Registered after Flask-SQLAlchemy's, so it runs first (teardowns run in reverse).
    app.teardown_appcontext(database.release_session)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    limiter.init_app(app)
    from app.ratelimit import warn_if_multiplied

    warn_if_multiplied(app)
    security.init_app(app)
    login_manager.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.access import bp as access_bp
    from app.activations import bp as activations_bp
    from app.api import bp as api_bp
    from app.audit import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.automations import bp as automations_bp
    from app.customers import bp as customers_bp
    from app.dashboard import bp as dashboard_bp
    from app.errors import bp as errors_bp
    from app.health import bp as health_bp
    from app.inbox import bp as inbox_bp
    from app.member import bp as member_bp
    from app.reports import bp as reports_bp
    from app.sales_pages import bp as sales_bp
    from app.settings import bp as settings_bp
    from app.signup import bp as signup_bp
    from app.subscriptions import bp as subscriptions_bp
    from app.team import bp as team_bp
    from app.telegram_page import bp as telegram_bp
    from app.webhooks import bp as webhooks_bp

    for bp in (
        errors_bp,
        health_bp,
        webhooks_bp,
        signup_bp,
        auth_bp,
        member_bp,
        dashboard_bp,
        sales_bp,
        customers_bp,
        activations_bp,
        inbox_bp,
        reports_bp,
        subscriptions_bp,
        settings_bp,
        automations_bp,
        audit_bp,
        api_bp,
        telegram_bp,
        access_bp,
        team_bp,
    ):
        app.register_blueprint(bp)


def register_template_helpers(app: Flask) -> None:
    from app import formatting, registry

    formatting.init_app(app)
    registry.init_app(app)


def register_commands(app: Flask) -> None:
    from app.cli import bp as cli_bp

    app.register_blueprint(cli_bp)


def register_worker(app: Flask) -> None:
    from app import worker

    worker.init_app(app)


def register_scheduler(app: Flask) -> None:
    from app import scheduler

    scheduler.init_app(app)
