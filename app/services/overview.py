"""Figures for the operator's overview page (SQL aggregates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEmail, Sale, SalesDaily, WebhookEvent
from app.models.outbox import OUTBOX_FAILED, OUTBOX_PENDING
from app.models.sales import GRANTING_STATUSES, REVOKED_STATUSES
from app.models.types import utcnow
from app.models.webhooks import EVENT_FAILED
from app.services import stats


@dataclass
class Overview:
    days: int
    approved_count: int
    revenue_cents: int
    revoked_count: int
    funnel: stats.Funnel
    failed_webhooks: int
    webhooks_today: int
    emails_pending: int
    emails_failed: int
    recent_sales: list[Sale]


def approved_totals(since: datetime, until: datetime | None = None) -> tuple[int, int]:
    """Count and BRL revenue of the non-test sales granting access whose time is >= since
    (and < until, a São Paulo midnight): whole São Paulo days from the ``sales_daily``
    summary, the partial first day from the sales themselves (by the ``ix_sales_when_id``
    index)."""
    from app.formatting import local
    from app.services.stats import _next_local_midnight

    boundary = _next_local_midnight(since)
    last_day = [SalesDaily.day < local(until).date().isoformat()] if until is not None else []
    summary = db.session.execute(
        select(
            func.coalesce(func.sum(SalesDaily.n), 0),
            func.coalesce(func.sum(SalesDaily.amount_cents), 0),
        ).where(
            SalesDaily.day >= local(boundary).date().isoformat(),
            SalesDaily.status.in_(GRANTING_STATUSES),
            SalesDaily.currency.in_(("BRL", "")),
            SalesDaily.is_test.is_(False),
            *last_day,
        )
    ).one()
    when = Sale.listed_at
    edge = db.session.execute(
        select(func.count(Sale.id), func.coalesce(func.sum(Sale.amount_cents), 0)).where(
            Sale.status.in_(GRANTING_STATUSES),
            when >= since,
            when < (min(boundary, until) if until is not None else boundary),
            func.coalesce(Sale.currency, "BRL") == "BRL",
            Sale.is_test.is_(False),
        )
    ).one()
    return int(summary[0]) + int(edge[0] or 0), int(summary[1]) + int(edge[1] or 0)


def build(days: int = 30, since: datetime | None = None, until: datetime | None = None):
    """The overview's figures for the ``days`` before now, or from ``since`` to ``until``."""
    since = since if since is not None else utcnow() - timedelta(days=days)
    when = Sale.listed_at
    approved = approved_totals(since, until)
    revoked_when = [Sale.status_at >= since]
    if until is not None:
        revoked_when.append(Sale.status_at < until)
    revoked = db.session.scalar(
        select(func.count(Sale.id)).where(
            Sale.status.in_(REVOKED_STATUSES),
            Sale.approved_at.is_not(None),  # only sales that had granted access
            *revoked_when,
            Sale.is_test.is_(False),
        )
    )
    outbox_counts = dict(
        db.session.execute(
            select(OutboxEmail.status, func.count(OutboxEmail.id))
            .where(OutboxEmail.status.in_((OUTBOX_PENDING, OUTBOX_FAILED)))
            .group_by(OutboxEmail.status)
        ).all()
    )
    return Overview(
        days=days,
        approved_count=approved[0],
        revenue_cents=approved[1],
        revoked_count=revoked or 0,
        funnel=stats.funnel(since=since, until=until),
        failed_webhooks=db.session.scalar(
            select(func.count(WebhookEvent.id)).where(WebhookEvent.status == EVENT_FAILED)
        )
        or 0,
        webhooks_today=db.session.scalar(
            select(func.count(WebhookEvent.id)).where(
                WebhookEvent.received_at >= utcnow() - timedelta(hours=24)
            )
        )
        or 0,
        emails_pending=outbox_counts.get(OUTBOX_PENDING, 0),
        emails_failed=outbox_counts.get(OUTBOX_FAILED, 0),
        recent_sales=list(
            db.session.scalars(
                select(Sale)
                .where(Sale.is_test.is_(False))
                .order_by(when.desc(), Sale.id.desc())
                .limit(8)
            )
        ),
    )
