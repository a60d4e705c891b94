"""Idempotent upserts of synced records keyed by the platform's ``remote_id``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from app.database import is_lock_error, retry_on_lock
from app.extensions import db
from app.models.types import utcnow
from app.services.sync import SyncContext

log = logging.getLogger(__name__)


def apply_values(obj: Any, values: dict[str, Any]) -> bool:
    """Set the differing attributes of ``obj``; True when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def upsert_page(ctx: SyncContext, model, rows: list[dict]) -> None:
    """Upsert one page of ``rows`` of ``model`` keyed by ``remote_id``; one commit per page.

    A page that meets a locked database is rolled back and written again as a whole.
    """
    if not rows:
        return
    outcomes = retry_on_lock(
        lambda: _write_page(model, rows), what=f"{model.__tablename__} sync page"
    )
    for outcome in outcomes:
        ctx.item(outcome)


def _write_page(model, rows: list[dict]) -> list[str]:
    now = utcnow()
    existing = {
        obj.remote_id: obj
        for obj in db.session.scalars(
            select(model).where(model.remote_id.in_({row["remote_id"] for row in rows}))
        )
    }
    outcomes: list[str] = []
    seen_ids: list[int] = []
    for values in rows:
        obj = existing.get(values["remote_id"])
        try:
            with db.session.begin_nested():
                if obj is None:
                    obj = model(last_sync_at=now, **values)
                    db.session.add(obj)
                    db.session.flush()
                    existing[values["remote_id"]] = obj
                    outcomes.append("created")
                elif apply_values(obj, values):
                    obj.last_sync_at = now
                    db.session.flush()
                    outcomes.append("updated")
                else:
                    seen_ids.append(obj.id)
                    outcomes.append("unchanged")
        except SQLAlchemyError as exc:
            if is_lock_error(exc):
                raise  # the whole page is retried
            log.exception(
                "%s upsert failed for remote id %s", model.__tablename__, values["remote_id"]
            )
            existing.pop(values["remote_id"], None)
            outcomes.append("failed")
    if seen_ids:  # seen again with identical data: only record when
        db.session.execute(update(model).where(model.id.in_(seen_ids)).values(last_sync_at=now))
    db.session.commit()
    return outcomes
