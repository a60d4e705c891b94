"""Shared helpers of app.sources: decoding, money, dates, e-mail, phone, keys."""

from datetime import UTC, datetime

import pytest

from app.sources import SOURCES, MalformedPayload, hotmart, kirvano, kiwify, parse_json
from app.sources.base import (
    MAX_KEY_LEN,
    body_hash_key,
    brl_to_cents,
    cents_from_int,
    decimal_to_cents,
    digits_only,
    document_type_for,
    epoch_to_utc,
    local_to_utc,
    lower_headers,
    make_key,
    normalize_email,
    normalize_payment_method,
    normalize_phone,
    normalize_status,
)


def test_registry_lists_every_platform_module():
    for module in (hotmart, kiwify, kirvano):
        assert SOURCES[module.PLATFORM] is module.SOURCE
    for name, source in SOURCES.items():
        assert source.name == name and source.label
        assert callable(source.verify) and callable(source.parse) and callable(source.decode)
        assert source.secrets and all(field.secret for field in source.secrets)


# --- parse_json ------------------------------------------------------------------------------


def test_parse_json_returns_the_object():
    assert parse_json(b'{"a": 1, "b": [1, 2]}') == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"not json",
        b"[1, 2, 3]",
        b'"string"',
        b"42",
        b"null",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"\xff\xfe\x00garbage",
        b'{"a": 1',
        b"[" * 100_000 + b"]" * 100_000,
        b"hottok=abc&prod=1",
    ],
)
def test_parse_json_rejects_non_objects(raw):
    with pytest.raises(MalformedPayload) as info:
        parse_json(raw)
    assert info.value.reason
    assert isinstance(info.value, ValueError)


# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        (197.0, 19700),
        (197, 19700),
        (0.1 + 0.2, 30),
        (19.99, 1999),
        (1.005, 101),  # half-up on the decimal string, not the binary float
        (0.125, 13),
        (2.675, 268),
        (49.9, 4990),
        ("197.00", 19700),
        ("1.169,80", 116980),
        (0, 0),
        (-5.5, -550),
    ],
)
def test_decimal_to_cents(value, cents):
    assert decimal_to_cents(value) == cents


@pytest.mark.parametrize(
    "value",
    [None, "abc", "", True, False, [], {}, float("nan"), float("inf"), 1e300, "1e5", "12.3.4"],
)
def test_decimal_to_cents_treats_junk_as_missing(value):
    assert decimal_to_cents(value) is None


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("R$ 1.169,80", 116980),
        ("R$ 97,00", 9700),
        ("R$97,00", 9700),
        ("R$\u00a01.169,80", 116980),
        ("1.000.000,00", 100000000),
        ("47,9", 4790),
        ("97", 9700),
        ("97.00", 9700),
        ("r$ 12,34", 1234),
        (97, 9700),
        (47.9, 4790),
    ],
)
def test_brl_to_cents(value, cents):
    assert brl_to_cents(value) == cents


@pytest.mark.parametrize("value", [None, "", "R$", "R$ abc", "1,2,3", "12.34.56,7", [], True])
def test_brl_to_cents_treats_junk_as_missing(value):
    assert brl_to_cents(value) is None


@pytest.mark.parametrize(
    ("value", "cents"), [(19700, 19700), (19700.0, 19700), ("19700", 19700), (0, 0)]
)
def test_cents_from_int(value, cents):
    assert cents_from_int(value) == cents


@pytest.mark.parametrize("value", [None, 197.5, "197.5", "abc", True, 10**30, []])
def test_cents_from_int_rejects_non_integers(value):
    assert cents_from_int(value) is None


# --- dates -----------------------------------------------------------------------------------


def test_local_sao_paulo_time_becomes_utc():
    assert local_to_utc("2026-06-08 11:54") == datetime(2026, 6, 8, 14, 54, tzinfo=UTC)
    assert local_to_utc("2026-07-10 17:05:41") == datetime(2026, 7, 10, 20, 5, 41, tzinfo=UTC)


def test_iso_dates_keep_their_offset():
    assert local_to_utc("2026-06-08T14:54:10.298Z") == datetime(
        2026, 6, 8, 14, 54, 10, 298000, tzinfo=UTC
    )
    assert local_to_utc("2026-06-08T11:54:00-03:00") == datetime(2026, 6, 8, 14, 54, tzinfo=UTC)
    assert local_to_utc("2026-06-08T11:54:00") == datetime(2026, 6, 8, 14, 54, tzinfo=UTC)


def test_brazilian_day_first_dates():
    assert local_to_utc("08/06/2026 11:54") == datetime(2026, 6, 8, 14, 54, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", [None, "", "yesterday", "2026-13-45 99:99", "9999999-01-01", [], {}, True, "0000"]
)
def test_unparseable_dates_are_none(value):
    assert local_to_utc(value) is None


def test_epoch_milliseconds():
    moment = epoch_to_utc(1763247745000)
    assert moment == datetime(2025, 11, 15, 23, 2, 25, tzinfo=UTC)
    assert moment.tzinfo is UTC
    assert epoch_to_utc("1763247745000") == moment
    assert epoch_to_utc(1763247745000.0) == moment


@pytest.mark.parametrize(
    "value", [None, "abc", True, 10**30, -(10**30), float("nan"), float("inf"), [], "1e5"]
)
def test_epoch_junk_is_none(value):
    assert epoch_to_utc(value) is None


# --- buyer fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("maria@example.com", "maria@example.com"),
        ("  Maria.Souza@Example.COM \n", "maria.souza@example.com"),
        ("joão@exemplo.com.br", "joão@exemplo.com.br"),
    ],
)
def test_email_is_trimmed_and_lower_cased(value, expected):
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "maria",
        "maria@",
        "@example.com",
        "maria@example",
        "maria@@example.com",
        "ma ria@example.com",
        "a..b@example.com",
        "maria@example.com, joao@example.com",
        "x" * 250 + "@example.com",
        "a@" + "b" * 300 + ".com",
        12345,
        ["maria@example.com"],
        {"email": "maria@example.com"},
    ],
)
def test_invalid_emails_are_none(value):
    assert normalize_email(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+5511999998888", "+5511999998888"),
        ("5511999998888", "+5511999998888"),
        ("11999998888", "+5511999998888"),
        ("(11) 99999-8888", "+5511999998888"),
        ("1133334444", "+551133334444"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0044 20 7946 0958", "+442079460958"),
        ("12345", "12345"),
        (None, None),
        ("", None),
        ("abc", None),
        ([], None),
    ],
)
def test_normalize_phone(value, expected):
    assert normalize_phone(value) == expected


def test_document_digits_and_type():
    assert digits_only("000.000.001-91") == "00000000191"
    assert digits_only("12.345.678/0001-95") == "12345678000195"
    assert digits_only("abc") is None
    assert document_type_for("00000000191") == "CPF"
    assert document_type_for("12345678000195") == "CNPJ"
    assert document_type_for("123") is None
    assert document_type_for(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PIX", "pix"),
        ("pix", "pix"),
        ("CREDIT_CARD", "credit_card"),
        ("credit_card", "credit_card"),
        ("BILLET", "boleto"),
        ("boleto", "boleto"),
        ("BANK_SLIP", "boleto"),
        ("PAYPAL", "paypal"),
        ("GOOGLE_PAY", "google_pay"),
        (None, None),
        (12, "12"),
        ([], None),
    ],
)
def test_payment_method(value, expected):
    assert normalize_payment_method(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("APPROVED", "approved"),
        ("paid", "approved"),
        ("CANCELLED", "canceled"),
        ("CANCELLED_BY_CUSTOMER", "canceled"),
        ("CANCELED_BY_SELLER", "canceled"),
        ("cancelled_by_admin", "canceled"),
        ("chargedback", "chargeback"),
        ("DISPUTE", "disputed"),
        ("waiting_payment", "pending"),
        ("PRINTED_BILLET", "pending"),
        ("OVERDUE", "overdue"),
        ("ABANDONED", "abandoned"),
        ("COMPLETE", "complete"),
        ("SOMETHING_NEW", None),
        (None, None),
        (7, None),
    ],
)
def test_normalize_status(value, expected):
    assert normalize_status(value) == expected


# --- keys and headers ------------------------------------------------------------------------


def test_make_key_joins_and_requires_every_part():
    assert make_key("order_approved", "abc") == "order_approved:abc"
    assert make_key("SALE_APPROVED", "ABC12345", 2) == "SALE_APPROVED:ABC12345:2"
    assert make_key("order_approved", None) is None
    assert make_key("order_approved", "  ") is None


def test_long_keys_are_clamped_but_stay_distinct():
    first = make_key("evt", "x" * 400)
    second = make_key("evt", "x" * 399 + "y")
    assert len(first) == MAX_KEY_LEN and len(second) == MAX_KEY_LEN
    assert first != second
    assert make_key("evt", "x" * 400) == first


def test_body_hash_key_is_stable_and_order_independent():
    one = body_hash_key("evt", {"a": 1, "b": [1, 2]})
    assert one == body_hash_key("evt", {"b": [1, 2], "a": 1})
    assert one != body_hash_key("evt", {"a": 2, "b": [1, 2]})
    assert len(one) <= MAX_KEY_LEN


def test_lower_headers_is_case_insensitive_and_tolerant():
    assert lower_headers({"X-HOTMART-HOTTOK": "abc", "Content-Type": "x"}) == {
        "x-hotmart-hottok": "abc",
        "content-type": "x",
    }
    assert lower_headers([("Token", "a"), ("token", "b")]) == {"token": "a"}
    assert lower_headers(None) == {}
    assert lower_headers(42) == {}
    assert lower_headers({"a": 1, b"b": b"2"}) == {"b": "2"}
