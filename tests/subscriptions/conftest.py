"""A small known set of subscriptions across months (São Paulo time) for the report tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Subscription
from app.models.types import utcnow
from app.services import subscriptions


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def make(code: str, **fields) -> Subscription:
    defaults = {
        "platform": "hotmart",
        "subscriber_code": code,
        "product_id": "P1",
        "product_name": "Clube Exemplo",
        "plan_name": "Plano Mensal",
        "frequency": "monthly",
        "currency": "BRL",
        "buyer_email": f"{code.lower()}@example.com",
        "buyer_name": f"Assinante {code}",
        "state": "active",
    }
    defaults.update(fields)
    sub = Subscription(**defaults)
    sub.mrr_cents = subscriptions.monthly_cents(sub.price_cents, sub.frequency)
    db.session.add(sub)
    return sub


@pytest.fixture
def known(app):
    """Six subscriptions whose movement is worked out by hand:

    * F kiwify monthly R$ 80, Jan, overdue (still a subscriber)
    * A monthly R$ 100 from 2026-03-01 02:00 UTC = 28/02 23:00 in São Paulo → February
    * D monthly R$ 50 from Feb, canceled 05/03, back 20/04 (reactivation)
    * B annual R$ 1.200 (R$ 100/month) from 10/03, canceled 15/04
    * C quarterly R$ 300 (R$ 100/month) from 20/03
    * T a test delivery: never counted
    """
    now = utcnow()
    make(
        "F",
        platform="kiwify",
        product_id="K1",
        product_name="Mentoria",
        price_cents=8000,
        accession_date=utc(2026, 1, 15, 12),
        state="overdue",
        date_next_charge=now - timedelta(days=3),
    )
    make(
        "A",
        price_cents=10000,
        accession_date=utc(2026, 3, 1, 2),
        date_next_charge=now + timedelta(days=5),
    )
    d = make(
        "D",
        price_cents=5000,
        accession_date=utc(2026, 2, 10, 12),
        state="canceled",
        canceled_at=utc(2026, 3, 5, 12),
        date_next_charge=now - timedelta(days=1),
    )
    b = make(
        "B",
        plan_name="Plano Anual",
        frequency="annual",
        price_cents=120000,
        accession_date=utc(2026, 3, 10, 12),
    )
    make(
        "C",
        plan_name="Plano Trimestral",
        frequency="quarterly",
        price_cents=30000,
        accession_date=utc(2026, 3, 20, 12),
        date_next_charge=now + timedelta(days=40),
    )
    make("T", price_cents=99900, accession_date=utc(2026, 3, 2, 12), is_test=True)
    db.session.commit()
    subscriptions.settle_pending()
    d.state, d.state_at, d.canceled_at = "active", utc(2026, 4, 20, 12), None
    b.state, b.canceled_at = "canceled", utc(2026, 4, 15, 12)
    db.session.commit()
    subscriptions.settle_pending()
    return {s.subscriber_code: s for s in db.session.query(Subscription)}
