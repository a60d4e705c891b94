"""Customer matching keys (app.services.customers.keys): normalization and union-find."""

from __future__ import annotations

import pytest

from app.services.customers.keys import (
    DOC,
    EMAIL,
    NAME,
    PHONE,
    document_key,
    email_key,
    fold,
    group,
    name_keys,
    phone_key,
    query_key,
    record_keys,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Ana@Example.COM", "ana@example.com"),
        ("  ana@example.com \n", "ana@example.com"),
        ("ＡＮＡ@ｅｘａｍｐｌｅ.com", "ana@example.com"),  # full-width, NFKC
        ("joão@exemplo.com.br", "joão@exemplo.com.br"),  # accents kept: a different mailbox
        ("ana@googlemail.com", "ana@gmail.com"),  # the one documented alias
        ("Ana.Silva@Gmail.com", "ana.silva@gmail.com"),  # dots kept
    ],
)
def test_email_normalization(raw, expected):
    assert email_key(raw) == expected


def test_plus_addresses_stay_distinct():
    assert email_key("ana+curso@gmail.com") == "ana+curso@gmail.com"
    assert email_key("ana+curso@gmail.com") != email_key("ana@gmail.com")


@pytest.mark.parametrize("raw", [None, "", "sem-arroba", "a@b", "a b@c.com", "@x.com", 42])
def test_invalid_emails_are_ignored(raw):
    assert email_key(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "+55 11 98765-4321",
        "(11) 98765-4321",
        "11987654321",
        "5511987654321",
        "011 98765 4321",
        "0xx11 98765-4321",
        "0055 11 98765 4321",
        " +55 (11) 9 8765-4321 ",
    ],
)
def test_brazilian_phones_become_one_e164(raw):
    assert phone_key(raw) == "+5511987654321"


def test_foreign_numbers_keep_their_country():
    assert phone_key("+1 650-253-0000") == "+16502530000"
    assert phone_key("+351 912 345 678") == "+351912345678"


@pytest.mark.parametrize(
    "raw", [None, "", "123", "abc", "0000000000", "+55 11 1234", "9" * 30, True]
)
def test_invalid_phones_are_ignored(raw):
    assert phone_key(raw) is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("123.456.789-09", "12345678909"),
        ("12345678909", "12345678909"),
        ("12.345.678/0001-95", "12345678000195"),
        ("12345678000195", "12345678000195"),
        (" 529.982.247-25 ", "52998224725"),
    ],
)
def test_documents_keep_digits_when_check_digits_are_right(raw, expected):
    assert document_key(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["123.456.789-00", "111.111.111-11", "12.345.678/0001-90", "00000000000000", "1234", "", None],
)
def test_documents_with_wrong_check_digits_are_ignored(raw):
    assert document_key(raw) is None


def test_names_fold_accents_and_case_and_are_search_only():
    assert fold("JOÃO Açaí") == "joao acai"
    assert name_keys("Maria José da Silva") == {"maria", "jose", "da", "silva"}
    people = group({1: record_keys(names=["Maria Silva"]), 2: record_keys(names=["Maria Silva"])})
    assert people == [{1}, {2}]  # the same name never joins two records


def test_union_find_joins_records_by_any_shared_key_transitively():
    records = {
        "sale": record_keys(emails=["Ana@Example.com"], phones=["(11) 98765-4321"]),
        "kommo": record_keys(emails=["outro@x.com"], phones=["+55 11 98765 4321"]),
        "gc": record_keys(emails=["outro@x.com"], documents=["123.456.789-09"]),
        "other": record_keys(emails=["ana+curso@example.com"], documents=["123.456.789-00"]),
        "empty": record_keys(phones=["123"]),
    }
    assert group(records) == [{"empty"}, {"gc", "kommo", "sale"}, {"other"}]


def test_record_keys_leave_out_invalid_values():
    keys = record_keys(
        emails=["ANA@x.com", "ruim"],
        phones=["11 98765-4321", "12"],
        documents=["123.456.789-09", "1"],
    )
    assert keys == {(EMAIL, "ana@x.com"), (PHONE, "+5511987654321"), (DOC, "12345678909")}


@pytest.mark.parametrize(
    "q, expected",
    [
        ("Ana@Ex", (EMAIL, "ana@ex")),
        ("123.456.789-09", (DOC, "12345678909")),
        ("(11) 98765-4321", (PHONE, "+5511987654321")),
        ("11 98765", (PHONE, "+551198765")),
        ("+351 91", (PHONE, "+35191")),
        ("José da Silva", (NAME, "silva")),
        ("x", None),
        ("", None),
    ],
)
def test_query_key(q, expected):
    assert query_key(q) == expected
