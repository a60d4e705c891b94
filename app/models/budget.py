"""Shared rate budgets of the outbound API clients (``app.services.rate_budget``)."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class RateBudgetSlot(db.Model):
    """One row per platform account: the next free request slot and the end of a 429 pause.

    Times are Unix seconds. ``key`` is e.g. ``kommo:suaempresa`` or ``gestao_click:<hash>``,
    never a secret."""

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)
    paused_until: Mapped[float] = mapped_column(Float, default=0.0)
