"""Every claim and idle poll of the webhook inbox reads the backlog through the partial index
of pending events, not the whole inbox: at 100k processed events a poll walked all of them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from app.extensions import db
from app.models import WebhookEvent
from app.models.types import utcnow
from app.models.webhooks import (
    EVENT_FAILED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    PENDING_CONDITION,
)
from app.services import webhook_queue


def _plan(query) -> str:
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # a tiny table: force the choice
            return "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
        return "\n".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))


def test_the_condition_names_the_pending_statuses():
    assert PENDING_CONDITION == f"status IN ('{EVENT_RECEIVED}', '{EVENT_FAILED}')"
    assert set(webhook_queue.PENDING) == {EVENT_RECEIVED, EVENT_FAILED}


def test_claims_and_polls_read_the_pending_index(app):
    # An inbox as it is after a while: thousands processed, a few pending, with statistics
    # (which know only that ``status`` has a few values, not that most rows have one).
    now = utcnow()
    db.session.execute(
        WebhookEvent.__table__.insert(),
        [
            {
                "platform": "hotmart",
                "dedupe_key": f"k{n}",
                "kind": "purchase",
                "raw_body": "{}",
                "headers": {},
                "status": EVENT_PROCESSED if n > 2 else EVENT_RECEIVED,
                "attempts": 1,
                "received_at": now - timedelta(hours=1),
            }
            for n in range(3000)
        ],
    )
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    for grace, exhausted in ((webhook_queue.HANDOFF_GRACE, False), (timedelta(0), True)):
        due = webhook_queue._due(now, grace, exhausted=exhausted)
        for query in (
            select(WebhookEvent.id).where(due).limit(1),  # the idle poll
            select(WebhookEvent.id).where(due).order_by(WebhookEvent.id).limit(20),  # a claim
        ):
            plan = _plan(query)
            if db.engine.dialect.name == "sqlite":
                assert "SCAN webhook_events\n" not in plan + "\n", plan
                assert "ix_webhook_events_pending" in plan or "(status=?)" in plan, plan
            else:
                assert "Seq Scan" not in plan, plan


def test_the_pending_condition_selects_exactly_the_pending_events(app):
    for n, status in enumerate((EVENT_RECEIVED, EVENT_FAILED, EVENT_PROCESSED, "ignored")):
        db.session.add(
            WebhookEvent(
                platform="hotmart",
                dedupe_key=f"k{n}",
                kind="purchase",
                raw_body="{}",
                status=status,
                received_at=utcnow() - timedelta(hours=1),
            )
        )
    db.session.commit()
    statuses = db.session.scalars(
        select(WebhookEvent.status).where(webhook_queue._due(utcnow(), timedelta(0)))
    ).all()
    assert sorted(statuses) == [EVENT_FAILED, EVENT_RECEIVED]
