"""Shared types and lenient helpers for the inbound purchase-webhook formats.

Everything in ``app.sources`` is pure: no Flask, no database, no request objects. The webhook
blueprint verifies the raw bytes with ``<platform>.verify(...)``, decodes them with
``parse_json(...)`` and maps the resulting dict with ``<platform>.parse(...)`` into a
``NormalizedEvent``. Wire formats follow ``PLATFORMS.md`` §2–§5.

Error contract (the blueprint maps these to HTTP answers):

* ``MalformedPayload`` (a ``ValueError``): the body is not a JSON object → 400.
* ``InvalidPayload`` (a ``ValueError``): authenticated, well-formed JSON, but the event lacks
  the fields its kind needs (approval without a valid buyer e-mail, refund without a
  transaction id, …) → 422, stored as ``failed`` with ``.reason``.

``parse`` never raises anything else, whatever the shape of the input.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
log = logging.getLogger(__name__)

# Length caps applied to every text field, so a hostile or buggy payload cannot overflow a
# database column. Over-long identifiers are truncated, over-long e-mails are rejected.
MAX_KEY_LEN = 255
MAX_EVENT_TYPE_LEN = 64
MAX_TEXT_LEN = 255
MAX_EMAIL_LEN = 254
MAX_PHONE_LEN = 32
MAX_DOCUMENT_LEN = 32
MAX_CURRENCY_LEN = 8
MAX_PAYMENT_METHOD_LEN = 32
# Anything above ~10 trillion reais is not a real sale; treat it as missing.
MAX_ABS_CENTS = 10**15


class Kind(StrEnum):
    """What the receiver should do with an event (PLATFORMS.md §2.2)."""

    GRANT = "grant"  # approved/paid: send the activation link
    REVOKE = "revoke"  # refund, chargeback, cancellation: disable access
    RENEW = "renew"  # renewal paid: extend access, never a second link
    FLAG = "flag"  # dispute / overdue: policy decision, shown to the operator
    INFO = "info"  # store only (boleto/PIX issued, carts, unknown events)
    NOOP = "noop"  # known event that changes nothing (no event maps here now; stored rows keep it)


@dataclass(frozen=True)
class Item:
    """One more product bought in the same purchase (an order bump or a bundle item)."""

    product_id: str
    product_name: str | None
    offer_code: str | None
    amount_cents: int | None
    is_order_bump: bool


@dataclass(frozen=True)
class NormalizedEvent:
    platform: str
    event_type: str
    kind: Kind
    dedupe_key: str
    transaction_id: str | None
    status: str | None
    buyer_email: str | None
    buyer_name: str | None
    buyer_phone: str | None
    buyer_document: str | None
    buyer_document_type: str | None
    product_id: str | None
    product_name: str | None
    offer_code: str | None
    plan_name: str | None
    amount_cents: int | None
    currency: str | None
    payment_method: str | None
    occurred_at: datetime | None
    subscription_id: str | None
    recurrence_number: int | None
    is_order_bump: bool = False
    access_until: datetime | None = None
    # Not a sale: TEST_PLATFORM (the platform's own "send test" tool) or TEST_PANEL (the
    # panel's "Enviar teste", transaction ``TESTE-…``). Never counted in totals.
    test_origin: str | None = None
    checkout_url: str | None = None  # abandoned carts: where the buyer can finish the purchase
    # Several products in one purchase: the others (Kirvano ``products[]``), each its own sale
    # and access; and, for a Hotmart order bump, the transaction of the purchase it belongs to.
    extra_items: tuple[Item, ...] = ()
    parent_transaction_id: str | None = None


TEST_PLATFORM = "platform"
TEST_PANEL = "panel"
PANEL_TEST_PREFIX = "TESTE-"

# Unknown event names whose body status says the money went back: act on the status, so an
# unrecognised name never keeps access that a refund removed (PLATFORMS.md §2.2).
REVOKING_STATUSES = frozenset({"refunded", "chargeback", "canceled"})


def panel_test(transaction_id: str | None) -> str | None:
    """The panel's own signed test deliveries carry a ``TESTE-`` transaction."""
    if transaction_id and transaction_id.upper().startswith(PANEL_TEST_PREFIX):
        return TEST_PANEL
    return None


def kind_for_unknown(platform: str, event_type: str, status: str | None) -> Kind:
    """An unrecognised event is informational unless its status revokes (logged either way)."""
    kind = Kind.REVOKE if status in REVOKING_STATUSES else Kind.INFO
    log.warning(
        "unknown %s webhook event %r (status %r): handled as %s", platform, event_type, status, kind
    )
    return kind


class MalformedPayload(ValueError):
    """The body is not a JSON object (→ HTTP 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidPayload(ValueError):
    """Authenticated event lacking the fields its kind needs (→ HTTP 422).

    ``reason`` is a pt-BR message for the operator. ``event_type`` and ``dedupe_key`` are filled
    in when they could be derived, so the caller can still store the failed event under a
    stable key.
    """

    def __init__(
        self, reason: str, *, event_type: str | None = None, dedupe_key: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_type = event_type
        self.dedupe_key = dedupe_key


class VerifyResult(NamedTuple):
    ok: bool
    reason: str
    location: str | None


# ---------------------------------------------------------------------------------------------
# Body decoding
# ---------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


_DECODED: ContextVar[tuple[bytes, dict] | None] = ContextVar("webhook_body", default=None)


@contextmanager
def decoded(raw: bytes, body: dict) -> Iterator[None]:
    """Within the block, ``parse_json(raw)`` returns ``body`` (already decoded by the caller)
    instead of decoding the same bytes again (verifiers that look for a token in the body)."""
    token = _DECODED.set((raw, body))
    try:
        yield
    finally:
        _DECODED.reset(token)


def parse_json(raw: bytes) -> dict:
    """Decode a webhook body into a dict; ``MalformedPayload`` for anything else."""
    held = _DECODED.get()
    if held is not None and held[0] is raw:
        return held[1]
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedPayload("Corpo da requisição ausente ou inválido")
    data = bytes(raw)
    if not data.strip():
        raise MalformedPayload("Corpo da requisição vazio")
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError, TypeError):
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise MalformedPayload("Corpo da requisição não é um JSON válido") from None
    if not isinstance(value, dict):
        raise MalformedPayload("Corpo da requisição não é um objeto JSON")
    return value


def loads_lenient(raw: bytes) -> dict:
    """Best-effort decode used only to look for a token inside the body; never raises."""
    try:
        return parse_json(raw)
    except MalformedPayload:
        return {}


# ---------------------------------------------------------------------------------------------
# Safe accessors: wrong types are treated as missing
# ---------------------------------------------------------------------------------------------


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def dig(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]…`` or ``None`` as soon as a level is not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any, max_len: int = MAX_TEXT_LEN) -> str | None:
    """Trimmed string (numbers are stringified), truncated to ``max_len``; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) >= 10**255:  # also avoids int→str digit-limit errors on absurd ints
            return None
        result = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        result = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, str):
        # NUL is rejected by PostgreSQL text columns; lone surrogates cannot be encoded.
        result = value.replace("\x00", "").strip()
        if _has_surrogates(result):
            result = _SURROGATES.sub("\ufffd", result)
    else:
        return None
    if not result:
        return None
    return result[:max_len]


_SURROGATES = re.compile("[\ud800-\udfff]")


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_MAX_INT = 2**63 - 1  # fits a BIGINT column


def as_int(value: Any) -> int | None:
    """Integer (|n| < 2**63) from an int, an integral float or a numeric string; else ``None``."""
    if isinstance(value, bool):
        return None
    result: int | None = None
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            result = int(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"[+-]?\d{1,18}", stripped):
            result = int(stripped)
    if result is None or abs(result) > _MAX_INT:
        return None
    return result


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "sim"}
    return False


def upper_token(value: Any, max_len: int = MAX_EVENT_TYPE_LEN) -> str | None:
    result = text(value, max_len)
    return result.upper() if result else None


# ---------------------------------------------------------------------------------------------
# Buyer fields
# ---------------------------------------------------------------------------------------------


def normalize_email(value: Any) -> str | None:
    """Lower-cased, trimmed e-mail if syntactically valid; ``None`` otherwise.

    Deliverability (DNS) is not checked: the receiver must answer fast and offline.
    """
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if not email or len(email) > MAX_EMAIL_LEN or any(ch.isspace() for ch in email):
        return None
    try:
        validate_email(email, check_deliverability=False)
    except (EmailNotValidError, Exception):  # the validator must never crash the receiver
        return None
    return email


def digits_only(value: Any, max_len: int = MAX_DOCUMENT_LEN) -> str | None:
    raw = text(value, 200)
    if raw is None:
        return None
    result = "".join(ch for ch in raw if ch in "0123456789")
    return result[:max_len] or None


def document_type_for(document: str | None) -> str | None:
    """Brazilian CPF has 11 digits, CNPJ 14; anything else is unknown."""
    if document is None:
        return None
    return {11: "CPF", 14: "CNPJ"}.get(len(document))


def normalize_phone(value: Any, country: Any = None) -> str | None:
    """E.164 ``+<country><number>`` with the ``phonenumbers`` library; else the digits.

    A number written with ``+`` or ``00`` keeps its own country code; a national number is read
    in the buyer's ``country`` (ISO 3166 alpha-2, default Brazil), so a Mexican number never
    gets +55. A Brazilian number already prefixed with 55 is not prefixed twice.
    """
    raw = text(value, 100)
    if raw is None:
        return None
    digits = "".join(ch for ch in raw if ch in "0123456789")
    if not digits:
        return None
    international = raw.startswith("+") or raw.startswith("00")
    if raw.startswith("00"):
        digits = digits[2:]
    region = region_code(country) or "BR"
    candidate = "+" + digits if international else digits
    try:
        number = phonenumbers.parse(candidate, None if international else region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    result = ("+" + digits) if international and digits else digits
    return result[:MAX_PHONE_LEN] or None


def region_code(value: Any) -> str | None:
    """An ISO 3166 alpha-2 country code (``"br"``, ``"MX"``) the phone library knows."""
    raw = text(value, 8)
    if raw is None or len(raw) != 2 or not raw.isalpha():
        return None
    code = raw.upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


# ---------------------------------------------------------------------------------------------
# Money, dates, payment methods, statuses
# ---------------------------------------------------------------------------------------------

_CENT = Decimal("0.01")


def _cents_from_decimal(amount: Decimal) -> int | None:
    try:
        if not amount.is_finite():
            return None
        cents = int(amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return cents if abs(cents) <= MAX_ABS_CENTS else None


def decimal_to_cents(value: Any) -> int | None:
    """Reais as a JSON number (or numeric string) → integer cents, rounded half-up.

    Goes through ``str`` so binary float noise disappears: ``0.1 + 0.2`` → 30, ``197.0`` → 19700.
    A string with a comma (``"1.169,80"``, ``"R$ 97,00"``) is read as a Brazilian amount.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        try:
            return _cents_from_decimal(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return None
    if isinstance(value, str):
        stripped = value.strip()
        if "," in stripped or "R$" in stripped.upper():
            return brl_to_cents(stripped)
        if re.fullmatch(r"[+-]?\d{1,15}(\.\d+)?", stripped):
            return _cents_from_decimal(Decimal(stripped))
    return None


_BRL_RE = re.compile(r"^[+-]?\d{1,3}(\.?\d{3})*(,\d{1,2})?$")


def brl_to_cents(value: Any) -> int | None:
    """``"R$ 1.169,80"`` → 116980: strip ``R$``, drop thousands dots, comma → decimal point."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return decimal_to_cents(value)
    raw = text(value, 64)
    if raw is None:
        return None
    cleaned = re.sub(r"(?i)r\$", "", raw).replace("\u00a0", " ").replace(" ", "")
    negative = cleaned.startswith("-")
    cleaned = cleaned.lstrip("+-")
    if not cleaned:
        return None
    if _BRL_RE.match(cleaned):
        number = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,15}\.\d{1,2}", cleaned):
        number = cleaned  # "97.00": plain decimal point
    else:
        return None
    cents = _cents_from_decimal(Decimal(number))
    if cents is None:
        return None
    return -cents if negative else cents


def cents_from_int(value: Any) -> int | None:
    """An amount already in cents (Kiwify): int, integral float or digit string."""
    cents = as_int(value)
    if cents is None or abs(cents) > MAX_ABS_CENTS:
        return None
    return cents


_MIN_YEAR = 2000
_MAX_YEAR = 2200


def _plausible(moment: datetime) -> datetime | None:
    if _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return moment
    return None


def epoch_to_utc(value: Any, *, unit_ms: bool | None = True) -> datetime | None:
    """Epoch number (or digit string) → aware UTC datetime.

    ``unit_ms=True`` reads milliseconds (Hotmart), ``False`` seconds, ``None`` guesses by size.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if not re.fullmatch(r"\d{1,16}(\.\d+)?", stripped):
            return None
        value = float(stripped)
    if not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if abs(value) > 10**16:  # far beyond any plausible date, even in milliseconds
        return None
    if unit_ms is None:
        unit_ms = abs(value) >= 100_000_000_000  # > year 5138 in seconds: must be ms
    seconds = value / 1000 if unit_ms else value
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return None
    return _plausible(moment)


_LOCAL_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)


def local_to_utc(value: Any, tz: ZoneInfo = SAO_PAULO) -> datetime | None:
    """Date string → aware UTC datetime; never raises.

    Naive ``YYYY-MM-DD HH:MM[:SS]`` (and ``DD/MM/YYYY …``) strings are read in ``tz``
    (America/Sao_Paulo by default); ISO-8601 with ``Z`` or an offset keeps its own zone.
    Numbers are read as epoch seconds or milliseconds by magnitude.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_to_utc(value, unit_ms=None)
    raw = text(value, 64)
    if raw is None:
        return None
    if re.fullmatch(r"\d{9,16}", raw):
        return epoch_to_utc(int(raw), unit_ms=None)
    moment: datetime | None = None
    for fmt in _LOCAL_FORMATS:
        try:
            moment = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if moment is None:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=tz)
        return _plausible(moment.astimezone(UTC))
    except (OverflowError, ValueError):
        return None


_PAYMENT_METHODS = {
    "PIX": "pix",
    "CREDIT_CARD": "credit_card",
    "CARD": "credit_card",
    "BILLET": "boleto",
    "BOLETO": "boleto",
    "BANK_SLIP": "boleto",
}


def normalize_payment_method(value: Any) -> str | None:
    raw = text(value, 64)
    if raw is None:
        return None
    key = raw.upper().replace("-", "_").replace(" ", "_")
    return _PAYMENT_METHODS.get(key) or raw.lower()[:MAX_PAYMENT_METHOD_LEN]


_STATUSES = {
    # Hotmart purchase.status
    "APPROVED": "approved",
    "COMPLETE": "complete",
    "COMPLETED": "complete",
    "CANCELLED": "canceled",
    "CANCELED": "canceled",
    "REFUNDED": "refunded",
    "PARTIALLY_REFUNDED": "refunded",
    "CHARGEBACK": "chargeback",
    "DISPUTE": "disputed",
    "PROTESTED": "disputed",
    "PRINTED_BILLET": "pending",
    "WAITING_PAYMENT": "pending",
    "STARTED": "pending",
    "PROCESSING_TRANSACTION": "pending",
    "UNDER_ANALISYS": "pending",
    "UNDER_ANALYSIS": "pending",
    "PRE_ORDER": "pending",
    "EXPIRED": "expired",
    "OVERDUE": "overdue",
    "DELAYED": "overdue",
    "NO_FUNDS": "refused",
    "BLOCKED": "refused",
    # Kiwify order_status
    "PAID": "approved",
    "REFUSED": "refused",
    "CHARGEDBACK": "chargeback",
    "ABANDONED": "abandoned",
    # Kirvano status
    "PENDING": "pending",
    "ABANDONED_CART": "abandoned",
}


def normalize_status(value: Any) -> str | None:
    """Platform status → one of the normalized sale statuses, or ``None`` if unknown.

    ``CANCELLED_BY_*`` / ``CANCELED_BY_*`` (Hotmart subscriptions spell both) → ``canceled``.
    """
    raw = upper_token(value)
    if raw is None:
        return None
    if raw.startswith(("CANCELLED_BY_", "CANCELED_BY_")):
        return "canceled"
    return _STATUSES.get(raw)


def normalize_currency(value: Any) -> str | None:
    raw = text(value, 16)
    if raw is None or len(raw) > MAX_CURRENCY_LEN or not raw.isalpha():
        return None
    return raw.upper()


# ---------------------------------------------------------------------------------------------
# Dedupe keys and validation
# ---------------------------------------------------------------------------------------------


def make_key(*parts: Any) -> str | None:
    """Join the non-empty parts with ``:``; ``None`` if any required part is missing.

    Keys longer than 255 characters keep a readable prefix plus a SHA-256 of the whole key.
    """
    pieces: list[str] = []
    for part in parts:
        piece = text(part, 10_000)
        if piece is None:
            return None
        pieces.append(piece)
    return clamp_key(":".join(pieces))


def clamp_key(key: str) -> str:
    if len(key) <= MAX_KEY_LEN:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key[: MAX_KEY_LEN - len(digest) - 1] + "~" + digest


def body_hash_key(event_type: str, body: Mapping[str, Any]) -> str:
    """Last-resort dedupe key: event type + SHA-256 of the canonical JSON body.

    A byte-identical replay (or the same object re-serialized) gets the same key.
    """
    try:
        canonical = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
        )
    except (TypeError, ValueError, RecursionError):
        try:
            canonical = repr(body)
        except (ValueError, RecursionError):
            canonical = "<unserializable body>"
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return clamp_key(f"{event_type}:sha256:{digest}")


def ensure_valid(event: NormalizedEvent, *, subscription_cancellation: bool = False) -> None:
    """Raise ``InvalidPayload`` when an actionable event lacks what its kind needs.

    * GRANT / RENEW / REVOKE need a transaction id, except a subscription cancellation, which
      needs a subscription id, a transaction id or the buyer e-mail to find the access.
    * GRANT also needs a syntactically valid buyer e-mail (where the link is sent).

    INFO / FLAG / NOOP events are stored whatever they lack.
    """

    def fail(reason: str) -> InvalidPayload:
        return InvalidPayload(reason, event_type=event.event_type, dedupe_key=event.dedupe_key)

    if event.kind not in (Kind.GRANT, Kind.RENEW, Kind.REVOKE):
        return
    if subscription_cancellation:
        if not (event.subscription_id or event.transaction_id or event.buyer_email):
            raise fail(
                "Cancelamento de assinatura sem código da assinatura nem e-mail do comprador"
            )
        return
    if not event.transaction_id:
        labels = {
            Kind.GRANT: "Evento de aprovação",
            Kind.RENEW: "Evento de renovação",
            Kind.REVOKE: "Evento de reembolso/cancelamento",
        }
        raise fail(f"{labels[event.kind]} sem identificador da transação")
    if event.kind is Kind.GRANT and not event.buyer_email:
        raise fail("Evento de aprovação sem e-mail válido do comprador")


# ---------------------------------------------------------------------------------------------
# Verification helpers
# ---------------------------------------------------------------------------------------------

NO_SECRET_REASON = "Segredo do webhook não configurado para esta plataforma"


def lower_headers(headers: Any) -> dict[str, str]:
    """Case-insensitive view of request headers (first value wins); never raises.

    Accepts a mapping, a werkzeug ``Headers`` object or an iterable of ``(name, value)`` pairs.
    """
    result: dict[str, str] = {}
    if headers is None or isinstance(headers, str | bytes):
        return result
    try:
        items: Iterable[Any] = headers.items() if hasattr(headers, "items") else iter(headers)
        for item in items:
            try:
                name, value = item
            except (TypeError, ValueError):
                continue
            if isinstance(name, bytes):
                name = name.decode("latin-1")
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            result.setdefault(name.strip().lower(), value)
    except (AttributeError, TypeError, ValueError):
        return {}
    return result


def get_arg(args: Any, name: str) -> str | None:
    try:
        value = args.get(name) if args is not None else None
    except (AttributeError, TypeError):
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def clean_secret(secret: Any) -> str | None:
    if not isinstance(secret, str):
        return None
    stripped = secret.strip()
    return stripped or None


def secure_equals(given: str | None, expected: str) -> bool:
    """Constant-time comparison of two strings (as UTF-8 bytes)."""
    if given is None:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
