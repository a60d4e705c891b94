"""Compatibility facade: the source helpers, re-exported from the modules that hold them.

Everything in ``app.sources`` is pure: no Flask, no database, no request objects. The helpers
live by job — ``events`` (the ``NormalizedEvent`` model and the error contract), ``values``
(lenient JSON readers), ``jsonbody`` (decoding, dedupe keys), ``contact`` (e-mail, phone,
document), ``money``, ``times``, ``statuses`` and ``signing`` — and this module keeps
``from app.sources.base import X`` working for the code written before the split. New code
imports from the module that holds the helper.
"""

from __future__ import annotations

from .contact import (
    digits_only,
    document_type_for,
    normalize_email,
    normalize_phone,
    region_code,
)
from .events import (
    PANEL_TEST_PREFIX,
    REVOKING_STATUSES,
    TEST_PANEL,
    TEST_PLATFORM,
    InvalidPayload,
    Item,
    Kind,
    MalformedPayload,
    NormalizedEvent,
    VerifyResult,
    ensure_valid,
    kind_for_unknown,
    panel_test,
)
from .jsonbody import body_hash_key, clamp_key, decoded, loads_lenient, make_key, parse_json
from .money import brl_to_cents, cents_from_int, decimal_to_cents, normalize_currency
from .signing import NO_SECRET_REASON, clean_secret, get_arg, lower_headers, secure_equals
from .statuses import normalize_payment_method, normalize_status
from .times import SAO_PAULO, epoch_to_utc, local_to_utc
from .values import (
    MAX_ABS_CENTS,
    MAX_CURRENCY_LEN,
    MAX_DOCUMENT_LEN,
    MAX_EMAIL_LEN,
    MAX_EVENT_TYPE_LEN,
    MAX_KEY_LEN,
    MAX_PAYMENT_METHOD_LEN,
    MAX_PHONE_LEN,
    MAX_TEXT_LEN,
    as_bool,
    as_dict,
    as_int,
    as_list,
    dig,
    text,
    upper_token,
)

__all__ = [
    "MAX_ABS_CENTS",
    "MAX_CURRENCY_LEN",
    "MAX_DOCUMENT_LEN",
    "MAX_EMAIL_LEN",
    "MAX_EVENT_TYPE_LEN",
    "MAX_KEY_LEN",
    "MAX_PAYMENT_METHOD_LEN",
    "MAX_PHONE_LEN",
    "MAX_TEXT_LEN",
    "NO_SECRET_REASON",
    "PANEL_TEST_PREFIX",
    "REVOKING_STATUSES",
    "SAO_PAULO",
    "TEST_PANEL",
    "TEST_PLATFORM",
    "InvalidPayload",
    "Item",
    "Kind",
    "MalformedPayload",
    "NormalizedEvent",
    "VerifyResult",
    "as_bool",
    "as_dict",
    "as_int",
    "as_list",
    "body_hash_key",
    "brl_to_cents",
    "cents_from_int",
    "clamp_key",
    "clean_secret",
    "decimal_to_cents",
    "dig",
    "digits_only",
    "document_type_for",
    "ensure_valid",
    "epoch_to_utc",
    "get_arg",
    "kind_for_unknown",
    "loads_lenient",
    "local_to_utc",
    "lower_headers",
    "make_key",
    "normalize_currency",
    "normalize_email",
    "normalize_payment_method",
    "normalize_phone",
    "normalize_status",
    "panel_test",
    "parse_json",
    "decoded",
    "region_code",
    "secure_equals",
    "text",
    "upper_token",
]
