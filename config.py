"""Configuration read from the environment (names are part of the SPEC §4 contract)."""

from __future__ import annotations

import os
from collections.abc import Mapping

TRUE_VALUES = {"1", "true", "yes", "on", "sim"}

# Integration variables that may also be set from the Settings page (database wins).
INTEGRATION_VARS = (
    "HOTMART_CLIENT_ID",
    "HOTMART_CLIENT_SECRET",
    "HOTMART_BASIC",
    "HOTMART_ENV",
    "HOTMART_WEBHOOK_HOTTOK",
    "HOTMART_API_URL",
    "HOTMART_AUTH_URL",
    "KIWIFY_WEBHOOK_SECRET",
    "KIRVANO_WEBHOOK_SECRET",
    "KOMMO_JWT_TOKEN",
    "KOMMO_API_URL",
    "KOMMO_TIMEOUT",
    "GESTAOCLICK_ACCESS_TOKEN",
    "GESTAOCLICK_SECRET_TOKEN",
    "GESTAOCLICK_API_URL",
)


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_VALUES


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style ``postgres://`` URLs and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Runtime configuration. Values are read when the object is built, not at import."""

    TESTING = False
    MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MiB: larger bodies get 413
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # storage down: count per process, never 500
    ACTIVATION_LINK_DAYS = 7
    PASSWORD_RESET_MINUTES = 60
    SESSION_LIFETIME_DAYS = 30  # a server-side login session ends after this, idle or not
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    LOGIN_LIMIT_PER_IP = "10 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "50 per hour"
    PASSWORD_RESET_LIMIT = "5 per hour"
    ACTIVATION_RESEND_LIMIT = "3 per hour"
    SEND_MAIL_IN_BACKGROUND = True
    SYNC_WORKERS = 2  # background sync runs at once in this process
    SYNC_PROGRESS_INTERVAL = 0.5  # seconds between progress/heartbeat writes of a run
    SYNC_STALE_MINUTES = 10  # a running sync silent this long is marked failed
    SCHEDULER_LEASE_SECONDS = 45  # leadership lasts this long without renewal
    SCHEDULER_RENEW_SECONDS = 15

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.SECRET_KEY = env.get("SECRET_KEY") or None
        url = env.get("DATABASE_URL")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(url) if url else None
        self.APP_URL = (env.get("APP_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.FORCE_HTTPS = _bool(env.get("FORCE_HTTPS"), False)
        # Secure cookies whenever the app is (or is forced to be) served over HTTPS only.
        secure = self.APP_URL.startswith("https://") or self.FORCE_HTTPS
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_SECURE = secure
        self.PREFERRED_URL_SCHEME = "https" if secure else "http"
        self.SETTINGS_ENCRYPTION_KEYS = env.get("SETTINGS_ENCRYPTION_KEYS") or None

        # Outgoing mail (Flask-Mail names derived from SPEC names).
        self.SMTP_HOST = env.get("SMTP_HOST") or None
        self.MAIL_SERVER = self.SMTP_HOST or "localhost"
        self.MAIL_PORT = _int(
            env.get("SMTP_PORT"), 587 if _bool(env.get("SMTP_USE_TLS"), False) else 25
        )
        self.MAIL_USERNAME = env.get("SMTP_USER") or None
        self.MAIL_PASSWORD = env.get("SMTP_PASSWORD") or None
        self.MAIL_DEFAULT_SENDER = env.get("SMTP_FROM") or "Vendas Hub <nao-responda@localhost>"
        self.MAIL_USE_TLS = _bool(env.get("SMTP_USE_TLS"), False)
        self.MAIL_USE_SSL = _bool(env.get("SMTP_USE_SSL"), False)
        self.MAIL_TIMEOUT = _float(env.get("SMTP_TIMEOUT"), 10.0)

        for name in INTEGRATION_VARS:
            setattr(self, name, env.get(name) or None)
        if not self.HOTMART_WEBHOOK_HOTTOK:
            self.HOTMART_WEBHOOK_HOTTOK = env.get("HOTMART_WEBHOOK_SECRET") or None
        self.HOTMART_ENV = (self.HOTMART_ENV or "sandbox").lower()
        self.KOMMO_TIMEOUT = self.KOMMO_TIMEOUT or "30"
        self.GESTAOCLICK_API_URL = self.GESTAOCLICK_API_URL or "https://api.gestaoclick.com"

        self.ACTIVATION_LINK_DAYS = _int(env.get("ACTIVATION_LINK_DAYS"), 7)
        self.RETRY_ATTEMPTS = _int(env.get("RETRY_ATTEMPTS"), 3)
        self.RETRY_DELAY = _float(env.get("RETRY_DELAY"), 1.0)
        self.SCHEDULER_ENABLED = _bool(env.get("SCHEDULER_ENABLED"), False)
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI") or "memory://"
        # A slow or absent Redis must not hang requests: short timeouts, then the in-memory
        # fallback (per worker) until it answers again.
        self.RATELIMIT_STORAGE_OPTIONS = (
            {"socket_connect_timeout": 1, "socket_timeout": 1}
            if self.RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://"))
            else {}
        )
        self.WEBHOOK_RATE_LIMIT = env.get("WEBHOOK_RATE_LIMIT") or "600 per minute"
        self.LOG_LEVEL = (env.get("LOG_LEVEL") or "INFO").upper()
        self.LOG_FORMAT = (env.get("LOG_FORMAT") or "text").lower()
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
        self.TRUSTED_PROXY_COUNT = _int(env.get("TRUSTED_PROXY_COUNT"), 0)


class TestConfig(Config):
    """Fast, isolated settings for the test suite."""

    __test__ = False  # not a pytest test class

    TESTING = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    SEND_MAIL_IN_BACKGROUND = False
    MAIL_SUPPRESS_SEND = False  # tests deliver to a real local SMTP server (aiosmtpd)

    def __init__(self, environ: Mapping[str, str] | None = None):
        super().__init__(environ if environ is not None else {})
        self.SCHEDULER_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.RATELIMIT_STORAGE_OPTIONS = {}
