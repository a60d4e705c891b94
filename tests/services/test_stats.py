"""Conversion stats computed in SQL, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import time_machine

from app.extensions import db
from app.models import ActivationLink, Sale
from app.services import stats


def _sale(n: int, platform="hotmart", product="p1") -> Sale:
    sale = Sale(
        platform=platform,
        transaction_id=f"T{n}",
        status="approved",
        buyer_email=f"b{n}@example.com",
        product_id=product,
        product_name=product.upper(),
    )
    db.session.add(sale)
    db.session.flush()
    return sale


def _link(
    n,
    created,
    *,
    status="pending",
    used_after=None,
    sent=True,
    opened=False,
    platform="hotmart",
    product="p1",
    reason=None,
):
    sale = _sale(n, platform, product)
    link = ActivationLink(
        token_hash=f"{n:064d}",
        sale_id=sale.id,
        buyer_email=sale.buyer_email,
        platform=platform,
        product_id=product,
        product_name=product.upper(),
        status=status,
        created_at=created,
        expires_at=created + timedelta(days=7),
        sent_at=created if sent else None,
        opened_at=created if opened else None,
        used_at=created + used_after if used_after else None,
        revoked_reason=reason,
    )
    db.session.add(link)
    return link


def test_funnel_counts_conversion_and_median(app):
    base = datetime(2026, 11, 20, 12, tzinfo=UTC)
    _link(1, base, status="used", used_after=timedelta(hours=1), opened=True)
    _link(2, base, status="used", used_after=timedelta(hours=3), opened=True)
    _link(3, base, status="used", used_after=timedelta(hours=10), opened=True)
    _link(4, base, opened=True)
    _link(5, base - timedelta(days=10))  # pending but past expiry → counted as expired
    _link(6, base, status="revoked", reason="refunded", sent=False)
    _link(7, base, status="revoked", reason="replaced")  # a resend: not a new issuance
    db.session.commit()
    with time_machine.travel(base + timedelta(hours=12)):
        f = stats.funnel()
    assert (f.created, f.sent, f.opened, f.used) == (6, 5, 4, 3)
    assert (f.expired, f.revoked, f.pending) == (1, 1, 1)
    assert round(f.conversion, 3) == 0.5
    assert f.median_seconds_to_activate == 3 * 3600


def test_even_count_median_and_empty(app):
    assert stats.funnel().median_seconds_to_activate is None
    base = datetime(2026, 11, 20, 12, tzinfo=UTC)
    _link(1, base, status="used", used_after=timedelta(hours=2))
    _link(2, base, status="used", used_after=timedelta(hours=4))
    db.session.commit()
    assert stats.funnel().median_seconds_to_activate == 3 * 3600


def test_breakdowns_by_platform_product_and_local_day(app):
    # 01:30 UTC on the 21st is still the 20th in São Paulo.
    late = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    _link(1, late, platform="kiwify", product="k1", status="used", used_after=timedelta(minutes=5))
    _link(2, late + timedelta(hours=5), platform="kiwify", product="k1")
    _link(3, late, platform="hotmart", product="h1")
    db.session.commit()
    with time_machine.travel(late + timedelta(hours=6)):
        platforms = {r["key"]: r for r in stats.by_platform()}
        days = {r["key"]: r["created"] for r in stats.by_day(days=7)}
        products = stats.by_product()
    assert platforms["kiwify"]["created"] == 2 and platforms["kiwify"]["used"] == 1
    assert platforms["kiwify"]["conversion"] == 0.5
    assert days == {"2026-11-20": 2, "2026-11-21": 1}
    assert products[0]["key"] == "kiwify:k1" and products[0]["product_name"] == "K1"
    assert stats.funnel(platform="hotmart").created == 1
    assert stats.funnel(product_id="k1").used == 1
