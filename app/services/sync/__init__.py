"""Sync engine: a registry of syncers, ``SyncRun`` bookkeeping, background runs and progress.

An integration plugs in with::

    from app.services import bulk, prefetch, sync

    def sync_products(ctx: sync.SyncContext, full: bool) -> None:
        since = None if full else ctx.last_success_at   # incremental when possible
        ctx.set_total(total)                             # when the API says how many
        with prefetch.ahead(pages) as it:                # the next page is fetched meanwhile
            for page in it:
                ctx.check_cancel()                       # raises sync.Canceled when asked to stop
                bulk.upsert_page(ctx, Model, rows)       # one statement + one commit per page,
                                                         # counts created/updated/unchanged/failed

    sync.register("hotmart", "products", sync_products, "Produtos",
                  interval=3600, enabled=lambda: hotmart_configured(),
                  source_label="Hotmart")

Progress, counts and the heartbeat are written on their own short transactions (not the
syncer's session), at most every ``SYNC_PROGRESS_INTERVAL`` seconds, so the polling UI sees them
while the syncer's own work stays in its hands. Raise ``SyncError`` with a pt-BR message for
failures the operator should read; any other exception is recorded as an unexpected error
(never with a stack trace, which goes to the log).

Every ``ctx`` call doubles as the heartbeat: call one at least every few minutes (page by page
is plenty), or the run is taken for dead after ``SYNC_STALE_MINUTES`` and marked failed.
Source names use underscores (``gestao_click``); the CLI also accepts ``gestao-click``.

The package, by job: ``registry`` (syncers and errors), ``context`` (``SyncContext``),
``runner`` (start/run/reprocess/execute/finish, cancel, stale runs), ``pool`` (background
threads), ``history`` (queries over ``SyncRun``).
"""

from __future__ import annotations

from app.services.sync.context import COUNT_KINDS, DEFAULT_PROGRESS_INTERVAL, SyncContext
from app.services.sync.history import (
    active_run,
    active_runs,
    get_run,
    history_query,
    incremental_cursor,
    known_sources,
    last_success,
    latest_runs,
    recent_failures,
)
from app.services.sync.pool import DEFAULT_WORKERS, wait_idle
from app.services.sync.registry import (
    Canceled,
    Syncer,
    SyncError,
    SyncNotConfigured,
    UnknownSyncer,
    get_syncer,
    normalize_source,
    register,
    resource_label,
    source_label,
    sources,
    syncers,
    unregister,
)
from app.services.sync.runner import (
    DEFAULT_STALE_MINUTES,
    ERROR_MAX,
    STALE_ERROR,
    _execute,
    cancel,
    error_text,
    is_operator_error,
    mark_stale_runs,
    reprocess,
    run_sync,
    stale_after,
    start_run,
)

__all__ = [
    "COUNT_KINDS",
    "DEFAULT_PROGRESS_INTERVAL",
    "DEFAULT_STALE_MINUTES",
    "DEFAULT_WORKERS",
    "ERROR_MAX",
    "STALE_ERROR",
    "Canceled",
    "SyncContext",
    "SyncError",
    "SyncNotConfigured",
    "Syncer",
    "UnknownSyncer",
    "_execute",
    "active_run",
    "active_runs",
    "cancel",
    "error_text",
    "get_run",
    "get_syncer",
    "history_query",
    "incremental_cursor",
    "is_operator_error",
    "known_sources",
    "last_success",
    "latest_runs",
    "mark_stale_runs",
    "normalize_source",
    "recent_failures",
    "register",
    "reprocess",
    "resource_label",
    "run_sync",
    "source_label",
    "sources",
    "stale_after",
    "start_run",
    "syncers",
    "unregister",
    "wait_idle",
]
