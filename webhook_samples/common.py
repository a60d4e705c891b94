"""What every platform's webhook sender shares: event families, buyer context, ``Sender``."""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .values import BRT, make_cpf

FAMILIES = (
    "approved",
    "refunded",
    "chargeback",
    "canceled",
    "pix_generated",
    "billet_generated",
    "abandoned_cart",
    "subscription_canceled",
    "subscription_renewed",
)

# Generic family → the platform's native event name (PLATFORMS.md §2.2).

OVERRIDES = {
    "email",
    "name",
    "transaction",
    "product_id",
    "product_name",
    "amount",
    "phone",
    "document",
    "recurrence",
    "now",
    "event_id",
    "recurring",
    "seed",
}


# ---------------------------------------------------------------------------- buyer / context


class Ctx:
    """Values shared by every platform's builder, with defaults and overrides applied."""

    def __init__(self, platform: str, family: str, native: str | None, overrides: dict):
        unknown = set(overrides) - OVERRIDES
        if unknown:
            raise TypeError(f"unknown overrides: {sorted(unknown)}")
        seed = overrides.get("seed")
        self.r = random.Random(seed) if seed is not None else random.SystemRandom()
        r = self.r
        self.platform, self.family, self.native = platform, family, native
        now = overrides.get("now") or datetime.now(UTC)
        self.now = now if now.tzinfo else now.replace(tzinfo=UTC)
        self.name = overrides.get("name") or "Maria Souza"
        self.email = (overrides.get("email") or "maria@example.com").strip()
        parts = self.name.split()
        self.first_name = parts[0]
        self.last_name = " ".join(parts[1:]) or parts[0]
        phone = "".join(ch for ch in str(overrides.get("phone") or "") if ch.isdigit())
        if phone.startswith("55") and len(phone) >= 12:
            phone = phone[2:]
        self.ddd = phone[:2] if phone else "11"
        self.phone = phone[2:] if phone else "9" + "".join(str(r.randrange(10)) for _ in range(8))
        self.document = overrides.get("document") or make_cpf(r)
        self.amount = int(overrides.get("amount") or 19700)
        self.product_id = str(overrides.get("product_id") or "")
        self.product_name = overrides.get("product_name") or "Curso Exemplo"
        self.transaction = overrides.get("transaction")
        self.event_id = overrides.get("event_id")
        renewal = family == "subscription_renewed"
        self.recurrence = int(overrides.get("recurrence") or (r.randrange(2, 12) if renewal else 1))
        self.recurring = bool(overrides.get("recurring")) or family.startswith("subscription")

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def code(self, n: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def ms(self, delta: timedelta = timedelta()) -> int:
        return int((self.now + delta).timestamp() * 1000)

    def local(self, delta: timedelta = timedelta(), fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
        return (self.now + delta).astimezone(BRT).strftime(fmt)

    def iso(self, delta: timedelta = timedelta()) -> str:
        return (self.now + delta).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "000Z"


def encode(payload: dict) -> bytes:
    """Compact UTF-8 JSON, as the platforms send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_body(payload: dict, secret: str | None, options: dict) -> tuple[bytes, str]:
    return encode(payload), "application/json"


@dataclass(frozen=True)
class Sender:
    """One platform's webhook sender: native event names, the body builder and its proof.

    ``build(ctx)`` → the JSON object; ``body(payload, secret, options)`` → (bytes, content
    type); ``sign(body, secret, options)`` → (extra headers, extra query parameters).
    ``options`` carries the CLI's per-platform flags (``kirvano_header``, ``hottok_in_body``,
    ``form``); a sender ignores the ones that are not its own.
    """

    platform: str
    native: dict[str, str | None]
    extra_native: dict[str, tuple[str, str | None]]
    build: Callable[[Ctx], dict]
    sign: Callable[[bytes, str | None, dict], tuple[dict[str, str], dict[str, str]]]
    user_agent: str
    body: Callable[[dict, str | None, dict], tuple[bytes, str]] = json_body
    secret_help: str = ""
    options: dict[str, Any] = field(default_factory=dict)
