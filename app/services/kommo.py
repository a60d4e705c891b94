"""Kommo integration: what is its own beside the shared parts (``app.services.integration``).

The declaration (settings, resources and their syncers, page, API prefix, rate budget) is in
``app.registry``; this module supplies ``HOOKS``: the client factory (the account URL from the
settings or the token's ``api_domain``; ``KOMMO_RETRY_*`` over ``RETRY_*``; ``KOMMO_TIMEOUT``
of 1000 or more is milliseconds; ``KOMMO_DEBUG``), the token's expiry for the page, and the
names the blueprints and tests call (``build_client()``, ``test_connection()`` …), each one
line over the shared function. Every client of the account, in every process, shares one rate
budget (~5 requests per second, Kommo's limit is 7), and a 429 pause holds them all back.

The syncers are in ``kommo_sync``, the item mapping in ``kommo_mapping``, the page/API lists
and live reads in ``kommo_queries``, seed 002's report shapes in ``kommo_report``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import current_app

from app.clients.kommo import (
    DEFAULT_BASE_DOMAIN,
    MSG_MISSING,
    MSG_NO_URL,
    ConnectionResult,
    KommoClient,
    base_url_for,
    expiry_status,
    jwt_claims,
    token_expiry,
)
from app.registry import integration as declared
from app.services import integration, settings
from app.services.kommo_mapping import (  # noqa: F401  (the names callers use)
    account_currency,
    contact_fields,
    lead_fields,
    pipeline_names,
)
from app.services.kommo_queries import (  # noqa: F401
    account_currency_code,
    contacts_by_remote_id,
    contacts_query,
    counts,
    fetch_contact,
    fetch_lead,
    get_contact,
    get_lead,
    leads_of_contact,
    leads_query,
    won_totals,
)
from app.services.kommo_report import (  # noqa: F401
    DIAGNOSTIC_CONTACTS,
    connection_report,
    seed_sync_status,
)
from app.services.kommo_sync import (  # noqa: F401
    MSG_SYNC_AUTH,
    MSG_SYNC_BLOCKED,
    MSG_SYNC_PAYMENT,
    sync_contacts,
    sync_leads,
    updated_from,
)
from config import seconds

KOMMO = declared("kommo")
SOURCE = KOMMO.name
RESOURCES = integration.resource_labels(KOMMO)
INTERVAL = 900  # seconds
CREDENTIAL_KEYS = tuple(f.key for f in KOMMO.fields)

DEFAULTS = {
    "KOMMO_TIMEOUT": 30.0,  # read timeout (Kommo documents none)
    "KOMMO_CONNECT_TIMEOUT": 5.0,
    "KOMMO_THROTTLE_PER_SECOND": 5.0,  # Kommo: 7 per second, repeated 429s → 403 block
    "KOMMO_PAGE_SIZE": 250,  # Kommo's maximum
    "KOMMO_SYNC_OVERLAP_SECONDS": 300,  # incremental runs re-read this much before the last one
    "KOMMO_MAX_RETRY_AFTER": 120.0,  # a longer retry_after fails the run instead of sleeping
}


def _cfg(key: str) -> Any:
    return integration.cfg(KOMMO, key)


# ---------------------------------------------------------------------------- hooks


def base_domain() -> str:
    """``KOMMO_BASE_DOMAIN`` (seed 002): completes a bare subdomain in ``KOMMO_API_URL``."""
    return current_app.config.get("KOMMO_BASE_DOMAIN") or DEFAULT_BASE_DOMAIN


def api_url_for(token: str | None, api_url: str | None) -> str | None:
    return base_url_for(token, api_url, base_domain())


def _options(values: dict[str, str | None], options: dict[str, Any]) -> None:
    """Kommo's own client options (they win over the common ones)."""
    cfg = current_app.config
    attempts = cfg.get("KOMMO_RETRY_ATTEMPTS")
    delay = seconds(cfg.get("KOMMO_RETRY_DELAY"))
    if attempts is not None:
        options.setdefault("retry_attempts", int(attempts))
    if delay is not None:
        options.setdefault("retry_delay", float(delay))
    timeout = seconds(values["KOMMO_TIMEOUT"]) or float(DEFAULTS["KOMMO_TIMEOUT"])
    connect = float(_cfg("KOMMO_CONNECT_TIMEOUT"))
    options.setdefault("timeout", (min(connect, timeout), timeout))
    options.setdefault("max_retry_after", float(_cfg("KOMMO_MAX_RETRY_AFTER")))
    options.setdefault("debug", bool(cfg.get("KOMMO_DEBUG")))
    options.setdefault("base_domain", base_domain())


def _client(values: dict[str, str | None], **options: Any) -> KommoClient:
    return KommoClient(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"], **options)


def _sync_blocker(values: dict[str, str | None]) -> str | None:
    if not values["KOMMO_JWT_TOKEN"]:
        return MSG_MISSING
    if not api_url_for(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"]):
        return MSG_NO_URL
    return None


def token_info() -> dict[str, Any]:
    """Non-secret facts about the configured token for the page (expiry, domain, account)."""
    token = settings.get("KOMMO_JWT_TOKEN")
    claims = jwt_claims(token)
    expires_at = token_expiry(claims)
    domain = claims.get("api_domain")
    return {
        "present": bool(token),
        "readable": bool(claims),
        "expires_at": expires_at,
        "expiry": expiry_status(expires_at),
        "api_domain": domain if isinstance(domain, str) else None,
        "account_id": claims.get("account_id"),
    }


def _overview(values: dict[str, str | None]) -> dict[str, Any]:
    return {
        "api_url": api_url_for(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"]),
        "api_url_configured": bool(values["KOMMO_API_URL"]),
        "timeout": seconds(values["KOMMO_TIMEOUT"], DEFAULTS["KOMMO_TIMEOUT"]),
        "token": token_info(),
    }


def _known_problem(values: dict[str, str | None]) -> str | None:
    """An expired token fails every call: say so without asking Kommo."""
    expires_at = token_expiry(jwt_claims(values["KOMMO_JWT_TOKEN"]))
    if expiry_status(expires_at) != "expired":
        return None
    return (
        f"O token de longa duração expirou em {expires_at:%d/%m/%Y}. Gere um novo token na "
        "integração privada do Kommo e atualize-o em Configurações."
    )


HOOKS = integration.Hooks(
    client=_client,
    missing_message=MSG_MISSING,
    missing_code="missing_token",
    crash_message="Erro inesperado ao testar a conexão com o Kommo. Veja o log do servidor.",
    defaults=DEFAULTS,
    # A token is set and a base URL is known (configured, or the token's api_domain).
    configured=lambda v: bool(v["KOMMO_JWT_TOKEN"] and _sync_blocker(v) is None),
    testable=lambda v: bool(v["KOMMO_JWT_TOKEN"]),  # the client explains a missing URL
    sync_blocker=_sync_blocker,
    options=_options,
    overview=_overview,
    known_problem=_known_problem,
)


# ---------------------------------------------------------------------------- shared, bound
# The shared functions on this declaration, under the names the blueprints and tests call.

credentials = partial(integration.credentials, KOMMO)
is_configured = partial(integration.is_configured, KOMMO)
overview = partial(integration.overview, KOMMO)  # the page's facts; never a value
sync_status = partial(integration.sync_status, KOMMO)  # runs per resource


def build_client(token: str | None = None, **options: Any) -> KommoClient:
    """A ``KommoClient`` from the current settings, on the account's shared rate budget.

    ``token`` replaces the configured one (seed 002's "test this token" button; not saved)."""
    values = credentials()
    if token is not None:
        values["KOMMO_JWT_TOKEN"] = token
    return integration.build_client(KOMMO, values, **options)


def test_connection() -> ConnectionResult:
    """What "Testar conexão" shows. Never raises."""
    return integration.test_connection(KOMMO)


test_connection.__test__ = False  # not a pytest test
