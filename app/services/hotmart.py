"""Hotmart integration: what is its own beside the shared parts (``app.services.integration``).

The declaration (settings, resources and their syncers, page, API prefix, rate budget) is in
``app.registry``; this module supplies ``HOOKS`` — the client factory with the OAuth token
cached in ``ApiToken`` (encrypted, so every worker and process shares one token), the
environment (sandbox/production) and "configured" through the Basic value — and keeps the
names the blueprints, the tests and the bench call (``build_client()``,
``test_connection()`` …), each one line over the shared function. The syncers are in
``hotmart_sync``, the item mapping in ``hotmart_mapping``, the page/API lists in
``hotmart_queries``.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from app.clients.hotmart import MSG_MISSING, ConnectionResult, HotmartClient
from app.extensions import db
from app.models import ApiToken
from app.models.types import utcnow
from app.registry import integration as declared
from app.services import integration, settings
from app.services.hotmart_mapping import (  # noqa: F401  (the names callers use)
    product_fields,
    sale_fields,
    subscription_fields,
)
from app.services.hotmart_queries import (  # noqa: F401
    PRODUCT_SORTS,
    counts,
    products_query,
    recent_sales,
    subscription_statuses,
    subscriptions_query,
)
from app.services.hotmart_sync import (  # noqa: F401
    REVOKED_PASSES,
    _sales_pages,
    sales_range,
    sync_products,
    sync_sales,
    sync_subscriptions,
    synced_sale,
    unify_product_ids,
)

log = logging.getLogger(__name__)

HOTMART = declared("hotmart")
PLATFORM = SOURCE = HOTMART.name
RESOURCES = integration.resource_labels(HOTMART)
INTERVALS = {r.name: r.interval for r in HOTMART.resources}
GRANTING_REST = ("APPROVED", "COMPLETE")

DEFAULTS = {
    "HOTMART_SYNC_LOOKBACK_DAYS": 365,  # first (or full) sales sync reaches this far back
    "HOTMART_SYNC_OVERLAP_DAYS": 2,  # incremental syncs re-read this much before the last one
    "HOTMART_SYNC_WINDOW_DAYS": 30,  # sales/history date window (Hotmart 502s on slow queries)
    "HOTMART_PRODUCTS_PAGE_SIZE": 50,
    "HOTMART_PAGE_SIZE": 500,  # sales and subscriptions (Hotmart's maximum)
    "HOTMART_TIMEOUT": 35.0,  # read timeout, seconds (Hotmart gives up at 30 s)
    "HOTMART_CONNECT_TIMEOUT": 5.0,
    "HOTMART_THROTTLE_PER_SECOND": 8.0,  # 500 calls per minute per account
}


def _cfg(key: str) -> Any:
    return integration.cfg(HOTMART, key)


# ---------------------------------------------------------------------------- token store


class DatabaseTokenStore:
    """``TokenStore`` on the ``api_tokens`` table (token encrypted).

    Each call uses its own connection and short transaction, never the caller's session, so a
    token fetched by one worker is seen by all. If the database cannot be written (e.g. SQLite
    locked by the caller's own uncommitted work), the token is still kept in memory.
    """

    def __init__(self) -> None:
        self._memory: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        table = ApiToken.__table__
        try:
            with db.engine.connect() as conn:
                row = conn.execute(
                    select(table.c.token, table.c.expires_at).where(table.c.name == key)
                ).first()
        except SQLAlchemyError as exc:
            log.warning("token cache read failed (%s); using the in-process copy", type(exc))
            with self._lock:
                return self._memory.get(key)
        except Exception:  # undecryptable (key rotated away): fetch a new token
            log.warning("cached token %s unreadable; a new one will be fetched", key)
            return None
        if row is None:
            return None
        return row.token, row.expires_at.timestamp()

    def set(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._memory[key] = (token, expires_at)
        table = ApiToken.__table__
        values = {
            "token": token,
            "expires_at": datetime.fromtimestamp(expires_at, UTC),
            "updated_at": utcnow(),
        }
        try:
            with db.engine.begin() as conn:
                done = conn.execute(
                    update(table).where(table.c.name == key).values(**values)
                ).rowcount
                if not done:
                    conn.execute(insert(table).values(name=key, **values))
        except IntegrityError:  # inserted concurrently: overwrite with ours
            try:
                with db.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.name == key).values(**values))
            except SQLAlchemyError:
                log.warning("token cache write failed for %s", key)
        except (OperationalError, SQLAlchemyError):
            log.warning("token cache write failed for %s; kept in memory only", key)


_token_store: DatabaseTokenStore | None = None


def token_store() -> DatabaseTokenStore:
    global _token_store
    if _token_store is None:
        _token_store = DatabaseTokenStore()
    return _token_store


# ---------------------------------------------------------------------------- hooks


def environment() -> str:
    env = (settings.get("HOTMART_ENV") or "sandbox").strip().lower()
    return env if env in ("sandbox", "production") else "sandbox"


def _configured(values: dict[str, str | None]) -> bool:
    """Client ID and secret known (directly, or through the Basic value)."""
    if values["HOTMART_CLIENT_ID"] and values["HOTMART_CLIENT_SECRET"]:
        return True
    if values["HOTMART_BASIC"]:
        return HotmartClient(None, None, basic=values["HOTMART_BASIC"]).has_credentials
    return False


def _client(values: dict[str, str | None], **options: Any) -> HotmartClient:
    options.setdefault("token_store", token_store())
    return HotmartClient(
        values["HOTMART_CLIENT_ID"],
        values["HOTMART_CLIENT_SECRET"],
        basic=values["HOTMART_BASIC"],
        env=environment(),
        api_url=values["HOTMART_API_URL"],
        auth_url=values["HOTMART_AUTH_URL"],
        **options,
    )


HOOKS = integration.Hooks(
    client=_client,
    missing_message=MSG_MISSING,
    crash_message="Erro inesperado ao testar a conexão com a Hotmart. Veja o log do servidor.",
    defaults=DEFAULTS,
    configured=_configured,
    details=lambda values: {"env": environment()},
    overview=lambda values: {"env": environment(), "api_url": values["HOTMART_API_URL"]},
)


# ---------------------------------------------------------------------------- shared, bound
# The shared functions on this declaration, under the names the blueprints and tests call.

credentials = partial(integration.credentials, HOTMART)
is_configured = partial(integration.is_configured, HOTMART)
overview = partial(integration.overview, HOTMART)  # the page's facts; never a value


def build_client(**options: Any) -> HotmartClient:
    """A ``HotmartClient`` from the current settings (token cached in the database)."""
    return integration.build_client(HOTMART, **options)


def test_connection() -> ConnectionResult:
    """What "Testar conexão" shows. Never raises."""
    return integration.test_connection(HOTMART)


test_connection.__test__ = False  # not a pytest test
