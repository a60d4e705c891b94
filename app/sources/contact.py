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
