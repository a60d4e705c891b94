"""Shared fixtures: the app on SQLite (always) or PostgreSQL (``--postgres``), clients, helpers."""

from __future__ import annotations

import base64
import contextvars
import os
import re

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db, limiter
from app.sources import SOURCES
from config import TestConfig

# Fixed so every import of this module (pytest and "from tests.conftest import") agrees.
TEST_KEY = base64.urlsafe_b64encode(b"vendas-hub-test-key-000000000000").decode()
CSRF_RE = re.compile(
    r'name="csrf-token" content="([^"]+)"'
    r'|name="csrf_token" type="hidden" value="([^"]+)"'
    r'|name="csrf_token" value="([^"]+)"'
)


def pytest_addoption(parser):
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run database tests against TEST_DATABASE_URL instead of SQLite",
    )


def pytest_report_header(config):
    return f"database backend: {'postgresql' if config.getoption('--postgres') else 'sqlite'}"


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, like a real server.

    Tests hold an app context for direct database access; without this, requests would reuse
    it and share ``g`` (and the logged-in user) across clients. After each request the test's
    own transaction ends, so its next query sees what the request committed.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # run streamed bodies inside the request's context
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.rollback()
        return response


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    if request.config.getoption("--postgres"):
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("--postgres needs TEST_DATABASE_URL", returncode=2)
        from config import normalize_database_url

        url = _worker_database(normalize_database_url(url))
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own (``<name>_gw0``…), created
    on first use beside TEST_DATABASE_URL's; without xdist the URL is used as given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_config(database_url: str, **overrides) -> TestConfig:
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SETTINGS_ENCRYPTION_KEYS": TEST_KEY,
        "APP_URL": "http://localhost",
    }
    env.update({k: v for k, v in overrides.items() if k.isupper() and isinstance(v, str)})
    config = TestConfig(env)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="session")
def _migrated(database_url, tmp_path_factory):
    """Run the real migrations once per session (proves they work on this backend)."""
    from flask_migrate import upgrade

    app = create_app(make_config(database_url), instance_path=str(tmp_path_factory.mktemp("inst")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _truncate_all() -> None:
    with db.engine.begin() as conn:
        _purge_append_only(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        # Deleting sales and links made their summary triggers write (zero) rows: empty again.
        from app.models.summaries import SUMMARY_TABLES

        for name in SUMMARY_TABLES:
            conn.execute(db.metadata.tables[name].delete())


def _purge_append_only(conn) -> None:
    """Empty audit_entries, whose triggers refuse DELETE (TRUNCATE skips row triggers on
    PostgreSQL; on SQLite the triggers are dropped and re-created around the DELETE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("TRUNCATE audit_entries"))
        return
    triggers = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
        {"t": "audit_entries"},
    ).all()
    for name, _ in triggers:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    conn.execute(text("DELETE FROM audit_entries"))
    for _, sql in triggers:
        conn.execute(text(sql))


@pytest.fixture
def app_factory(_migrated, tmp_path):
    """Build an app with config overrides; tables are emptied after the test."""
    created = []

    def factory(**overrides):
        app = create_app(make_config(_migrated, **overrides), instance_path=str(tmp_path / "inst"))
        app.test_client_class = IsolatedClient
        created.append(app)
        return app

    yield factory
    from app import worker

    for app in created:
        worker.stop(app)  # a test that opted into the background worker: its threads end here
        with app.app_context():
            _truncate_all()
            db.session.remove()
            db.engine.dispose()
    limiter.reset()


@pytest.fixture(autouse=True)
def _fresh_process_budgets():
    """Clients built outside an app share one process-wide budget store: a 429 pause one test
    provoked must not hold the next test back."""
    yield
    from app.clients.budget import process_store

    process_store.reset()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return next(g for g in match.groups() if g)


def post_password_form(client, path: str, name: str, password: str, confirm: str | None = None):
    """Fill and send a "name, password, confirm" form (the buyer's signup, a team invite)."""
    token = csrf_token(client, path)
    return client.post(
        path,
        data={
            "name": name,
            "password": password,
            "password_confirm": confirm or password,
            "csrf_token": token,
        },
    )


class Auth:
    """Helpers to create users and log in through the real forms."""

    PASSWORD = "senha-segura-123"

    def __init__(self, app, client):
        self.app, self.client = app, client

    def create(self, email="operador@example.com", role="admin", password=PASSWORD, name="Ana"):
        from app.services import accounts

        with self.app.app_context():
            user = accounts.create_user(email, password, name=name, role=role)
            db.session.commit()
            return user.id

    def login(self, email="operador@example.com", password=PASSWORD, next_url=None):
        token = csrf_token(self.client, "/login")
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return self.client.post(
            url, data={"email": email, "password": password, "csrf_token": token}
        )

    def operator(self):
        self.create()
        response = self.login()
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def member(self, email="membro@example.com"):
        self.create(email="operador@example.com")  # setup done
        self.create(email=email, role="member", name="Bia")
        response = self.login(email=email)
        assert response.status_code == 302
        return response

    def logout(self):
        token = csrf_token(self.client, "/conta")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


class SMTPInbox:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email
                from email import policy

                inbox.messages.append(
                    email.message_from_bytes(envelope.original_content, policy=policy.default)
                )
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def config(self, **overrides) -> dict:
        """The app settings that send mail to this server (``overrides`` win)."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            **overrides,
        }

    @staticmethod
    def text_of(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html_of(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def smtp_server():
    server = SMTPInbox().start()
    yield server
    server.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WEBHOOK_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "webhooks")
_KNOWN_SECRETS = {
    "HOTMART_WEBHOOK_HOTTOK": "hottok-test-0123456789",
    "KIWIFY_WEBHOOK_SECRET": "kiwify-token-0123456789",
    "KIRVANO_WEBHOOK_SECRET": "kirvano-token-0123456789",
}
# One webhook secret per registered platform (app.sources.registry), e.g. EDUZZ_WEBHOOK_SECRET.
WEBHOOK_SECRETS = {
    source.secret_key: _KNOWN_SECRETS.get(source.secret_key, f"{name}-secret-0123456789")
    for name, source in SOURCES.items()
}


def count_rows(model, *where) -> int:
    """How many ``model`` rows match ``where`` (all of them without it)."""
    from sqlalchemy import func, select

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def load_fixture(platform: str, name: str) -> dict:
    import json

    with open(os.path.join(WEBHOOK_FIXTURES, platform, f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def signed_request(platform: str, raw: bytes, secret: str | None = None) -> dict:
    """Headers and query string the way the platform authenticates a delivery (the
    emulator's sender for that platform signs it)."""
    from emulator.webhooks import sign

    secret = secret or WEBHOOK_SECRETS[SOURCES[platform].secret_key]
    headers, query = sign(platform, raw, secret)
    return {"headers": headers, "query_string": query}


class WebhookSender:
    def __init__(self, client):
        self.client = client

    def raw(self, platform: str, raw: bytes, secret: str | None = None, **kwargs):
        signed = signed_request(platform, raw, secret)
        headers = {
            "Content-Type": "application/json",
            **signed["headers"],
            **kwargs.pop("headers", {}),
        }
        return self.client.post(
            f"/webhook/{platform}",
            data=raw,
            headers=headers,
            query_string=signed["query_string"],
            **kwargs,
        )

    def __call__(self, platform: str, body: dict | str, secret: str | None = None, **overrides):
        import json

        if isinstance(body, str):
            body = load_fixture(platform, body)
        return self.raw(platform, json.dumps(body).encode(), secret)


def drain_worker() -> int:
    """Run the background worker's queues to empty, in this thread (an app context is active):
    deterministic processing for a test that opted into ``WEBHOOK_PROCESS_INLINE=False``."""
    from app import worker

    return worker.drain()


@pytest.fixture
def drain():
    return drain_worker


@pytest.fixture
def webhook_app(app_factory, smtp_server):
    """App with webhook secrets set and a real SMTP server receiving the e-mails."""
    app = app_factory(
        **WEBHOOK_SECRETS,
        **smtp_server.config(),
    )
    with app.app_context():
        yield app


@pytest.fixture
def send_webhook(webhook_app):
    return WebhookSender(webhook_app.test_client())
