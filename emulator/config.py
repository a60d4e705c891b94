"""Emulator configuration, default credentials and the ``export NAME=value`` lines."""

from __future__ import annotations

import dataclasses
import hashlib
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt

DEFAULT_NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)

# Kommo long-lived token: fixed times so ``env`` printed by another process stays valid.
KOMMO_TOKEN_IAT = 1704067200  # 2024-01-01T00:00:00Z
KOMMO_TOKEN_EXP = 4102444800  # 2100-01-01T00:00:00Z (midnight UTC, like real tokens)
KOMMO_SCOPES = ["crm", "files", "files_delete", "notifications", "push_notifications"]


@dataclass
class EmulatorConfig:
    """Everything that shapes one emulator run. All fields have dev-friendly defaults."""

    seed: int = 42
    # Sizes per resource (records are generated lazily, so 100,000+ is fine).
    products: int = 24
    sales: int = 1500
    subscriptions: int = 300
    contacts: int = 1200
    leads: int = 1500
    gc_sales: int = 800
    gc_clients: int = 600
    gc_products: int = 120
    people: int | None = None  # shared buyer pool; default max(contacts, gc_clients, 50)
    # Records are spread over ``span_days`` before ``now`` (a fixed date: deterministic).
    now: datetime = DEFAULT_NOW
    span_days: int = 365

    # Hotmart: sandbox and production credentials differ, like real ones.
    hotmart_client_id: str = "emu-client-id"  # sandbox (what ``env`` prints)
    hotmart_client_secret: str = "emu-client-secret"
    hotmart_prod_client_id: str = "emu-prod-client-id"
    hotmart_prod_client_secret: str = "emu-prod-client-secret"
    hotmart_token_ttl: int = 172799
    hotmart_rate_limit: int = 500  # per window; 0 disables
    hotmart_rate_window: float = 60.0
    # REST dates: "ms" (documented) or "s" (seen from some accounts and proxies); query
    # parameters are always read in milliseconds, like the real API.
    hotmart_date_unit: str = "ms"

    # Kommo
    kommo_subdomain: str = "vendashub"
    kommo_account_id: int = 32720107
    kommo_user_id: int = 10551234
    kommo_currency: str = "BRL"  # GET /account → currency; lead prices are whole units of it
    kommo_rate_limit: int = 7  # per window; 0 disables
    kommo_rate_window: float = 1.0
    kommo_retry_after: int = 1  # the real API says 300; short by default for demos
    kommo_block_after: int = 20  # this many 429s within kommo_block_window → 403 block
    kommo_block_window: float = 60.0
    kommo_block_seconds: float = 600.0
    # The account has a "CPF" text field on contacts (GET /contacts/custom_fields lists it and
    # contact writes accept it by field_id); off: the standard fields only (PHONE, EMAIL).
    kommo_cpf_field: bool = False

    # Gestão Click
    gc_access_token: str = "emu-gc-access-token"
    gc_secret_token: str = "emu-gc-secret-token"
    gc_rate_limit: int = 3  # per window; 0 disables
    gc_rate_window: float = 1.0
    gc_daily_limit: int = 30000  # 0 disables
    gc_page_size: int = 100

    rate_limits_enabled: bool = True
    fault_timeout_seconds: float = 35.0  # how long a "timeout" fault hangs before a 504
    faults: list[dict[str, Any]] = field(default_factory=list)  # rules active at start
    quiet: bool = False

    clock: Callable[[], float] = field(default=time.time, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_value(cls, value: EmulatorConfig | dict[str, Any] | None) -> EmulatorConfig:
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(value) - names
        if unknown:
            raise TypeError(f"unknown emulator config keys: {sorted(unknown)}")
        cfg = cls(**value)
        if isinstance(cfg.now, str):
            cfg.now = parse_now(cfg.now)
        return cfg

    @property
    def people_pool(self) -> int:
        return max(self.people or 50, self.contacts, self.gc_clients)

    @property
    def now_ts(self) -> int:
        return int(self.now.timestamp())

    @property
    def kommo_base_domain(self) -> str:
        return "kommo.com"

    def kommo_key(self) -> str:
        """HS256 key of the emulator's Kommo tokens (derived from the seed, 64 chars)."""
        return hashlib.sha256(f"vendas-hub-emulator:kommo:{self.seed}".encode()).hexdigest()

    def kommo_audience(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vendas-hub-emulator/{self.seed}/aud"))

    def kommo_claims(self, **overrides: Any) -> dict[str, Any]:
        seed = self.seed
        claims: dict[str, Any] = {
            "aud": self.kommo_audience(),
            "jti": str(uuid.uuid5(uuid.NAMESPACE_URL, f"vendas-hub-emulator/{seed}/jti")),
            "iat": KOMMO_TOKEN_IAT,
            "nbf": KOMMO_TOKEN_IAT,
            "exp": KOMMO_TOKEN_EXP,
            "sub": str(self.kommo_user_id),
            "grant_type": "",
            "account_id": self.kommo_account_id,
            "base_domain": self.kommo_base_domain,
            "version": 2,
            "scopes": list(KOMMO_SCOPES),
            "hash_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"vendas-hub-emulator/{seed}/hash")),
            "api_domain": "api-c.kommo.com",
        }
        claims.update(overrides)
        return claims

    def kommo_token(self, **overrides: Any) -> str:
        """A long-lived token this emulator accepts (deterministic for a given seed)."""
        return jwt.encode(self.kommo_claims(**overrides), self.kommo_key(), algorithm="HS256")

    def hotmart_credentials(self) -> dict[str, tuple[str, str]]:
        return {
            "sandbox": (self.hotmart_client_id, self.hotmart_client_secret),
            "production": (self.hotmart_prod_client_id, self.hotmart_prod_client_secret),
        }


def parse_now(value: str) -> datetime:
    """``today`` (midnight UTC of the current day), ``now`` or an ISO-8601 date/time."""
    if value == "today":
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if value == "now":
        return datetime.now(UTC).replace(microsecond=0)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def base_url(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def env_vars(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 5055) -> dict[str, str]:
    """The variables the main app needs to talk to an emulator at host:port."""
    base = base_url(host, port)
    return {
        "HOTMART_ENV": "sandbox",
        "HOTMART_API_URL": f"{base}/hotmart/sandbox",
        "HOTMART_AUTH_URL": f"{base}/hotmart/auth/security/oauth/token",
        "HOTMART_CLIENT_ID": config.hotmart_client_id,
        "HOTMART_CLIENT_SECRET": config.hotmart_client_secret,
        "KOMMO_API_URL": f"{base}/kommo",
        "KOMMO_JWT_TOKEN": config.kommo_token(),
        "GESTAOCLICK_API_URL": f"{base}/gestaoclick/api",
        "GESTAOCLICK_ACCESS_TOKEN": config.gc_access_token,
        "GESTAOCLICK_SECRET_TOKEN": config.gc_secret_token,
    }


def env_lines(config: EmulatorConfig, host: str = "127.0.0.1", port: int = 5055) -> list[str]:
    return [f"export {k}={shlex.quote(v)}" for k, v in env_vars(config, host, port).items()]
