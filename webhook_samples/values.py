"""Small value helpers the webhook samples need (shared with the emulator's datasets)."""

from __future__ import annotations

import random
from datetime import timedelta, timezone
from decimal import Decimal

BRT = timezone(timedelta(hours=-3))  # America/Sao_Paulo has had no DST since 2019


def cpf_check_digits(base9: str) -> str:
    d = [int(c) for c in base9]
    s1 = sum(v * w for v, w in zip(d, range(10, 1, -1), strict=True))
    d1 = (s1 * 10 % 11) % 10
    s2 = sum(v * w for v, w in zip(d + [d1], range(11, 1, -1), strict=True))
    d2 = (s2 * 10 % 11) % 10
    return f"{d1}{d2}"


def make_cpf(r: random.Random) -> str:
    """An 11-digit CPF with valid check digits (never all-equal digits)."""
    while True:
        base = "".join(str(r.randrange(10)) for _ in range(9))
        if len(set(base)) > 1:
            return base + cpf_check_digits(base)


def cnpj_check_digits(base12: str) -> str:
    w1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    w2 = [6] + w1
    d = [int(c) for c in base12]
    r1 = sum(v * w for v, w in zip(d, w1, strict=True)) % 11
    d1 = 0 if r1 < 2 else 11 - r1
    r2 = sum(v * w for v, w in zip(d + [d1], w2, strict=True)) % 11
    d2 = 0 if r2 < 2 else 11 - r2
    return f"{d1}{d2}"


def make_cnpj(r: random.Random) -> str:
    """A 14-digit CNPJ (branch 0001) with valid check digits."""
    base = "".join(str(r.randrange(10)) for _ in range(8)) + "0001"
    return base + cnpj_check_digits(base)


def reais(cents: int) -> float:
    """Cents → a float in reais with two decimals (Hotmart style)."""
    return float(Decimal(cents) / 100)


def brl(cents: int) -> str:
    """Cents → ``"R$ 1.234,56"`` (Kirvano display style)."""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    sign = "-" if cents < 0 else ""
    return f"{sign}R$ {grouped},{frac:02d}"
