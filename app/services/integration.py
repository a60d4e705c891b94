"""The shared service functions of the API integrations, run on their declaration.

``app.registry.Integration`` declares an integration as data; its ``service`` module adds
``HOOKS`` (``Hooks`` below): how to construct its client and what, if anything, differs from
the defaults. Everything else — reading the credentials, "is it configured?", the common
client options (retries, timeouts, the shared rate budget), "Testar conexão" that never
raises, the syncers' registration, the page's overview and sync rows — is written once here::

    from app.services import integration

    HOTMART = integration.get("hotmart")
    integration.build_client(HOTMART)      # a client from the current settings
    integration.test_connection(HOTMART)   # a ConnectionResult; recorded for the status card

The truthful status of the page (``status()``) lives in ``app.services.integration_status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from flask import current_app

from app.clients.results import ConnectionResult
from app.registry import BY_NAME, Integration
from app.services import integration_status, rate_budget, settings, sync

log = logging.getLogger(__name__)

Values = dict[str, str | None]


@dataclass(frozen=True)
class Hooks:
    """What an integration's service module supplies (only ``client`` is required)."""

    client: Callable[..., Any]  # (values, **options) -> the API client
    missing_message: str  # pt-BR: credentials not set
    missing_code: str = "missing_credentials"
    crash_message: str = "Erro inesperado ao testar a conexão. Veja o log do servidor."
    defaults: dict[str, Any] = field(default_factory=dict)  # tunables' defaults
    configured: Callable[[Values], bool] | None = None  # default: every required field set
    testable: Callable[[Values], bool] | None = None  # default: ``configured``
    sync_blocker: Callable[[Values], str | None] | None = None  # why a sync cannot start
    options: Callable[[Values, dict[str, Any]], None] | None = None  # its own client options
    details: Callable[[Values], dict[str, Any]] | None = None  # a test result's base details
    overview: Callable[[Values], dict[str, Any]] | None = None  # the page's extra facts
    known_problem: Callable[[Values], str | None] | None = None  # bad without asking (pt-BR)
    connection_extras: Callable[[], dict[str, Any]] | None = None  # more keys in the API's test


def get(name: str) -> Integration:
    return BY_NAME[name]


def hooks(integ: Integration) -> Hooks:
    return import_module(integ.service).HOOKS


def cfg(integ: Integration, key: str) -> Any:
    """A tunable: the app config, else the integration's default."""
    value = current_app.config.get(key)
    return hooks(integ).defaults.get(key) if value in (None, "") else value


# ---------------------------------------------------------------------------- credentials


def credentials(integ: Integration) -> Values:
    """Every field of the integration, database values winning over the environment."""
    return {f.key: settings.get(f.key) for f in integ.fields}


def is_configured(integ: Integration, values: Values | None = None) -> bool:
    values = credentials(integ) if values is None else values
    check = hooks(integ).configured
    if check is not None:
        return bool(check(values))
    return all(values.get(key) for key in integ.required)


# ---------------------------------------------------------------------------- client


def client_options(integ: Integration, options: dict[str, Any]) -> dict[str, Any]:
    """The options every client takes, where the integration set none: retries, timeouts,
    the pace of its rate budget and the budget store shared by every process."""
    config = current_app.config
    options.setdefault("retry_attempts", int(config.get("RETRY_ATTEMPTS", 3)))
    options.setdefault("retry_delay", float(config.get("RETRY_DELAY", 1.0)))
    connect, read = integ.timeouts
    if connect and read:
        options.setdefault("timeout", (float(cfg(integ, connect)), float(cfg(integ, read))))
    if integ.rate_budget is not None:
        pace = cfg(integ, integ.rate_budget.setting)
        if pace in (None, ""):
            pace = integ.rate_budget.per_second
        options.setdefault("throttle_per_second", float(pace) or None)
    options.setdefault("budget_store", rate_budget.store())
    return options


def build_client(integ: Integration, values: Values | None = None, **options: Any):
    """A client from the current settings (or ``values``), on the account's shared budget."""
    values = credentials(integ) if values is None else values
    own = hooks(integ).options
    if own is not None:
        own(values, options)  # its own defaults win over the common ones
    return hooks(integ).client(values, **client_options(integ, options))


def client_for_sync(integ: Integration):
    """The client a syncer uses; ``SyncNotConfigured`` (pt-BR) while it cannot run."""
    values = credentials(integ)
    blocker = hooks(integ).sync_blocker
    reason = blocker(values) if blocker else None
    if reason is None and not is_configured(integ, values):
        reason = hooks(integ).missing_message
    if reason:
        raise sync.SyncNotConfigured(reason)
    return build_client(integ, values)


def test_connection(
    integ: Integration, values: Values | None = None, *, record: bool | None = None
) -> ConnectionResult:
    """What "Testar conexão" shows. Never raises.

    ``values`` replaces the configured credentials (typed into a form, not saved); only a
    test of the configured ones is recorded for the status card (unless ``record`` says)."""
    own = hooks(integ)
    typed = values is not None
    values = credentials(integ) if values is None else values
    details = own.details(values) if own.details else {}
    testable = own.testable or (lambda v: is_configured(integ, v))
    if not testable(values):
        result = ConnectionResult(False, own.missing_message, own.missing_code, details)
    else:
        try:
            with build_client(integ, values) as client:
                result = client.test_connection()
        except Exception:
            log.exception("%s connection test crashed", integ.label)
            result = ConnectionResult(False, own.crash_message, "error", details)
    if record if record is not None else not typed:
        integration_status.record(integ, result.success, result.code, result.message, values)
    return result


test_connection.__test__ = False  # not a pytest test


# ---------------------------------------------------------------------------- syncers


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def register_syncers(integ: Integration) -> None:
    """Register each declared resource's syncer; its outcome feeds the status card."""
    for resource in integ.resources:
        sync.register(
            integ.name,
            resource.name,
            integration_status.recording(integ, _resolve(resource.syncer)),
            resource.label,
            interval=resource.interval,
            enabled=lambda integ=integ: is_configured(integ),
            source_label=integ.label,
        )


def resource_labels(integ: Integration) -> dict[str, str]:
    return {r.name: r.label for r in integ.resources}


def sync_rows(integ: Integration) -> list[dict[str, Any]]:
    """The page's "Sincronizar" rows: label, URL, interval, last run, the run going on."""
    latest = sync.latest_runs()
    return [
        {
            "resource": r.name,
            "label": r.label,
            "url": integ.sync_url_for(r.name),
            "interval_hours": r.interval // 3600,
            "last": latest.get((integ.name, r.name)),
            "active": sync.active_run(integ.name, r.name),
        }
        for r in integ.resources
    ]


def sync_status(integ: Integration) -> dict[str, Any]:
    """Latest run and the active one (if any) of each resource, as JSON-ready dicts."""
    return {
        row["resource"]: {
            "last": row["last"].to_dict() if row["last"] else None,
            "active": row["active"].to_dict() if row["active"] else None,
        }
        for row in sync_rows(integ)
    }


# ---------------------------------------------------------------------------- page


def overview(integ: Integration) -> dict[str, Any]:
    """Configuration facts for the page: which settings are set and where from (never a
    value), plus the integration's own facts (``Hooks.overview``)."""
    values = credentials(integ)
    info = {
        "configured": is_configured(integ, values),
        "sources": {f.key: settings.source(f.key) for f in integ.fields},
    }
    own = hooks(integ)
    if own.overview is not None:
        info.update(own.overview(values))
    problem = own.known_problem(values) if own.known_problem and info["configured"] else None
    info["status"] = integration_status.status(integ, info["configured"], values, problem)
    return info
