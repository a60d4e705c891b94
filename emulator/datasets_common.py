"""Shared pieces of the emulator's record generators: deterministic spreads, ids and codes,
São Paulo dates, and the people (buyers, contacts, clients) every platform draws from."""

from __future__ import annotations

import bisect
import math
import uuid
from datetime import datetime, timedelta, timezone

from .config import EmulatorConfig
from .fake import (
    Person,
    h64,
    make_person,
    unit,
)

DAY = 86400
BRT = timezone(timedelta(hours=-3))  # America/Sao_Paulo has had no DST since 2019
ALNUM_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def spread(key: object, i: int, n: int, start: int, end: int) -> int:
    """Timestamp of record ``i`` of ``n``: non-decreasing in ``i`` within [start, end)."""
    if n <= 0:
        return start
    return start + int((i + unit(key, i, "t")) * (end - start) / n)


def first_at_or_after(n: int, value: int, ts) -> int:
    """Smallest index whose timestamp is >= value (``ts`` must be non-decreasing)."""
    return bisect.bisect_left(range(n), value, key=ts)


def stable_uuid(*parts: object) -> str:
    raw = bytearray(h64(*parts, "a").to_bytes(8, "big") + h64(*parts, "b").to_bytes(8, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def code(alphabet: str, length: int, *parts: object) -> str:
    value = h64(*parts)
    out = []
    for _ in range(length):
        value, rem = divmod(value, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


def base36(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while n:
        n, rem = divmod(n, 36)
        out = digits[rem] + out
    return out.rjust(width, "0")


def coprime_multiplier(n: int) -> int:
    for prime in (7919, 104729, 1299709, 15485863, 179424673):
        if n <= 1 or math.gcd(prime, n) == 1:
            return prime
    return 1  # unreachable for n < 179424673**5


def iso_local(ts: int) -> str:
    return datetime.fromtimestamp(ts, BRT).strftime("%Y-%m-%d %H:%M:%S")


def date_local(ts: int) -> str:
    return datetime.fromtimestamp(ts, BRT).strftime("%Y-%m-%d")


def local_midnight_ts(day: str) -> int:
    """``AAAA-MM-DD`` (São Paulo) → Unix seconds of its midnight; ValueError if malformed."""
    parsed = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=BRT)
    return int(parsed.timestamp())


class People:
    """The shared buyer pool: person ``p`` is the same in Hotmart, Kommo and Gestão Click."""

    def __init__(self, cfg: EmulatorConfig):
        self.seed = cfg.seed
        self.size = cfg.people_pool

    def __getitem__(self, index: int) -> Person:
        return make_person(self.seed, index)

    def index_of_email(self, email: str) -> int | None:
        """Person index from an e-mail this pool produced (the index is in the local part)."""
        local = email.strip().lower().split("@", 1)[0]
        digits = ""
        for ch in reversed(local):
            if not ch.isdigit():
                break
            digits = ch + digits
        if not digits:
            return None
        index = int(digits)
        if index < self.size and self[index].email == email.strip().lower():
            return index
        return None


# ============================================================================ Hotmart

# (name, format, is_subscription)
