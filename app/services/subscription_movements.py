"""``subscription_movements``: what each subscription owes the MRR report, booked once.

``subscription_movements`` holds, per São Paulo month, platform, product and plan, how many
subscriptions started (``new``), ended (``churn``), came back (``reactivation``), changed
value (``expansion`` / ``contraction``) or moved to another plan (``switch_out`` under the
old plan, ``switch_in`` under the new one) and by how much monthly value. Each subscription
remembers what the movements already count of it (``counted_active``,
``counted_mrr_cents``, ``counted_plan_name``); ``settle`` books only the difference, so
re-applying an event or re-running a sync counts nothing twice. Each movement is also booked
under ``ALL`` for each of platform, product and plan (a small cube), so any mix of filters
reads one slice. A plan switch is the exception on the plan axis: every plan together
(``ALL``) keeps the subscriber and books only the value difference (expansion/contraction),
so the totals never count a switched subscriber twice.

``app.services.subscriptions`` keeps the subscriptions themselves up to date (webhook sales,
Hotmart's events, the sync) and calls ``settle`` + ``book`` on each one it changes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, or_, select

from app.extensions import db
from app.formatting import local
from app.models import Subscription, SubscriptionMovement
from app.models.types import utcnow
from app.services.bulk import insert_for
from app.sources.recurrence import monthly_cents

ACTIVE_STATES = ("active", "overdue")  # still a subscriber: counted in MRR
STATES = ("active", "overdue", "canceled", "ended", "pending")
KINDS = ("new", "reactivation", "switch_in", "expansion", "contraction", "switch_out", "churn")
ADDS = ("new", "reactivation", "switch_in", "expansion")  # the other kinds subtract
JOINS = ("new", "reactivation", "switch_in")  # a subscriber more on that slice
LEAVES = ("churn", "switch_out")  # a subscriber less
SWITCH_KINDS = ("switch_in", "switch_out")  # per plan only: never booked under every plan
ALL = "*"  # subscription_movements rows summed over every value of that dimension


def month_of(moment: datetime) -> str:
    """The São Paulo month (``YYYY-MM``) of a UTC moment."""
    return local(moment).strftime("%Y-%m")


Bucket = tuple[str, str, str, str, str]  # month, platform, product_id, plan_name, kind


def settle(sub: Subscription, now: datetime | None = None) -> dict[Bucket, list]:
    """The movements ``sub`` owes since it was last counted, and marks it counted.

    A subscriber still active on another plan than the one it is counted under switched:
    ``switch_out`` of the counted value under the old plan, ``switch_in`` of the new value
    under the new one, and the difference as expansion/contraction under every plan only.

    ``{(month, platform, product, plan, kind): [n, cents, product_name]}``."""
    out: dict[Bucket, list] = {}
    if sub.is_test:
        return out
    now = now or utcnow()
    active = sub.state in ACTIVE_STATES
    was, counted = sub.counted_active, sub.counted_mrr_cents or 0
    mrr = sub.mrr_cents or 0
    plan = (sub.plan_name or "")[:255]
    counted_plan = plan if sub.counted_plan_name is None else sub.counted_plan_name

    def add(kind: str, moment: datetime | None, cents: int, on_plan: str = plan) -> None:
        key = (month_of(moment or now), sub.platform, sub.product_id, on_plan, kind)
        entry = out.setdefault(key, [0, 0, sub.product_name or ""])
        entry[0] += 1
        entry[1] += cents

    def value_change(moment: datetime | None, on_plan: str) -> None:
        if mrr > counted:
            add("expansion", moment, mrr - counted, on_plan)
        elif mrr < counted:
            add("contraction", moment, counted - mrr, on_plan)

    started = sub.accession_date or sub.state_at or sub.created_at
    ended = sub.canceled_at or sub.state_at
    switched = bool(was) and active and plan != counted_plan
    if was is None:
        if active:
            add("new", started, mrr)
        elif sub.state in ("canceled", "ended") and sub.accession_date is not None:
            add("new", started, mrr)  # a history: it started, then it ended
            add("churn", ended or started, mrr)
        elif sub.state == "pending":
            return out  # not paid yet: counted once it is
    elif was and not active and sub.state != "pending":
        add("churn", ended, counted, counted_plan)  # where it was counted
    elif not was and active:
        add("reactivation", sub.state_at, mrr)
    elif switched:
        add("switch_out", sub.state_at, counted, counted_plan)
        add("switch_in", sub.state_at, mrr)
        value_change(sub.state_at, ALL)
    elif was and active and mrr != counted:
        value_change(sub.state_at, plan)
    if was is None or active != was or (active and (mrr != counted or switched)):
        sub.counted_active = active if sub.state != "pending" else was
        sub.counted_mrr_cents = mrr if active else counted
        sub.counted_plan_name = plan if active or was is None else counted_plan
    return out


def mrr_of(sub: Subscription) -> int:
    """Its monthly value in R$ cents; a plan charged in another currency adds none (the
    panel's money is reais, as in every report)."""
    if (sub.currency or "BRL").upper() != "BRL":
        return 0
    return monthly_cents(sub.price_cents, sub.frequency)


def book(moves: dict[Bucket, list]) -> None:
    """Add ``moves`` to ``subscription_movements``: one ``INSERT … ON CONFLICT DO UPDATE``
    (atomic increments) for every bucket, sent as one executemany."""
    if not moves:
        return
    table = SubscriptionMovement.__table__
    stmt = insert_for(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "platform", "product_id", "plan_name", "kind"],
        set_={
            "n": table.c.n + stmt.excluded.n,
            "mrr_cents": table.c.mrr_cents + stmt.excluded.mrr_cents,
            "product_name": stmt.excluded.product_name,
        },
    )
    cube: dict[Bucket, list] = {}
    for (month, platform, product_id, plan_name, kind), (n, cents, name) in moves.items():
        # Also under ALL for each dimension: any mix of filters reads one slice of rows. A
        # switch stays on its plans; its difference comes booked under ALL plans already.
        plans = (plan_name,) if plan_name == ALL or kind in SWITCH_KINDS else (plan_name, ALL)
        for p in (platform, ALL):
            for product in (product_id, ALL):
                for plan in plans:
                    entry = cube.setdefault((month, p, product, plan, kind), [0, 0, ""])
                    entry[0] += n
                    entry[1] += cents
                    entry[2] = name if product != ALL else ""
    rows = [
        {
            "month": month,
            "platform": platform,
            "product_id": product_id,
            "plan_name": plan_name,
            "kind": kind,
            "product_name": name[:255],
            "n": n,
            "mrr_cents": cents,
        }
        for (month, platform, product_id, plan_name, kind), (n, cents, name) in cube.items()
    ]
    db.session.execute(stmt, rows)


def settle_pending(platform: str | None = None, batch: int = 2000) -> int:
    """Count every subscription whose state or value changed since it was last counted (after
    a sync). Returns how many were settled; commits."""
    active = Subscription.state.in_(ACTIVE_STATES)
    plan = func.coalesce(Subscription.plan_name, "")
    stmt = (
        select(Subscription)
        .where(
            Subscription.is_test.is_(False),
            or_(
                Subscription.counted_active.is_(None),
                Subscription.counted_active != active,
                active & (Subscription.counted_mrr_cents != Subscription.mrr_cents),
                active & (func.coalesce(Subscription.counted_plan_name, plan) != plan),
            ),
        )
        .order_by(Subscription.id)
        .limit(batch)
    )
    if platform:
        stmt = stmt.where(Subscription.platform == platform)
    done, last_id = 0, 0
    while True:
        subs = db.session.scalars(stmt.where(Subscription.id > last_id)).all()
        if not subs:
            break
        moves: dict[Bucket, list] = defaultdict(lambda: [0, 0, ""])
        for sub in subs:
            for key, (n, cents, name) in settle(sub).items():
                entry = moves[key]
                entry[0] += n
                entry[1] += cents
                entry[2] = name
        book(dict(moves))
        db.session.commit()
        done += len(subs)
        last_id = subs[-1].id
    return done


def rebuild() -> int:
    """Recount every movement from the subscriptions as they are now (``flask subscriptions
    rebuild``): clears the movements and the counted marks, then settles everything."""
    db.session.execute(SubscriptionMovement.__table__.delete())
    db.session.execute(
        Subscription.__table__.update().values(
            counted_active=None, counted_mrr_cents=None, counted_plan_name=None
        )
    )
    db.session.commit()
    return settle_pending()
