"""Activation funnel and conversion: SQL aggregates, not Python loops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal_column, select

from app.extensions import db
from app.models import ActivationLink
from app.models.activation import (
    LINK_EXPIRED,
    LINK_PENDING,
    LINK_REVOKED,
    LINK_USED,
    REASON_EMAIL_CHANGED,
    REASON_REPLACED,
)
from app.models.types import utcnow

# A resend or an e-mail correction replaces a link: count each issuance chain once.
REPLACED = (REASON_REPLACED, REASON_EMAIL_CHANGED)


@dataclass
class Funnel:
    created: int
    sent: int
    opened: int
    used: int
    expired: int
    revoked: int
    pending: int
    median_seconds_to_activate: float | None

    @property
    def conversion(self) -> float:
        return self.used / self.created if self.created else 0.0


def _chain_filter():
    return func.coalesce(ActivationLink.revoked_reason, "").not_in(REPLACED)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _seconds_between(later, earlier):
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _local_day(column):
    """Calendar day in America/Sao_Paulo (UTC-3, no daylight saving since 2019)."""
    if _dialect() == "postgresql":
        return func.to_char(func.timezone("America/Sao_Paulo", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "-3 hours")


def _counts_columns():
    now = utcnow()
    status = ActivationLink.status
    expired = (status == LINK_EXPIRED) | (
        (status == LINK_PENDING) & (ActivationLink.expires_at <= now)
    )
    pending = (status == LINK_PENDING) & (ActivationLink.expires_at > now)
    return (
        func.count(ActivationLink.id).label("created"),
        func.count(ActivationLink.sent_at).label("sent"),
        func.count(ActivationLink.opened_at).label("opened"),
        func.sum(case((status == LINK_USED, 1), else_=0)).label("used"),
        func.sum(case((expired, 1), else_=0)).label("expired"),
        func.sum(case((status == LINK_REVOKED, 1), else_=0)).label("revoked"),
        func.sum(case((pending, 1), else_=0)).label("pending"),
    )


def _where(since: datetime | None, platform: str | None, product_id: str | None):
    conditions = [_chain_filter(), ActivationLink.is_test.is_(False)]
    if since is not None:
        conditions.append(ActivationLink.created_at >= since)
    if platform:
        conditions.append(ActivationLink.platform == platform)
    if product_id:
        conditions.append(ActivationLink.product_id == product_id)
    return conditions


def median_time_to_activate(conditions) -> float | None:
    seconds = _seconds_between(ActivationLink.used_at, ActivationLink.created_at)
    used = [*conditions, ActivationLink.status == LINK_USED, ActivationLink.used_at.is_not(None)]
    total = db.session.scalar(select(func.count()).select_from(ActivationLink).where(*used))
    if not total:
        return None
    # Median with ORDER BY/OFFSET: portable across SQLite and PostgreSQL.
    middle = select(seconds.label("s")).where(*used).order_by(seconds)
    if total % 2:
        value = db.session.scalar(middle.offset(total // 2).limit(1))
        return float(value)
    pair = db.session.scalars(middle.offset(total // 2 - 1).limit(2)).all()
    return float(sum(pair) / 2)


def funnel(
    since: datetime | None = None, platform: str | None = None, product_id: str | None = None
) -> Funnel:
    conditions = _where(since, platform, product_id)
    row = db.session.execute(select(*_counts_columns()).where(*conditions)).one()
    return Funnel(
        created=row.created or 0,
        sent=row.sent or 0,
        opened=row.opened or 0,
        used=row.used or 0,
        expired=row.expired or 0,
        revoked=row.revoked or 0,
        pending=row.pending or 0,
        median_seconds_to_activate=median_time_to_activate(conditions),
    )


def by_platform(since: datetime | None = None) -> list[dict]:
    stmt = (
        select(ActivationLink.platform, *_counts_columns())
        .where(*_where(since, None, None))
        .group_by(ActivationLink.platform)
        .order_by(ActivationLink.platform)
    )
    return [_row_dict(r, key=r.platform) for r in db.session.execute(stmt)]


def by_product(since: datetime | None = None, limit: int = 20) -> list[dict]:
    name = func.max(ActivationLink.product_name).label("product_name")
    stmt = (
        select(ActivationLink.platform, ActivationLink.product_id, name, *_counts_columns())
        .where(*_where(since, None, None))
        .group_by(ActivationLink.platform, ActivationLink.product_id)
        .order_by(literal_column("created").desc())
        .limit(limit)
    )
    return [
        _row_dict(
            r, key=f"{r.platform}:{r.product_id}", product_name=r.product_name, platform=r.platform
        )
        for r in db.session.execute(stmt)
    ]


def by_day(days: int = 30, fill: bool = False) -> list[dict]:
    """Per local (São Paulo) day; with ``fill`` every day of the period appears, zeros included."""
    since = utcnow() - timedelta(days=days)
    day = _local_day(ActivationLink.created_at).label("day")
    stmt = (
        select(day, *_counts_columns())
        .where(*_where(since, None, None))
        .group_by(day)
        .order_by(day)
    )
    rows = [_row_dict(r, key=r.day) for r in db.session.execute(stmt)]
    if not fill:
        return rows
    from app.formatting import local

    found = {r["key"]: r for r in rows}
    first = local(since).date()
    result = []
    for offset in range(days + 1):
        key = (first + timedelta(days=offset)).isoformat()
        result.append(found.get(key) or _row_dict(_Zero(), key=key))
    return result


class _Zero:
    created = sent = opened = used = expired = revoked = pending = 0


def _row_dict(row, key, **extra) -> dict:
    created = row.created or 0
    used = row.used or 0
    return {
        "key": key,
        "created": created,
        "sent": row.sent or 0,
        "opened": row.opened or 0,
        "used": used,
        "expired": row.expired or 0,
        "revoked": row.revoked or 0,
        "pending": row.pending or 0,
        "conversion": used / created if created else 0.0,
        **extra,
    }
