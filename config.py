"""Configuration read from the environment (names are part of the SPEC §4 contract)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from app.registry import integration_vars

TRUE_VALUES = {"1", "true", "yes", "on", "sim"}

# Integration variables that may also be set from the Settings page (database wins): every
# field the integration registry declares (API credentials and webhook secrets).
INTEGRATION_VARS = integration_vars()


# SPEC §12: names of the seed documents, read when the SPEC name (the key) is unset or empty.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "HOTMART_BASIC": ("HOTMART_BASIC_AUTH",),
    "HOTMART_WEBHOOK_HOTTOK": ("HOTMART_WEBHOOK_SECRET",),
    "SMTP_PASSWORD": ("SMTP_PASS",),
    "KOMMO_JWT_TOKEN": ("KOMMO_LONG_LIVED_TOKEN",),
    "GESTAOCLICK_ACCESS_TOKEN": ("GESTAO_CLICK_API_KEY",),
    "GESTAOCLICK_SECRET_TOKEN": ("GESTAO_CLICK_SECRET_TOKEN",),
    "GESTAOCLICK_API_URL": ("GESTAO_CLICK_API_URL",),
}
# Seed values of 1000 or more for these are milliseconds (KOMMO_TIMEOUT=30000).
MS_THRESHOLD = 1000


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """``env[name]``, else the first of its seed aliases that is set (the SPEC name wins)."""
    for key in (name, *ENV_ALIASES.get(name, ())):
        value = env.get(key)
        if value not in (None, ""):
            return value
    return None


def env_source(env: Mapping[str, str], name: str) -> str | None:
    """Which variable ``env_value`` took the value from (``name`` or one of its aliases)."""
    for key in (name, *ENV_ALIASES.get(name, ())):
        if env.get(key) not in (None, ""):
            return key
    return None


def seconds(value: object, default: float | None = None) -> float | None:
    """A duration in seconds; seed-style values of 1000 or more are milliseconds."""
    if isinstance(value, bool) or value in (None, ""):
        return default
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        return default
    if number != number or number < 0:
        return default
    return number / 1000 if number >= MS_THRESHOLD else number


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


def _limit(value: str) -> str:
    """A rate-limit string such as ``10 per minute`` (validated by the ``limits`` library)."""
    from limits import parse_many

    parse_many(value)  # raises ValueError on a malformed limit
    return value.strip()


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be 1 or more")
    return number


def _positive_float(value: str) -> float:
    number = float(value.replace(",", "."))
    if not number >= 0:  # also rejects NaN
        raise ValueError("must be 0 or more")
    return number


# Tunables: class defaults below, each overridable by an environment variable of the same name
# (docs/configuration.md lists them). A malformed value stops the start with a clear message
# instead of silently running with a default the operator did not choose.
TUNABLES: dict[str, tuple] = {
    "MAX_CONTENT_LENGTH": (_positive_int, "largest request body in bytes (413 above)"),
    "ACTIVATION_LINK_DAYS": (_positive_int, "days an activation link stays valid"),
    "PASSWORD_RESET_MINUTES": (_positive_int, "minutes a password-reset link stays valid"),
    "OPERATOR_INVITE_DAYS": (_positive_int, "days an operator invite link stays valid"),
    "SESSION_LIFETIME_DAYS": (_positive_int, "days a login session lasts, idle or not"),
    "ARGON2_TIME_COST": (_positive_int, "argon2 passes per password hash"),
    "ARGON2_MEMORY_COST": (_positive_int, "argon2 memory per hash, KiB"),
    "ARGON2_PARALLELISM": (_positive_int, "argon2 lanes per hash"),
    "LOGIN_LIMIT_PER_IP": (_limit, "login attempts per client address"),
    "LOGIN_LIMIT_PER_ACCOUNT": (_limit, "login attempts per e-mail"),
    "PASSWORD_RESET_LIMIT": (_limit, "password-reset requests per client address"),
    "ACTIVATION_RESEND_LIMIT": (_limit, "activation e-mail re-sends per buyer"),
    "SYNC_WORKERS": (_positive_int, "background sync runs at once per process"),
    "OUTBOX_SENDERS": (_positive_int, "e-mail sender threads at once per process"),
    "SYNC_PROGRESS_INTERVAL": (_positive_float, "seconds between a run's progress writes"),
    "SYNC_STALE_MINUTES": (_positive_float, "silence after which a running sync is failed"),
    "SCHEDULER_LEASE_SECONDS": (_positive_int, "seconds the scheduler leadership lasts"),
    "SCHEDULER_RENEW_SECONDS": (_positive_int, "seconds between leadership renewals"),
    "HOTMART_THROTTLE_PER_SECOND": (_positive_float, "Hotmart requests per second (shared)"),
    "KOMMO_THROTTLE_PER_SECOND": (_positive_float, "Kommo requests per second (shared)"),
    "GESTAOCLICK_THROTTLE_PER_SECOND": (_positive_float, "Gestão Click requests per second"),
    "TELEGRAM_CHAT_PER_MINUTE": (_positive_float, "Telegram notifications per minute per chat"),
}


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
    # A pooled connection is checked before use, so the first request after a database
    # restart gets a fresh connection instead of failing on a dead one.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
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
    OPERATOR_INVITE_DAYS = 7
    SESSION_LIFETIME_DAYS = 30  # a server-side login session ends after this, idle or not
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    LOGIN_LIMIT_PER_IP = "10 per minute"
    LOGIN_LIMIT_PER_ACCOUNT = "50 per hour"
    PASSWORD_RESET_LIMIT = "5 per hour"
    ACTIVATION_RESEND_LIMIT = "3 per hour"
    SEND_MAIL_IN_BACKGROUND = True
    AUTOMATIONS_IN_BACKGROUND = True  # pushes to Kommo… sent off the request path
    OUTBOX_SENDERS = 2  # background e-mail senders at once in this process (disjoint claims)
    SYNC_WORKERS = 2  # background sync runs at once in this process
    SYNC_PROGRESS_INTERVAL = 0.5  # seconds between progress/heartbeat writes of a run
    SYNC_STALE_MINUTES = 10  # a running sync silent this long is marked failed
    SCHEDULER_LEASE_SECONDS = 45  # leadership lasts this long without renewal
    SCHEDULER_RENEW_SECONDS = 15

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        for name, (parse, _doc) in TUNABLES.items():
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            try:
                setattr(self, name, parse(raw.strip()))
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not valid: {exc}") from None
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
        self.MAIL_PASSWORD = env_value(env, "SMTP_PASSWORD")
        self.MAIL_DEFAULT_SENDER = env.get("SMTP_FROM") or "Vendas Hub <nao-responda@localhost>"
        self.MAIL_USE_TLS = _bool(env.get("SMTP_USE_TLS"), False)
        self.MAIL_USE_SSL = _bool(env.get("SMTP_USE_SSL"), False)
        self.MAIL_TIMEOUT = _float(env.get("SMTP_TIMEOUT"), 10.0)

        # Which variable each integration value came from (an alias shows on the Settings page).
        self.ENV_SOURCES = {}
        for name in INTEGRATION_VARS:
            setattr(self, name, env_value(env, name))
            self.ENV_SOURCES[name] = env_source(env, name)
        self.HOTMART_ENV = (self.HOTMART_ENV or "sandbox").lower()
        timeout = seconds(self.KOMMO_TIMEOUT)
        self.KOMMO_TIMEOUT = f"{timeout:g}" if timeout else "30"
        self.GESTAOCLICK_API_URL = self.GESTAOCLICK_API_URL or "https://api.gestaoclick.com"
        # Seed 002's Kommo knobs: their own retry policy (else RETRY_*), request logs, the
        # domain a bare subdomain in KOMMO_API_URL is completed with.
        attempts = env.get("KOMMO_RETRY_ATTEMPTS")
        self.KOMMO_RETRY_ATTEMPTS = _int(attempts, 3) if attempts not in (None, "") else None
        self.KOMMO_RETRY_DELAY = seconds(env.get("KOMMO_RETRY_DELAY"))
        self.KOMMO_DEBUG = _bool(env.get("KOMMO_DEBUG"), False)
        self.KOMMO_BASE_DOMAIN = (env.get("KOMMO_BASE_DOMAIN") or "").strip().strip(".") or None
        self.GESTAO_CLICK_DEBUG = _bool(env.get("GESTAO_CLICK_DEBUG"), False)

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
        # Webhook processing: in a background worker right after the raw event is stored
        # (False, the default), or in the request (True: the suite, unless a test opts out).
        self.WEBHOOK_PROCESS_INLINE = _bool(env.get("WEBHOOK_PROCESS_INLINE"), False)
        # In-process worker threads per web process (0: dedicated `flask worker` processes do
        # the work) and how often each process's poller looks for due work.
        self.WORKER_THREADS = _int(env.get("WORKER_THREADS"), 2)
        self.WORKER_POLL_SECONDS = _float(env.get("WORKER_POLL_SECONDS"), 2.0)
        # While a web process answers webhooks its worker threads wait, at most this long.
        self.WORKER_MAX_DEFER_SECONDS = _float(env.get("WORKER_MAX_DEFER_SECONDS"), 3.0)
        # During a burst background work gives way to the deliveries (app.worker) until the
        # events waiting have waited this long; then it shares the machine again.
        self.WORKER_MAX_LAG_SECONDS = _float(env.get("WORKER_MAX_LAG_SECONDS"), 10.0)
        # Settings read on every delivery (the webhook secrets) are cached per process this
        # many seconds; a change in the Settings page drops this process's copy at commit.
        self.SETTINGS_CACHE_SECONDS = _float(env.get("SETTINGS_CACHE_SECONDS"), 5.0)
        # The overview's unmapped-products flag (app.services.access_catalogue), per process.
        self.CATALOGUE_CACHE_SECONDS = _float(env.get("CATALOGUE_CACHE_SECONDS"), 30.0)
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
    AUTOMATIONS_IN_BACKGROUND = False
    MAIL_SUPPRESS_SEND = False  # tests deliver to a real local SMTP server (aiosmtpd)

    def __init__(self, environ: Mapping[str, str] | None = None):
        super().__init__(environ if environ is not None else {})
        self.SCHEDULER_ENABLED = False
        # Deterministic: webhooks are processed in the request (a test opts into the
        # background worker with WEBHOOK_PROCESS_INLINE=False, see tests/conftest.py).
        self.WEBHOOK_PROCESS_INLINE = True
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.RATELIMIT_STORAGE_OPTIONS = {}
