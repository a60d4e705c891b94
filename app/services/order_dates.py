"""Order dates for sales recorded before ``sales.ordered_at`` existed (``flask sales
backfill-order-dates``).

A sale's order date comes from the platform's payload; webhooks keep theirs (``raw_body``), so
an old sale gets it back by parsing its stored deliveries again with the same source parser
the receiver uses. The other products of one purchase (``parent_transaction_id``) share the
main transaction's deliveries. Synced sales keep no payload: a full sync of that platform
writes their order date (the sync mapping carries it), so they are only counted here.

Rows are updated through the ORM, so the ``sales_daily`` triggers move each sale to its order
day in the summaries, as for a live update.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Sale, WebhookEvent
from app.services.webhook_processing import stored_event
from app.sources import SOURCES
from app.sources.events import InvalidPayload, MalformedPayload

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class BackfillResult:
    filled: int = 0  # order date found in a stored webhook
    without_payload: int = 0  # no stored webhook has one (synced sales, or dateless payloads)


def _order_date(rows: list[WebhookEvent]):
    """The first order date among ``rows`` (oldest delivery first), parsed again."""
    for row in rows:
        if row.platform not in SOURCES:
            continue
        try:
            event = stored_event(row)
        except (InvalidPayload, MalformedPayload, ValueError) as exc:
            log.info("order date: webhook %s not parsed again (%s)", row.id, type(exc).__name__)
            continue
        if event.ordered_at is not None:
            return event.ordered_at
    return None


def backfill(batch: int = BATCH) -> BackfillResult:
    """Fill ``ordered_at`` of every sale without one that a stored webhook can date.
    Idempotent; commits per batch (a large table is not one long transaction)."""
    result = BackfillResult()
    last_id = 0
    while True:
        sales = db.session.scalars(
            select(Sale)
            .where(Sale.ordered_at.is_(None), Sale.id > last_id)
            .order_by(Sale.id)
            .limit(batch)
        ).all()
        if not sales:
            return result
        last_id = sales[-1].id
        keys = {s.transaction_id for s in sales} | {
            s.parent_transaction_id for s in sales if s.parent_transaction_id
        }
        events = db.session.scalars(
            select(WebhookEvent)
            .where(
                or_(
                    WebhookEvent.sale_id.in_([s.id for s in sales]),
                    WebhookEvent.transaction_id.in_(keys),
                )
            )
            .order_by(WebhookEvent.received_at, WebhookEvent.id)
        ).all()
        by_sale: dict[int, list[WebhookEvent]] = {}
        by_tx: dict[tuple[str, str], list[WebhookEvent]] = {}
        for e in events:
            if e.sale_id is not None:
                by_sale.setdefault(e.sale_id, []).append(e)
            if e.transaction_id:
                by_tx.setdefault((e.platform, e.transaction_id), []).append(e)
        for sale in sales:
            rows = list(by_sale.get(sale.id, ()))
            rows += by_tx.get((sale.platform, sale.transaction_id), [])
            if sale.parent_transaction_id:
                rows += by_tx.get((sale.platform, sale.parent_transaction_id), [])
            when = _order_date(rows)
            if when is None:
                result.without_payload += 1
            else:
                sale.ordered_at = when
                result.filled += 1
        db.session.commit()
