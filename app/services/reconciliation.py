"""Reconciliation (SPEC §11): buyers who paid and never got access.

A *gap* is an approved sale (``approved``/``complete``, not a test, the main product of its
purchase) approved inside the window whose buyer has no active access to it and no pending,
unexpired activation link for it. ``problem`` says why:

* ``no_webhook`` — no webhook of that transaction was ever received: the sale is known only
  from the Hotmart history sync (the platform never delivered, or delivered elsewhere);
* ``not_activated`` — a webhook arrived but there is no usable link: the link expired or was
  revoked unused, the e-mail failed, the event failed, or the buyer has an account and the
  purchase was never attached.

Everything is SQL over indexes: ``ix_sales_main_approved`` (approved sales by date, real
main-product sales only) drives the window, and the ``NOT EXISTS`` probes use
``accesses.sale_id``, ``activation_links (sale_id, …)`` and ``webhook_events.transaction_id``.
Per-item details (latest link, its e-mail, failed events) are read for the shown page only.

``send_links`` issues at most one link per sale: each sale row is locked (``FOR UPDATE`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite — the same lock the webhook path takes) and the gap is
checked again under the lock, so two concurrent requests issue one link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, select, union_all

from app.extensions import db
from app.models import Access, ActivationLink, OutboxEmail, Sale, WebhookEvent
from app.models.activation import LINK_PENDING
from app.models.sales import ACCESS_ACTIVE
from app.models.types import utcnow
from app.models.webhooks import EVENT_FAILED
from app.services import activation, audit, bulk

log = logging.getLogger(__name__)

NO_WEBHOOK = "no_webhook"
NOT_ACTIVATED = "not_activated"
PROBLEMS = {
    NO_WEBHOOK: "Webhook nunca recebido",
    NOT_ACTIVATED: "Recebida, mas sem acesso",
}
APPROVED_STATUSES = ("approved", "complete")
DEFAULT_DAYS = 30
MAX_DAYS = 3660
MAX_SEND = 1000  # transaction ids per send-links request


class ReconciliationError(ValueError):
    """A readable pt-BR message for the operator (→ 400)."""


def _has_access():
    return exists().where(Access.sale_id == Sale.id, Access.status == ACCESS_ACTIVE)


def _unindexed(column):
    """The column as an expression no index matches: the probes below must go through their
    per-sale index (``sale_id``, ``transaction_id``), not a status or platform index that
    would scan every pending link or every event of the platform for each sale (SQLite's
    planner picks those without statistics)."""
    return func.coalesce(column, "")


def _has_pending_link(now: datetime):
    return exists().where(
        ActivationLink.sale_id == Sale.id,
        _unindexed(ActivationLink.status) == LINK_PENDING,
        ActivationLink.expires_at > now,
    )


def _has_webhook():
    return exists().where(
        WebhookEvent.transaction_id == Sale.transaction_id,
        _unindexed(WebhookEvent.platform) == Sale.platform,
    )


def _unserved(now: datetime) -> list:
    """A gap's conditions but its status."""
    return [
        Sale.is_test.is_(False),
        Sale.parent_transaction_id.is_(None),
        ~_has_access(),
        ~_has_pending_link(now),
    ]


def gap_conditions(now: datetime | None = None) -> list:
    """What makes an approved sale a gap, whatever its date (``send_links`` re-checks these)."""
    return [Sale.status.in_(APPROVED_STATUSES), *_unserved(now or utcnow())]


def _window(days: int, now: datetime, platform: str | None) -> list:
    """A gap's conditions in the window, but its status (each caller says how it reads it)."""
    where = [*_unserved(now), Sale.approved_at >= now - timedelta(days=days)]
    if platform:
        where.append(Sale.platform == platform)
    return where


def _newest_ids(
    days: int, now: datetime, platform: str | None, offset: int, limit: int | None
) -> list[int]:
    """Ids of the window's gaps ``offset`` .. ``offset + limit`` (all of them when ``limit``
    is None) by approval, newest first. One walk of ``ix_sales_main_approved`` per approved
    status, each stopping after ``offset + limit`` gaps, merged: under ``status IN (…)``
    neither database reads that index in approval order, and both probed and sorted every
    sale of the window first (33,705 of them for a 30-day page at 1M sales)."""
    where = _window(days, now, platform)
    walks = [
        select(Sale.id.label("id"), Sale.approved_at.label("approved_at"))
        .where(Sale.status == status, *where)
        .order_by(Sale.approved_at.desc(), Sale.id.desc())
        .limit(None if limit is None else offset + limit)
        .subquery()
        for status in APPROVED_STATUSES
    ]
    merged = union_all(*(select(walk.c.id, walk.c.approved_at) for walk in walks)).subquery()
    return list(
        db.session.scalars(
            select(merged.c.id)
            .order_by(merged.c.approved_at.desc(), merged.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def problem_expression():
    return case((_has_webhook(), NOT_ACTIVATED), else_=NO_WEBHOOK)


def count_gaps(days: int = DEFAULT_DAYS, *, platform: str | None = None, now=None) -> int:
    now = now or utcnow()
    stmt = (
        select(func.count())
        .select_from(Sale)
        .where(Sale.status.in_(APPROVED_STATUSES), *_window(days, now, platform))
    )
    return int(db.session.scalar(stmt) or 0)


def gap_ids(days: int = DEFAULT_DAYS, *, limit: int | None = None, now=None) -> list[int]:
    return _newest_ids(days, now or utcnow(), None, 0, limit or None)


@dataclass
class Gap:
    sale: Sale
    problem: str
    last_link_status: str | None = None
    email_status: str | None = None
    webhook_failed: bool = False

    def to_dict(self) -> dict:
        sale = self.sale
        return {
            "platform": sale.platform,
            "transaction_id": sale.transaction_id,
            "buyer_email": sale.buyer_email,
            "product_name": sale.product_name,
            "amount_cents": int(sale.amount_cents) if sale.amount_cents is not None else None,
            "approved_at": sale.approved_at.isoformat() if sale.approved_at else None,
            "problem": self.problem,
            # Extras (additive to SPEC §11): what the data model knows of the failure.
            "sale_id": sale.id,
            "currency": sale.currency,
            "last_link_status": self.last_link_status,
            "email_status": self.email_status,
            "webhook_failed": self.webhook_failed,
        }

    @property
    def problem_label(self) -> str:
        return PROBLEMS.get(self.problem, self.problem)

    @property
    def detail_label(self) -> str:
        """One pt-BR line on what went wrong, for the page."""
        parts = []
        if self.webhook_failed:
            parts.append("webhook com falha")
        if self.last_link_status:
            parts.append(
                {
                    "expired": "link expirou sem uso",
                    "revoked": "link revogado",
                    "pending": "link vencido",
                    "used": "link usado, acesso não concedido",
                }.get(self.last_link_status, f"link {self.last_link_status}")
            )
        elif self.problem == NOT_ACTIVATED:
            parts.append("nenhum link emitido")
        if self.email_status == "failed":
            parts.append("e-mail não entregue")
        elif self.email_status in ("pending", "sending"):
            parts.append("e-mail ainda na fila")
        return ", ".join(parts)


def with_details(rows) -> list[Gap]:
    """Gaps of one page, with their latest link, its e-mail and any failed event (3 queries)."""
    gaps = [Gap(sale, problem) for sale, problem in rows]
    if not gaps:
        return gaps
    ids = [g.sale.id for g in gaps]
    latest = (
        select(func.max(ActivationLink.id))
        .where(ActivationLink.sale_id.in_(ids))
        .group_by(ActivationLink.sale_id)
    )
    links = {
        sale_id: (link_id, status)
        for link_id, sale_id, status in db.session.execute(
            select(ActivationLink.id, ActivationLink.sale_id, ActivationLink.status).where(
                ActivationLink.id.in_(latest)
            )
        )
    }
    emails: dict[int, str] = {}
    link_ids = [link_id for link_id, _ in links.values()]
    if link_ids:
        for ref_id, status in db.session.execute(
            select(OutboxEmail.ref_id, OutboxEmail.status)
            .where(OutboxEmail.ref_type == "activation_link", OutboxEmail.ref_id.in_(link_ids))
            .order_by(OutboxEmail.id)
        ):
            emails[ref_id] = status
    failed = set(
        db.session.execute(
            select(WebhookEvent.platform, WebhookEvent.transaction_id).where(
                WebhookEvent.transaction_id.in_({g.sale.transaction_id for g in gaps}),
                WebhookEvent.status == EVENT_FAILED,
            )
        ).all()
    )
    for gap in gaps:
        link = links.get(gap.sale.id)
        if link is not None:
            gap.last_link_status = link[1]
            gap.email_status = emails.get(link[0])
        gap.webhook_failed = (gap.sale.platform, gap.sale.transaction_id) in failed
    return gaps


def page(days: int, page_no: int, limit: int, platform: str | None = None):
    """``(gaps of the page, total)``: the page's ids by ordered walks (``_newest_ids``), then
    their rows and problems, and the window's count (which probes every approved sale of the
    window: it grows with the gaps, the page does not)."""
    now = utcnow()
    ids = _newest_ids(days, now, platform, (page_no - 1) * limit, limit)
    rows = []
    if ids:
        found = {
            sale.id: (sale, problem)
            for sale, problem in db.session.execute(
                select(Sale, problem_expression().label("problem")).where(Sale.id.in_(ids))
            )
        }
        rows = [found[sale_id] for sale_id in ids if sale_id in found]
    total = count_gaps(days, platform=platform, now=now) if ids or page_no > 1 else 0
    return with_details(rows), total


def failed_webhooks(days: int = DEFAULT_DAYS) -> int:
    """Events stored as failed in the window (``ix_webhook_events_status_received``)."""
    since = utcnow() - timedelta(days=days)
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.status == EVENT_FAILED, WebhookEvent.received_at >= since)
        )
        or 0
    )


# ---------------------------------------------------------------------------------- sending


@dataclass
class SendResult:
    issued: int = 0  # new links e-mailed, plus purchases attached to an existing account
    attached: int = 0
    skipped: int = 0  # no longer a gap (a link or access exists now), a test, not found

    def to_dict(self) -> dict:
        return {
            "success": True,
            "issued": self.issued,
            "attached": self.attached,
            "skipped": self.skipped,
        }


def parse_send_body(payload) -> tuple[list[str] | None, bool]:
    """``{"transaction_ids": [...]}`` or ``{"all": true}`` → (ids, all); else a pt-BR error."""
    if not isinstance(payload, dict):
        raise ReconciliationError('Envie um JSON com "transaction_ids" (lista) ou "all": true.')
    if payload.get("all") is True:
        return None, True
    ids = payload.get("transaction_ids")
    if ids is None:
        raise ReconciliationError('Informe "transaction_ids" (lista de transações) ou "all": true.')
    if not isinstance(ids, list) or not ids:
        raise ReconciliationError('"transaction_ids" deve ser uma lista não vazia.')
    if len(ids) > MAX_SEND:
        raise ReconciliationError(f"No máximo {MAX_SEND} transações por envio.")
    clean = []
    for value in ids:
        if not isinstance(value, str) or not value.strip() or len(value) > 255:
            raise ReconciliationError(
                '"transaction_ids" deve conter apenas códigos de transação (texto).'
            )
        clean.append(value.strip())
    return list(dict.fromkeys(clean)), False


def candidates(transaction_ids: list[str] | None, days: int) -> list[int]:
    """Sale ids to try: the listed transactions (any date) or every gap of the window."""
    if transaction_ids is None:
        return gap_ids(days)
    stmt = (
        select(Sale.id)
        .where(Sale.transaction_id.in_(transaction_ids), *gap_conditions())
        .order_by(Sale.id)
    )
    return list(db.session.scalars(stmt))


def _lock_gap(sale_id: int) -> Sale | None:
    """The sale, locked, when it still is a gap; ``None`` otherwise."""
    bulk.begin_write()
    stmt = select(Sale).where(and_(Sale.id == sale_id, *gap_conditions()))
    if bulk.dialect_name() == "postgresql":
        # Lock the row first, then check again: a concurrent sender waits here and then finds
        # the link the first one issued.
        locked = db.session.scalar(select(Sale.id).where(Sale.id == sale_id).with_for_update())
        if locked is None:
            return None
    return db.session.scalar(stmt.execution_options(populate_existing=True))


def send_links(transaction_ids: list[str] | None, days: int = DEFAULT_DAYS) -> SendResult:
    """Issue and e-mail (through the outbox) a link for each sale still lacking access; one
    commit per sale, each issuance in the audit log."""
    result = SendResult()
    wanted = candidates(transaction_ids, days)
    if transaction_ids is not None:
        result.skipped += max(0, len(transaction_ids) - len(wanted))
    db.session.commit()  # end the read transaction: each sale gets its own write below
    for sale_id in wanted:
        try:
            sale = _lock_gap(sale_id)
            if sale is None or not sale.buyer_email:
                db.session.rollback()
                result.skipped += 1
                continue
            issued = activation.issue_for_sale(sale)
            if issued.reused or (issued.link is None and issued.attached_to is None):
                db.session.rollback()
                result.skipped += 1
                continue
            audit.record(
                audit.RECONCILIATION_LINK_SENT,
                target_type="sale",
                target_id=sale.id,
                details={
                    "platform": sale.platform,
                    "transaction_id": sale.transaction_id,
                    "email": sale.buyer_email,
                    "product": sale.product_name,
                    "attached": issued.attached_to is not None,
                    "reused": issued.reused,
                },
            )
            db.session.commit()
        except activation.ActivationError:
            db.session.rollback()
            result.skipped += 1
            continue
        result.issued += 1
        if issued.attached_to is not None:
            result.attached += 1
        log.info("reconciliation: access sent for sale %s", sale_id)
    from app.services import reconciliation_watch

    reconciliation_watch.refresh_snapshot()
    return result
