"""Buyer fields: e-mail, phone (E.164 with ``phonenumbers``), CPF/CNPJ."""

from __future__ import annotations

from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .values import MAX_DOCUMENT_LEN, MAX_EMAIL_LEN, MAX_PHONE_LEN, text


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

    A number written with ``+`` or ``00`` keeps its own country code. Bare digits are read
    first as a national number of the buyer's ``country`` (ISO 3166 alpha-2, default Brazil),
    which also strips that country's own code when it is already there (Kirvano's
    ``5511…``), so a Brazilian number is never prefixed twice. Digits that could be a number of
    that country (its lengths) but fail the library's stricter validity keep that lenient
    reading: an old Brazilian mobile without the ninth digit (``(47) 8809-0439``) is still
    ``+55``, never read as Norway's ``+47``. Only digits too long or too short for the buyer's
    country are tried as ``+<digits>`` (a Mexican ``52…`` sent without ``+``), keeping that
    country code when it makes a valid number; else they stay bare.
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
    if international:
        number = _parsed("+" + digits, None)
        if number is not None and phonenumbers.is_possible_number(number):
            return _e164(number)
        return ("+" + digits)[:MAX_PHONE_LEN] if digits else None
    region = region_code(country) or "BR"
    national = _parsed(digits, region)
    if national is not None and phonenumbers.is_valid_number(national):
        return _e164(national)
    possible = national is not None and phonenumbers.is_possible_number(national)
    if not possible:
        foreign = _international_without_plus(digits)
        if foreign is not None:
            return _e164(foreign)
        return digits[:MAX_PHONE_LEN]
    return _e164(national)


# Country code → a trunk digit numbers of that country are still written with after the
# country code although the plan dropped it: Mexico's mobile "1" (``521 55 …``, gone in 2019
# but still how WhatsApp links and many checkouts spell Mexican mobiles).
_FORMER_PREFIXES = {"52": "1"}


def _international_without_plus(digits: str) -> phonenumbers.PhoneNumber | None:
    """``digits`` read as ``+<digits>`` when that is a valid number of some country."""
    number = _parsed("+" + digits, None)
    if number is None:
        return None
    if phonenumbers.is_valid_number(number):
        return number
    code = str(number.country_code)
    rest = digits[len(code) :]
    former = _FORMER_PREFIXES.get(code)
    if former and rest.startswith(former):
        shorter = _parsed("+" + code + rest[len(former) :], None)
        if shorter is not None and phonenumbers.is_valid_number(shorter):
            return shorter
    return None


def _parsed(candidate: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_code(value: Any) -> str | None:
    """An ISO 3166 alpha-2 country code (``"br"``, ``"MX"``) the phone library knows."""
    raw = text(value, 8)
    if raw is None or len(raw) != 2 or not raw.isalpha():
        return None
    code = raw.upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None
