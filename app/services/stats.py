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


def _median_since(since: datetime | None) -> float | None:
    """The funnel's median time to activate from the ``activation_hours`` histogram: find the
    hour holding the middle rank(s), then read only that hour's exact values (by the
    ``ix_activation_links_used_hour`` index). Equal to ``median_time_to_activate``."""
    from app.formatting import local
    from app.models import ActivationHour as H
    from app.services.summaries import used_hours

    hours = literal_column(used_hours(_dialect(), "activation_links"))
    used = [
        *_where(since, None, None),
        ActivationLink.status == LINK_USED,
        ActivationLink.used_at.is_not(None),
    ]
    histogram: dict[int, int] = {}
    where = []
    if since is not None:
        boundary = _next_local_midnight(since)
        where.append(H.day >= local(boundary).date().isoformat())
        edge = select(hours.label("h"), func.count().label("n")).where(
            *used, ActivationLink.created_at < boundary
        )
        for h, n in db.session.execute(edge.group_by(hours)):
            histogram[h] = histogram.get(h, 0) + n
    for h, n in db.session.execute(select(H.hours, func.sum(H.n)).where(*where).group_by(H.hours)):
        histogram[h] = histogram.get(h, 0) + int(n or 0)
    total = sum(histogram.values())
    if total <= 0:
        return None
    ranks = (total // 2,) if total % 2 else (total // 2 - 1, total // 2)
    seconds = _seconds_between(ActivationLink.used_at, ActivationLink.created_at)
    # Which hour holds each middle rank, and where in it (both ranks often share an hour:
    # then one read of two values).
    wanted: dict[int, list[int]] = {}
    before = 0
    for h in sorted(histogram):
        for rank in ranks:
            if before <= rank < before + histogram[h]:
                wanted.setdefault(h, []).append(rank - before)
        before += histogram[h]
    values = []
    for h, offsets in wanted.items():
        stmt = (
            select(seconds)
            .where(*used, hours == h)
            .order_by(seconds)
            .offset(min(offsets))
            .limit(max(offsets) - min(offsets) + 1)
        )
        values += [float(v) for v in db.session.scalars(stmt)]
    return sum(values) / len(values)


COUNT_NAMES = ("created", "sent", "opened", "used", "expired", "revoked", "pending")


def _next_local_midnight(moment: datetime) -> datetime:
    from datetime import time as time_of_day

    from app.formatting import DISPLAY_TZ, local

    day = local(moment).date() + timedelta(days=1)
    return datetime.combine(day, time_of_day(), DISPLAY_TZ)


def _link_groups(
    since: datetime | None,
    platform: str | None,
    product_id: str | None,
    keys: tuple[str, ...],
    until: datetime | None = None,
) -> dict[tuple, dict]:
    """Link counts grouped by ``keys`` (of "day", "platform", "product"), from the
    ``activation_daily`` summary for whole São Paulo days plus the links themselves for the
    partial first day of the window; pending links already past their expiry read as expired
    (the cleanup job marks them later). ``until`` (a São Paulo midnight) ends the window."""
    from app.models import ActivationDaily as D

    groups: dict[tuple, dict] = {}

    def add(key, counts, name=None, sign=1):
        entry = groups.setdefault(key, {**dict.fromkeys(COUNT_NAMES, 0), "product_name": None})
        for column, value in counts.items():
            entry[column] += sign * int(value or 0)
        if name and (entry["product_name"] is None or name > entry["product_name"]):
            entry["product_name"] = name

    summary_cols = {"day": D.day, "platform": D.platform, "product": D.product_id}
    link_cols = {
        "day": _local_day(ActivationLink.created_at),
        "platform": ActivationLink.platform,
        "product": func.coalesce(ActivationLink.product_id, ""),
    }
    # Whole days: the summary.
    where = []
    boundary = None
    if since is not None:
        boundary = _next_local_midnight(since)
        from app.formatting import local

        where.append(D.day >= local(boundary).date().isoformat())
    if platform:
        where.append(D.platform == platform)
    if product_id:
        where.append(D.product_id == product_id)
    if until is not None:
        from app.formatting import local

        where.append(D.day < local(until).date().isoformat())
    stmt = (
        select(
            *(summary_cols[k].label(k) for k in keys),
            func.max(case((D.created != 0, func.nullif(D.product_name, "")))).label("name"),
            *(func.sum(getattr(D, c)).label(c) for c in COUNT_NAMES),
        )
        .where(*where)
        .group_by(*(summary_cols[k] for k in keys))
    )
    for row in db.session.execute(stmt):
        add(tuple(row[: len(keys)]), {c: getattr(row, c) for c in COUNT_NAMES}, row.name)

    # Pending links of those days already expired: counted as expired. Only the range
    # status/expires_at is given to the database (the (status, expires_at) index: few rows,
    # those the cleanup job has not marked yet); the rest is filtered here.
    from app.formatting import local as to_local

    stale = select(
        ActivationLink.created_at,
        ActivationLink.platform,
        ActivationLink.product_id,
        ActivationLink.is_test,
        ActivationLink.revoked_reason,
    ).where(ActivationLink.status == LINK_PENDING, ActivationLink.expires_at <= utcnow())
    for created_at, link_platform, link_product, is_test, reason in db.session.execute(stale):
        if is_test or (reason or "") in REPLACED:
            continue
        if boundary is not None and created_at < boundary:
            continue
        if until is not None and created_at >= until:
            continue
        if (platform and link_platform != platform) or (product_id and link_product != product_id):
            continue
        values = {
            "day": to_local(created_at).date().isoformat(),
            "platform": link_platform,
            "product": link_product or "",
        }
        add(tuple(values[k] for k in keys), {"pending": -1, "expired": 1})

    # The partial first day: the links themselves.
    if boundary is not None:
        edge = (
            select(
                *(link_cols[k].label(k) for k in keys),
                func.max(ActivationLink.product_name).label("name"),
                *_counts_columns(),
            )
            .where(
                *_where(since, platform, product_id),
                ActivationLink.created_at < (min(boundary, until) if until else boundary),
            )
            .group_by(*(link_cols[k] for k in keys))
        )
        for row in db.session.execute(edge):
            add(tuple(row[: len(keys)]), {c: getattr(row, c) for c in COUNT_NAMES}, row.name)
    return {key: entry for key, entry in groups.items() if any(entry[c] for c in COUNT_NAMES)}


class _Counts:
    def __init__(self, entry: dict):
        for column in COUNT_NAMES:
            setattr(self, column, entry[column])


def funnel(
    since: datetime | None = None,
    platform: str | None = None,
    product_id: str | None = None,
    until: datetime | None = None,
) -> Funnel:
    """The funnel of links created from ``since`` (to ``until``, a São Paulo midnight)."""
    entry = _link_groups(since, platform, product_id, (), until=until).get(()) or dict.fromkeys(
        COUNT_NAMES, 0
    )
    if platform or product_id or until is not None:
        conditions = _where(since, platform, product_id)
        if until is not None:
            conditions.append(ActivationLink.created_at < until)
        median = median_time_to_activate(conditions)
    else:
        median = _median_since(since)
    return Funnel(**{c: entry[c] for c in COUNT_NAMES}, median_seconds_to_activate=median)


def by_platform(since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    groups = _link_groups(since, None, None, ("platform",), until=until)
    return [_row_dict(_Counts(groups[key]), key=key[0]) for key in sorted(groups)]


def by_product(
    since: datetime | None = None, limit: int = 20, until: datetime | None = None
) -> list[dict]:
    groups = _link_groups(since, None, None, ("platform", "product"), until=until)
    ranked = sorted(groups.items(), key=lambda item: (-item[1]["created"], item[0]))[:limit]
    result = []
    for (platform, product), entry in ranked:
        product_id = product or None
        result.append(
            _row_dict(
                _Counts(entry),
                key=f"{platform}:{product_id}",
                product_name=entry["product_name"],
                platform=platform,
            )
        )
    return result


def by_day(days: int = 30, fill: bool = False) -> list[dict]:
    """Per local (São Paulo) day; with ``fill`` every day of the period appears, zeros included."""
    since = utcnow() - timedelta(days=days)
    groups = _link_groups(since, None, None, ("day",))
    rows = [_row_dict(_Counts(groups[key]), key=key[0]) for key in sorted(groups)]
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
