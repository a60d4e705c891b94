"""Subscription plans' billing frequency and their monthly value (MRR), pure.

Platforms spell the frequency differently: Kiwify ``Subscription.plan.frequency``
(``monthly``, ``quarterly``, ``yearly`` …), Kirvano ``plan.charge_frequency`` (``MONTHLY``,
``ANNUALLY`` …), Hotmart's subscriptions API ``plan.recurrency_period`` in days (30, 90, 180,
360). Each becomes one of ``FREQUENCY_MONTHS``' keys; a plan whose frequency is not sent is
read from its name ("Plano Anual"), else assumed monthly by the reports.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Frequency → months per charge (weekly: 12/52 of a month).
FREQUENCY_MONTHS: dict[str, float] = {
    "weekly": 12 / 52,
    "monthly": 1,
    "bimonthly": 2,
    "quarterly": 3,
    "semiannual": 6,
    "annual": 12,
}
DEFAULT_FREQUENCY = "monthly"

_SPELLINGS = {
    "weekly": ("weekly", "week", "semanal", "semana"),
    "monthly": ("monthly", "month", "mensal", "mes", "mensalmente"),
    "bimonthly": ("bimonthly", "bimestral", "bimensal", "every_two_months"),
    "quarterly": ("quarterly", "quarter", "trimestral", "trimestre", "every_three_months"),
    "semiannual": (
        "semiannual",
        "semiannually",
        "semi_annual",
        "semi_annually",
        "biannual",
        "biannually",
        "semestral",
        "semestre",
        "every_six_months",
    ),
    "annual": ("annual", "annually", "yearly", "year", "anual", "ano", "anualmente"),
}
_BY_SPELLING = {spelling: name for name, spellings in _SPELLINGS.items() for spelling in spellings}
# Words of a plan name, most specific first ("semestral" before "mensal" inside it, …).
_NAME_WORDS = (
    ("semestral", "semiannual"),
    ("semiannual", "semiannual"),
    ("trimestral", "quarterly"),
    ("quarterly", "quarterly"),
    ("bimestral", "bimonthly"),
    ("anual", "annual"),
    ("annual", "annual"),
    ("yearly", "annual"),
    ("semanal", "weekly"),
    ("weekly", "weekly"),
    ("mensal", "monthly"),
    ("monthly", "monthly"),
)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


def normalize_frequency(value: Any) -> str | None:
    """A platform's frequency word (any case, pt-BR or English) → a ``FREQUENCY_MONTHS`` key."""
    if not isinstance(value, str) or not value.strip():
        return None
    word = _fold(value).replace("-", "_").replace(" ", "_")
    return _BY_SPELLING.get(word)


def frequency_from_days(days: Any) -> str | None:
    """Hotmart's ``recurrency_period`` (days between charges) → a frequency."""
    if isinstance(days, bool) or not isinstance(days, int | float) or days <= 0:
        return None
    if days < 15:
        return "weekly"
    months = days / 30
    return min(FREQUENCY_MONTHS, key=lambda name: abs(FREQUENCY_MONTHS[name] - months))


def frequency_from_name(name: Any) -> str | None:
    """The frequency a plan's name says ("Plano Anual" → annual), when it says one."""
    if not isinstance(name, str):
        return None
    # Whole words only: "Renovação manual" is not "anual", "Semestral" not "mestral".
    words = set(re.findall(r"[a-z]+", _fold(name)))
    for word, frequency in _NAME_WORDS:
        if word in words:
            return frequency
    return None


def monthly_cents(price_cents: int | None, frequency: str | None) -> int:
    """The plan's value per month in integer cents (half up): annual / 12, quarterly / 3, …"""
    if not price_cents or price_cents < 0:
        return 0
    months = FREQUENCY_MONTHS.get(frequency or DEFAULT_FREQUENCY, 1)
    if frequency == "weekly":
        return (price_cents * 52 * 2 + 12) // (12 * 2)
    whole = int(months)
    return (price_cents * 2 + whole) // (whole * 2)


# Hotmart subscription statuses (PLATFORMS.md §3.5) → state.
HOTMART_STATES = {
    "ACTIVE": "active",
    "DELAYED": "overdue",
    "OVERDUE": "overdue",
    "CANCELLED_BY_CUSTOMER": "canceled",
    "CANCELLED_BY_SELLER": "canceled",
    "CANCELLED_BY_ADMIN": "canceled",
    "CANCELED_BY_CUSTOMER": "canceled",
    "CANCELED_BY_SELLER": "canceled",
    "CANCELED_BY_ADMIN": "canceled",
    "INACTIVE": "ended",
    "EXPIRED": "ended",
    "STARTED": "pending",
}


def hotmart_state(status: str | None) -> str:
    """A Hotmart subscription status → active | overdue | canceled | ended | pending."""
    return HOTMART_STATES.get((status or "").upper(), "pending")
