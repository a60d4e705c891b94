"""The scheduled reconciliation check: how many buyers paid and never got access, which gaps
are new since the previous check (a snapshot stored as one ``integration_settings`` row), the
overview banner's numbers, and an e-mail to the operators about new gaps when SMTP is set."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from app.extensions import db
from app.models.settings import IntegrationSetting
from app.models.types import utcnow
from app.plurals import plural
from app.services import audit
from app.services.reconciliation import DEFAULT_DAYS, count_gaps, gap_ids

log = logging.getLogger(__name__)

SNAPSHOT_PLATFORM = "reconciliation"
SNAPSHOT_KEY = "snapshot"
SNAPSHOT_IDS = 1000


def snapshot() -> dict | None:
    """The last scheduled check: ``{"at", "count", "new"}`` (``None`` before the first)."""
    row = db.session.scalar(
        select(IntegrationSetting).where(
            IntegrationSetting.platform == SNAPSHOT_PLATFORM,
            IntegrationSetting.key == SNAPSHOT_KEY,
        )
    )
    if row is None:
        return None
    try:
        data = json.loads(row.value)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _store_snapshot(data: dict) -> None:
    row = db.session.scalar(
        select(IntegrationSetting).where(
            IntegrationSetting.platform == SNAPSHOT_PLATFORM,
            IntegrationSetting.key == SNAPSHOT_KEY,
        )
    )
    if row is None:
        row = IntegrationSetting(platform=SNAPSHOT_PLATFORM, key=SNAPSHOT_KEY, value="{}")
        db.session.add(row)
    row.value = json.dumps(data)
    row.updated_by = audit.ACTOR_SYSTEM


def check(days: int = DEFAULT_DAYS) -> dict:
    """The scheduled job: count the gaps, find the new ones since the last check, store the
    snapshot the overview shows (the caller commits)."""
    previous = snapshot() or {}
    ids = gap_ids(days, limit=SNAPSHOT_IDS)
    seen = set(previous.get("ids") or [])
    new_ids = [i for i in ids if i not in seen]
    data = {
        "at": utcnow().isoformat(),
        "days": days,
        "count": count_gaps(days),
        "new": len(new_ids),
        "ids": ids,
    }
    _store_snapshot(data)
    return {**data, "new_ids": new_ids}


def notify_operators(result: dict) -> int:
    """E-mail every active operator when the check found new gaps and SMTP is set up (queued
    in the outbox like every e-mail); returns how many were queued."""
    from flask import current_app

    from app.models import ROLE_ADMIN, User
    from app.services import outbox

    new = int(result.get("new") or 0)
    if not new or not outbox.smtp_configured():
        return 0
    operators = db.session.scalars(
        select(User).where(User.role == ROLE_ADMIN, User.active.is_(True))
    ).all()
    url = f"{current_app.config['APP_URL']}/relatorios#vendas-sem-acesso"
    subject = f"{new} " + plural(
        new,
        "novo comprador pagou e não recebeu acesso",
        "novos compradores pagaram e não receberam acesso",
    )
    for user in operators:
        outbox.queue(
            "reconciliation_alert",
            to=user.email,
            subject=subject,
            context={"name": user.name or "", "new": new, "count": result["count"], "url": url},
            ref_type="reconciliation",
        )
    return len(operators)


def refresh_snapshot(days: int = DEFAULT_DAYS) -> None:
    """After links went out: the overview's count drops at once (keeps the seen ids)."""
    try:
        previous = snapshot()
        if previous is None:
            return
        previous["count"] = count_gaps(days)
        _store_snapshot(previous)
        db.session.commit()
    except Exception:  # the links are committed already; the next check fixes the count
        db.session.rollback()
        log.exception("could not refresh the reconciliation snapshot")
