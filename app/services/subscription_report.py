"""/assinaturas and its JSON: active subscribers, MRR and its movement per São Paulo month,
churn rate, next charges and overdue subscriptions.

The monthly figures read ``subscription_movements`` (a few rows per month, whatever the
number of subscriptions): a month's MRR is the running sum of every movement up to it, its
churn rate the subscriptions that ended in it over every subscriber it had (those it began
with plus those that started or came back in it, so it never passes 100%). Lists read
``subscriptions`` through indexes (``ix_subscriptions_state_next`` for next charges and
overdue, the sort indexes for the table). Test deliveries never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Subscription, SubscriptionMovement
from app.models.types import utcnow
from app.paging import capped_count
from app.services.charts import MONTHS, DateRange
from app.services.subscription_movements import (
    ACTIVE_STATES,
    ADDS,
    ALL,
    JOINS,
    KINDS,
    LEAVES,
    STATES,
    month_of,
)

STATE_LABELS = {
    "active": "Ativa",
    "overdue": "Em atraso",
    "canceled": "Cancelada",
    "ended": "Encerrada",
    "pending": "Aguardando pagamento",
}
FREQUENCY_LABELS = {
    "weekly": "Semanal",
    "monthly": "Mensal",
    "bimonthly": "Bimestral",
    "quarterly": "Trimestral",
    "semiannual": "Semestral",
    "annual": "Anual",
}
KIND_LABELS = {
    "new": "Novas",
    "reactivation": "Reativadas",
    "switch_in": "Vieram de outro plano",
    "expansion": "Expansão",
    "contraction": "Redução",
    "switch_out": "Foram para outro plano",
    "churn": "Canceladas",
}
NEXT_CHARGE_DAYS = 30
NEXT_CHARGES_CAP = 1_000  # the card says "1.000+" beyond


@dataclass(frozen=True)
class Filters:
    platform: str = ""
    state: str = ""
    product: str = ""
    plan: str = ""

    @classmethod
    def from_args(cls, args, platforms) -> Filters:
        platform = (args.get("platform") or "").strip().lower()
        state = (args.get("status") or "").strip().lower()
        return cls(
            platform=platform if platform in platforms else "",
            state=state if state in STATES else "",
            product=_value(args.get("product"), 64),
            plan=_value(args.get("plan"), 255),
        )

    @property
    def args(self) -> dict:
        names = {"platform": self.platform, "status": self.state, "product": self.product}
        return {k: v for k, v in {**names, "plan": self.plan}.items() if v}


def _value(raw, limit: int) -> str:
    """A product or plan filter; the summary's own "every one" marker is no product name."""
    value = (raw or "").strip()[:limit]
    return "" if value == ALL else value


def _slice(f: Filters) -> list:
    """The ``subscription_movements`` rows of these filters (``ALL`` where none is set)."""
    M = SubscriptionMovement
    return [
        M.platform == (f.platform or ALL),
        M.product_id == (f.product or ALL),
        M.plan_name == (f.plan or ALL),
    ]


def _dimensions(model, f: Filters) -> list:
    terms = []
    if f.platform:
        terms.append(model.platform == f.platform)
    if f.product:
        terms.append(model.product_id == f.product)
    if f.plan:
        terms.append(model.plan_name == f.plan)
    return terms


def subscriptions_query(f: Filters):
    """The filtered subscriptions (tests left out), unordered."""
    stmt = select(Subscription).where(
        Subscription.is_test.is_(False), *_dimensions(Subscription, f)
    )
    if f.state:
        stmt = stmt.where(Subscription.state == f.state)
    return stmt


# ---------------------------------------------------------------- monthly movement


@dataclass
class Month:
    month: str  # YYYY-MM
    active_start: int = 0
    active_end: int = 0
    mrr_start: int = 0
    mrr_end: int = 0
    n: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    cents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def label(self) -> str:
        year, month = self.month.split("-")
        return f"{MONTHS[int(month) - 1]}/{year}"

    @property
    def base(self) -> int:
        """Everyone who was a subscriber at some point of the month: the opening subscribers
        plus the new, reactivated and (one plan) switched-in ones (the churn rate's
        denominator)."""
        return max(self.active_start, 0) + sum(self.n[kind] for kind in JOINS)

    @property
    def churn_rate(self) -> float | None:
        """Share of the month's subscribers (``base``) that ended in it, 0–1 (None: none to
        lose). A subscription that started and ended in the month counts in both terms, so
        a month of only new-and-canceled subscriptions is 100%, never more."""
        if self.base <= 0:
            return None
        return round(min(self.n["churn"] / self.base, 1.0), 4)

    @property
    def net_cents(self) -> int:
        return self.mrr_end - self.mrr_start

    @property
    def switches(self) -> bool:
        """Someone moved to or from this plan in the month."""
        return bool(self.n["switch_in"] or self.n["switch_out"])

    def to_dict(self) -> dict:
        return {
            "month": self.month,
            "active_start": self.active_start,
            "active_end": self.active_end,
            "mrr_start_cents": self.mrr_start,
            "mrr_end_cents": self.mrr_end,
            "net_cents": self.net_cents,
            "churn_rate": self.churn_rate,
            "churn_base": self.base,
            **{f"{kind}_count": self.n[kind] for kind in KINDS},
            **{f"{kind}_cents": self.cents[kind] for kind in KINDS},
        }


def months_between(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def movement(f: Filters, period: DateRange) -> list[Month]:
    """One ``Month`` per São Paulo month of ``period`` (empty months included)."""
    keys = months_between(period.start, period.end)
    M = SubscriptionMovement
    rows = db.session.execute(
        select(M.month, M.kind, func.sum(M.n), func.sum(M.mrr_cents))
        .where(*_slice(f), M.month <= keys[-1])
        .group_by(M.month, M.kind)
    ).all()
    by_month: dict[str, Month] = {key: Month(key) for key in keys}
    active = mrr = 0
    for month, kind, n, cents in sorted(rows, key=lambda r: r[0]):
        sign = 1 if kind in ADDS else -1
        n, cents = int(n or 0), int(cents or 0)
        if month < keys[0]:
            active += sign * n if kind in JOINS + LEAVES else 0
            mrr += sign * cents
            continue
        entry = by_month[month]
        entry.n[kind] += n
        entry.cents[kind] += cents
    for key in keys:
        entry = by_month[key]
        entry.active_start, entry.mrr_start = active, mrr
        active += sum(entry.n[k] for k in JOINS) - sum(entry.n[k] for k in LEAVES)
        mrr += sum(entry.cents[k] for k in ADDS) - sum(
            entry.cents[k] for k in KINDS if k not in ADDS
        )
        entry.active_end, entry.mrr_end = active, mrr
    return [by_month[key] for key in keys]


def movement_chart(months: list[Month]) -> dict:
    """MRR movement per month (R$): additions up, losses down (stacked bars)."""
    shown = [kind for kind in KINDS if any(m.cents[kind] for m in months)]
    datasets = [
        {
            "label": KIND_LABELS[kind],
            "data": [
                round((m.cents[kind] if kind in ADDS else -m.cents[kind]) / 100, 2) for m in months
            ],
        }
        for kind in shown
    ]
    return {
        "labels": [m.label for m in months],
        "datasets": datasets,
        "type": "bar",
        "stacked": True,
        "money": True,
        "empty": not shown,
    }


def mrr_chart(months: list[Month]) -> dict:
    """MRR at the end of each month (R$)."""
    return {
        "labels": [m.label for m in months],
        "datasets": [{"label": "MRR", "data": [round(m.mrr_end / 100, 2) for m in months]}],
        "type": "line",
        "money": True,
        "empty": not any(m.mrr_end for m in months),
    }


# ---------------------------------------------------------------- today's figures


@dataclass
class Summary:
    active: int
    mrr_cents: int
    overdue: int
    overdue_mrr_cents: int
    next_charges: list[Subscription]
    next_charges_total: int
    next_charges_capped: bool
    churn_rate: float | None  # the last month of the range

    def to_dict(self) -> dict:
        return {
            "active": self.active,
            "mrr_cents": self.mrr_cents,
            "overdue": self.overdue,
            "overdue_mrr_cents": self.overdue_mrr_cents,
            "churn_rate": self.churn_rate,
            "next_charges_total": self.next_charges_total,
            "next_charges": [to_dict(sub) for sub in self.next_charges],
        }


def _running_totals(f: Filters) -> tuple[int, int]:
    """Subscribers and MRR now: every movement ever, summed."""
    M = SubscriptionMovement
    sign = func.sum(db.case((M.kind.in_(ADDS), M.mrr_cents), else_=-M.mrr_cents))
    counted = func.sum(
        db.case(
            (M.kind.in_(JOINS), M.n),
            (M.kind.in_(LEAVES), -M.n),
            else_=0,
        )
    )
    return db.session.execute(select(counted, sign).where(*_slice(f))).one()


def summary(f: Filters, months: list[Month], limit: int = 10) -> Summary:
    """Subscribers and MRR now (the running sums), overdue and the next charges."""
    if months and months[-1].month >= month_of(utcnow()):
        active, mrr = months[-1].active_end, months[-1].mrr_end  # the range runs to today
    else:
        active, mrr = _running_totals(f)
    base = [Subscription.is_test.is_(False), *_dimensions(Subscription, f)]
    overdue, overdue_mrr = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Subscription.mrr_cents), 0)).where(
            Subscription.state == "overdue", *base
        )
    ).one()
    now = utcnow()
    upcoming = select(Subscription).where(
        Subscription.state == "active",
        Subscription.date_next_charge >= now,
        Subscription.date_next_charge < now + timedelta(days=NEXT_CHARGE_DAYS),
        *base,
    )
    total, capped = capped_count(upcoming, cap=NEXT_CHARGES_CAP)
    next_charges = db.session.scalars(
        upcoming.order_by(Subscription.date_next_charge, Subscription.id).limit(limit)
    ).all()
    return Summary(
        active=int(active or 0),
        mrr_cents=int(mrr or 0),
        overdue=int(overdue or 0),
        overdue_mrr_cents=int(overdue_mrr or 0),
        next_charges=list(next_charges),
        next_charges_total=total,
        next_charges_capped=capped,
        churn_rate=months[-1].churn_rate if months else None,
    )


def options() -> tuple[list[tuple[str, str]], list[str]]:
    """(product id, name) and plan names for the filters: the movements' per-product and
    per-plan slices (``ix_subscription_movements_slice``), a few rows per month."""
    M = SubscriptionMovement
    name = func.max(func.nullif(M.product_name, ""))
    products = db.session.execute(
        select(M.product_id, name)
        .where(M.platform == ALL, M.plan_name == ALL, M.product_id != ALL)
        .group_by(M.product_id)
        .order_by(name)
    ).all()
    plans = db.session.scalars(
        select(M.plan_name)
        .where(M.platform == ALL, M.product_id == ALL, M.plan_name.not_in((ALL, "")))
        .group_by(M.plan_name)
        .order_by(M.plan_name)
    ).all()
    return [(pid, label or pid) for pid, label in products], list(plans)


def to_dict(sub: Subscription) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": sub.id,
        "platform": sub.platform,
        "subscription_code": sub.subscriber_code,
        "buyer_email": sub.buyer_email,
        "buyer_name": sub.buyer_name,
        "product_id": sub.product_id,
        "product_name": sub.product_name,
        "plan_name": sub.plan_name,
        "frequency": sub.frequency,
        "state": sub.state,
        "status": sub.status,
        "price_cents": sub.price_cents,
        "mrr_cents": sub.mrr_cents,
        "currency": sub.currency,
        "started_at": iso(sub.accession_date),
        "next_charge_at": iso(sub.date_next_charge),
        "canceled_at": iso(sub.canceled_at),
        "active": sub.state in ACTIVE_STATES,
    }
