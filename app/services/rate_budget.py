"""The app's shared rate-budget store: Redis when configured, the database otherwise.

``store()`` is what services hand to the clients they build (``budget_store=``): with
``RATELIMIT_STORAGE_URI=redis://…`` the ``limits`` moving window in Redis
(``app.clients.budget.RedisBudgetStore``), else ``DatabaseBudgetStore`` on the app's database.
Either way every gunicorn worker, host and CLI process of this app spends one budget per
remote account.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import Float, case, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.clients.budget import BudgetStore, RedisBudgetStore
from app.clients.throttle import BudgetPaused
from app.extensions import db
from app.models import RateBudgetSlot

log = logging.getLogger(__name__)

_EXTENSION_KEY = "vendas_rate_budget_store"
REDIS_SCHEMES = ("redis://", "rediss://", "redis+sentinel://", "redis+cluster://", "redis+unix://")


class DatabaseBudgetStore:
    """Budgets in ``rate_budgets``: one row per key, claimed by one atomic UPDATE.

    ``next_slot = max(next_slot, paused_until, now) + interval`` and the new value comes back
    with RETURNING, so two processes never get the same slot (the row lock serialises them on
    PostgreSQL, the write lock on SQLite). Each claim is its own short transaction on its own
    connection, never the caller's session.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.table = RateBudgetSlot.__table__

    def reserve(
        self, key: str, interval: float, now: float, max_wait: float | None
    ) -> tuple[bool, float]:
        t = self.table
        now_ = literal(now, Float)
        base = case((t.c.paused_until > now_, t.c.paused_until), else_=now_)
        start = case((t.c.next_slot > base, t.c.next_slot), else_=base)
        where = t.c.key == key
        if max_wait is not None:
            where = where & (t.c.paused_until - now_ <= literal(max_wait, Float))
        claim = update(t).where(where).values(next_slot=start + interval).returning(t.c.next_slot)
        for _ in range(5):
            with self.engine.begin() as conn:
                row = conn.execute(claim).first()
                if row is not None:
                    return True, max(0.0, row[0] - interval - now)
                paused = conn.execute(select(t.c.paused_until).where(t.c.key == key)).scalar()
            if paused is not None:
                if max_wait is not None and paused - now > max_wait:
                    raise BudgetPaused(paused - now)
                continue  # another process created the row meanwhile: claim again
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(t).values(key=key, next_slot=now + interval, paused_until=0.0)
                    )
                return True, 0.0
            except IntegrityError:  # another process created it first: claim again
                continue
        raise RuntimeError(f"rate budget {key}: could not claim a slot")

    def pause(self, key: str, until: float) -> None:
        t = self.table
        later = case((t.c.paused_until > until, t.c.paused_until), else_=literal(until, Float))
        with self.engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.key == key).values(paused_until=later))
            if done.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t).values(key=key, next_slot=0.0, paused_until=until))
        except IntegrityError:
            self.pause(key, until)

    def reset(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(self.table.delete())


def build_store(storage_uri: str | None, engine: Engine) -> BudgetStore:
    uri = (storage_uri or "").strip()
    if uri.lower().startswith(REDIS_SCHEMES):
        try:
            return RedisBudgetStore(uri)
        except Exception as exc:  # noqa: BLE001 - a missing driver must not stop the app
            log.warning("rate budgets: Redis unusable (%s); using the database", exc)
    return DatabaseBudgetStore(engine)


def store() -> BudgetStore:
    """This app's store (built once per app, in an app context)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION_KEY)
    if found is None:
        found = build_store(app.config.get("RATELIMIT_STORAGE_URI"), db.engine)
        app.extensions[_EXTENSION_KEY] = found
    return found


__all__ = ["DatabaseBudgetStore", "build_store", "store"]
