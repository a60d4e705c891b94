"""The syncers the app knows. Imported once by the app factory so the registry is filled.

The API integrations' syncers are the resources declared in ``app.registry`` (registered by
``app.services.integration.register_syncers``); the webhook replay is the app's own.
"""

from __future__ import annotations

from app.services import sync

WEBHOOK_REPLAY_LIMIT = 200
WEBHOOK_REPLAY_LIMIT_FULL = 10_000
REPLAY_FAILED = "O evento falhou de novo; veja o erro na página do evento, em Webhooks recebidos."


def replay_failed_webhooks(ctx: sync.SyncContext, full: bool) -> None:
    """Reprocess stored webhook events that failed (or got stuck) and still have attempts."""
    from app.models.webhooks import EVENT_IGNORED, EVENT_PROCESSED
    from app.services import outbox, webhooks

    limit = WEBHOOK_REPLAY_LIMIT_FULL if full else WEBHOOK_REPLAY_LIMIT
    ids = webhooks.replayable_ids(limit, backoff_over=False)
    ctx.set_total(len(ids))
    for event_id in ids:
        ctx.check_cancel()
        result = webhooks.process_due(event_id)  # claimed like a worker; commits; never raises
        status = result[1] if result else EVENT_IGNORED  # taken by a worker meanwhile
        if status == EVENT_PROCESSED:
            ctx.item("updated")
        elif status == EVENT_IGNORED:
            ctx.item("unchanged")
        else:
            ctx.item("failed")
            ctx.fail(event_id, REPLAY_FAILED)
    outbox.send_pending()  # activation e-mails queued by the replay (no-op without SMTP)


def load() -> None:
    """Register the built-in syncers (idempotent)."""
    from app.registry import INTEGRATIONS
    from app.services import integration

    for declared in INTEGRATIONS:
        integration.register_syncers(declared)
    sync.register(
        "webhooks",
        "failed",
        replay_failed_webhooks,
        "Reprocessar eventos com falha",
        source_label="Webhooks",
    )
