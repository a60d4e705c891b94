"""Plan frequencies and their monthly value (app.sources.recurrence), pure."""

from __future__ import annotations

import pytest

from app.sources.recurrence import (
    frequency_from_days,
    frequency_from_name,
    hotmart_state,
    monthly_cents,
    normalize_frequency,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("monthly", "monthly"),
        ("MONTHLY", "monthly"),
        ("Mensal", "monthly"),
        ("yearly", "annual"),
        ("ANNUALLY", "annual"),
        ("anual", "annual"),
        ("QUARTERLY", "quarterly"),
        ("trimestral", "quarterly"),
        ("SEMIANNUALLY", "semiannual"),
        ("semestral", "semiannual"),
        ("weekly", "weekly"),
        ("", None),
        (None, None),
        (12, None),
        ("fortnightly-ish", None),
    ],
)
def test_normalize_frequency(value, expected):
    assert normalize_frequency(value) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (30, "monthly"),
        (31, "monthly"),
        (90, "quarterly"),
        (180, "semiannual"),
        (360, "annual"),
        (365, "annual"),
        (7, "weekly"),
        (60, "bimonthly"),
        (0, None),
        (None, None),
        (True, None),
    ],
)
def test_frequency_from_hotmart_days(days, expected):
    assert frequency_from_days(days) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Plano Anual", "annual"),
        ("Plano Semestral", "semiannual"),
        ("Assinatura Mensal", "monthly"),
        ("Trimestral VIP", "quarterly"),
        ("Plano Ouro", None),
        ("Renovação manual", None),  # "manual" holds "anual": whole words only
        ("PLANO-ANUAL 2026", "annual"),
        (None, None),
    ],
)
def test_frequency_from_plan_name(name, expected):
    assert frequency_from_name(name) == expected


@pytest.mark.parametrize(
    ("price", "frequency", "expected"),
    [
        (9700, "monthly", 9700),
        (9700, None, 9700),  # unknown frequency: monthly
        (118800, "annual", 9900),
        (99700, "annual", 8308),  # 8308.33 → 8308
        (100, "annual", 8),  # 8.33 → 8
        (30, "annual", 3),  # 2.5 → 3 (half up)
        (29700, "quarterly", 9900),
        (10000, "quarterly", 3333),
        (59400, "semiannual", 9900),
        (1000, "weekly", 4333),
        (0, "monthly", 0),
        (None, "annual", 0),
    ],
)
def test_monthly_cents_are_integer_and_normalized(price, frequency, expected):
    value = monthly_cents(price, frequency)
    assert isinstance(value, int)
    assert value == expected


def test_hotmart_states():
    assert hotmart_state("ACTIVE") == "active"
    assert hotmart_state("DELAYED") == hotmart_state("OVERDUE") == "overdue"
    assert hotmart_state("CANCELLED_BY_CUSTOMER") == "canceled"
    assert hotmart_state("INACTIVE") == hotmart_state("EXPIRED") == "ended"
    assert hotmart_state("STARTED") == hotmart_state(None) == "pending"


def test_a_plan_in_another_currency_adds_no_reais_to_the_mrr():
    from app.models import Subscription
    from app.services.subscriptions import mrr_of

    brl = Subscription(price_cents=12000, frequency="annual", currency="BRL")
    usd = Subscription(price_cents=12000, frequency="annual", currency="USD")
    assert (mrr_of(brl), mrr_of(usd)) == (1000, 0)
