"""Gestão Click integration: what is its own beside the shared parts
(``app.services.integration``).

The declaration (settings, resources and their syncers, page, API prefix, rate budget) is in
``app.registry``; this module supplies ``HOOKS`` — the client factory (``GESTAO_CLICK_DEBUG``
logs every request and response at DEBUG, secrets masked), the daily request count and the
sync windows shown on the page — and keeps the names the blueprints, the tests and the bench
call (``build_client()``, ``test_connection()`` …), each one line over the shared function.
The syncers are in ``gestao_click_sync``, the item mapping in ``gestao_click_mapping``, the
page/API lists in ``gestao_click_queries``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import current_app

from app.clients.gestao_click import MSG_MISSING, GestaoClickClient, normalize_api_url
from app.clients.gestao_click import usage as client_usage
from app.clients.results import ConnectionResult
from app.registry import integration as declared
from app.services import integration, settings
from app.services.gestao_click_mapping import (  # noqa: F401  (the names callers use)
    client_fields,
    fingerprint,
    parse_day,
    product_fields,
    sale_fields,
)
from app.services.gestao_click_queries import (  # noqa: F401
    QUERIES,
    clients_query,
    counts,
    products_query,
    sales_query,
)
from app.services.gestao_click_sync import (  # noqa: F401
    SALE_PASSES,
    _venda_passes,
    sales_range,
    sync_clients,
    sync_products,
    sync_sales,
    today,
)

GESTAO_CLICK = declared("gestao_click")
SOURCE = GESTAO_CLICK.name
SOURCE_LABEL = GESTAO_CLICK.label
RESOURCES = integration.resource_labels(GESTAO_CLICK)
INTERVALS = {r.name: r.interval for r in GESTAO_CLICK.resources}
CREDENTIAL_KEYS = tuple(f.key for f in GESTAO_CLICK.fields)

DEFAULTS = {
    "GESTAOCLICK_SYNC_DAYS": 30,  # trailing window of vendas re-read by every run
    "GESTAOCLICK_FULL_SYNC_DAYS": 365,  # window of a full run
    "GESTAOCLICK_THROTTLE_PER_SECOND": 2.0,  # the limit is 3 per second
    "GESTAOCLICK_TIMEOUT": 30.0,
    "GESTAOCLICK_CONNECT_TIMEOUT": 5.0,
}


def _cfg(key: str) -> Any:
    return integration.cfg(GESTAO_CLICK, key)


# ---------------------------------------------------------------------------- hooks


def _client(values: dict[str, str | None], **options: Any) -> GestaoClickClient:
    options.setdefault("debug", bool(current_app.config.get("GESTAO_CLICK_DEBUG")))
    return GestaoClickClient(
        values["GESTAOCLICK_ACCESS_TOKEN"],
        values["GESTAOCLICK_SECRET_TOKEN"],
        values["GESTAOCLICK_API_URL"],
        **options,
    )


def usage() -> dict[str, Any]:
    """Requests sent today (this process) for the configured account, and the daily limit."""
    return client_usage(settings.get("GESTAOCLICK_ACCESS_TOKEN"))


def _overview(values: dict[str, str | None]) -> dict[str, Any]:
    return {
        "api_url": normalize_api_url(values["GESTAOCLICK_API_URL"]),
        "usage": usage(),
        "sync_days": int(_cfg("GESTAOCLICK_SYNC_DAYS")),
        "full_sync_days": int(_cfg("GESTAOCLICK_FULL_SYNC_DAYS")),
    }


HOOKS = integration.Hooks(
    client=_client,
    missing_message=MSG_MISSING,
    crash_message=(
        "Erro inesperado ao testar a conexão com o Gestão Click. Veja o log do servidor."
    ),
    defaults=DEFAULTS,
    overview=_overview,
    connection_extras=lambda: {"usage": usage()},
)


# ---------------------------------------------------------------------------- shared, bound
# The shared functions on this declaration, under the names the blueprints and tests call.

credentials = partial(integration.credentials, GESTAO_CLICK)
is_configured = partial(integration.is_configured, GESTAO_CLICK)
overview = partial(integration.overview, GESTAO_CLICK)  # the page's facts; never a value


def _typed(access_token: str | None, secret_token: str | None) -> dict[str, str | None] | None:
    if access_token is None and secret_token is None:
        return None
    values = credentials()
    values.update(GESTAOCLICK_ACCESS_TOKEN=access_token, GESTAOCLICK_SECRET_TOKEN=secret_token)
    return values


def build_client(
    access_token: str | None = None, secret_token: str | None = None, **options: Any
) -> GestaoClickClient:
    """A ``GestaoClickClient`` from the current settings and retry policy.

    ``access_token``/``secret_token`` replace the configured pair (seed 003's test of typed
    credentials; nothing is saved)."""
    return integration.build_client(GESTAO_CLICK, _typed(access_token, secret_token), **options)


def test_connection(
    access_token: str | None = None, secret_token: str | None = None
) -> ConnectionResult:
    """What "Testar conexão" shows. Never raises.

    With ``access_token``/``secret_token`` those are tested (with the configured URL) instead
    of the configured pair, and not saved."""
    return integration.test_connection(GESTAO_CLICK, _typed(access_token, secret_token))


test_connection.__test__ = False  # not a pytest test
