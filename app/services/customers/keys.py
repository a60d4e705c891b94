"""Matching keys of a person: normalized e-mail, E.164 phone, CPF/CNPJ, name words.

Pure functions (no database): ``app.services.customers.index`` stores their output in
``customer_keys`` and ``group`` is the union-find the customer page and tests rely on.

E-mail policy
-------------
Unicode NFKC, surrounding whitespace dropped, case folded. **Plus-addresses stay distinct**
(``ana+curso@x.com`` is not ``ana@x.com``): the part after ``+`` is chosen by the buyer and
often names a separate purchase identity, and activation links go to the exact address, so
merging them would show one buyer another's purchases. Gmail dots are kept for the same
reason. The only alias folded is ``googlemail.com`` → ``gmail.com``: Google documents both
domains as the same mailbox (an account answers at either), so they are one person by
definition rather than by guess.

Phone: E.164 with ``phonenumbers`` (Brazil when no country code is written; ``0``/``0xx``
trunk and carrier prefixes are understood); numbers the library calls invalid are ignored.
Document: CPF (11 digits) or CNPJ (14 digits) with valid check digits, else ignored.
Names are only searched (words, accents and case removed), never matched on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from typing import Any

import phonenumbers

EMAIL = "email"
PHONE = "phone"
DOC = "doc"
NAME = "name"
MATCH_KINDS = (EMAIL, PHONE, DOC)  # the kinds that join records into one person
MAX_VALUE = 254

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def email_key(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    email = unicodedata.normalize("NFKC", value).strip().casefold()
    if len(email) > MAX_VALUE or not _EMAIL_RE.match(email):
        return None
    local, domain = email.rsplit("@", 1)
    return f"{local}@{_DOMAIN_ALIASES.get(domain, domain)}"


def phone_key(value: Any, region: str = "BR") -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    raw = unicodedata.normalize("NFKC", str(value)).strip()
    if not raw or len(raw) > 64:
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_digit(digits: str, weights: Iterable[int]) -> str:
    total = sum(int(d) * w for d, w in zip(digits, weights, strict=False))
    rest = total % 11
    return "0" if rest < 2 else str(11 - rest)


def valid_cpf(digits: str) -> bool:
    if len(digits) != 11 or not digits.isdecimal() or len(set(digits)) == 1:
        return False
    first = _check_digit(digits[:9], range(10, 1, -1))
    second = _check_digit(digits[:10], range(11, 1, -1))
    return digits[9:] == first + second


def valid_cnpj(digits: str) -> bool:
    if len(digits) != 14 or not digits.isdecimal() or len(set(digits)) == 1:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    first = _check_digit(digits[:12], weights)
    second = _check_digit(digits[:13], [6, *weights])
    return digits[12:] == first + second


def document_key(value: Any) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    raw = unicodedata.normalize("NFKC", str(value))
    if len(raw) > 40:
        return None
    digits = "".join(ch for ch in raw if "0" <= ch <= "9")
    if len(digits) == 11 and valid_cpf(digits):
        return digits
    if len(digits) == 14 and valid_cnpj(digits):
        return digits
    return None


def fold(value: str) -> str:
    """Lower case without accents (``"João"`` → ``"joao"``), for name search."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def name_keys(value: Any) -> set[str]:
    if not isinstance(value, str):
        return set()
    words = re.findall(r"\w+", fold(value))
    return {w[:MAX_VALUE] for w in words if len(w) >= 2}


def record_keys(
    *,
    emails: Iterable[Any] = (),
    phones: Iterable[Any] = (),
    documents: Iterable[Any] = (),
    names: Iterable[Any] = (),
) -> set[tuple[str, str]]:
    """Every (kind, value) key of one record; invalid values are left out."""
    out: set[tuple[str, str]] = set()
    for kind, values, norm in (
        (EMAIL, emails, email_key),
        (PHONE, phones, phone_key),
        (DOC, documents, document_key),
    ):
        for value in values:
            key = norm(value)
            if key:
                out.add((kind, key))
    for value in names:
        out.update((NAME, word) for word in name_keys(value))
    return out


def query_key(q: str) -> tuple[str, str] | None:
    """The (kind, prefix) a search box text means: an e-mail when it has ``@``; a valid
    CPF/CNPJ, else a phone, when it is digits (and punctuation); else the longest name word."""
    q = unicodedata.normalize("NFKC", q or "").strip()[:MAX_VALUE]
    if not q:
        return None
    if "@" in q:
        return (EMAIL, q.casefold())
    digits = "".join(ch for ch in q if "0" <= ch <= "9")
    if digits and not re.sub(r"[\s().\-/+0-9]", "", q):
        document = document_key(digits)
        if document:
            return (DOC, document)
        phone = phone_key(q)
        if phone:
            return (PHONE, phone)
        if q.startswith("+") or (digits.startswith("55") and len(digits) >= 12):
            return (PHONE, "+" + digits)
        return (PHONE, "+55" + digits.lstrip("0"))
    words = sorted(name_keys(q), key=lambda w: (-len(w), w))
    return (NAME, words[0]) if words else None


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}

    def find(self, item: Hashable) -> Hashable:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def group(records: dict[Hashable, set[tuple[str, str]]]) -> list[set[Hashable]]:
    """People from records (``{record id: its keys}``): records sharing any e-mail, phone or
    document key are one person, transitively. Name words never join records."""
    uf = UnionFind()
    for rid, keys in records.items():
        uf.find(("r", rid))
        for key in keys:
            if key[0] in MATCH_KINDS:
                uf.union(("r", rid), ("k", key))
    people: dict[Hashable, set[Hashable]] = {}
    for rid in records:
        people.setdefault(uf.find(("r", rid)), set()).add(rid)
    return sorted(people.values(), key=lambda s: sorted(map(str, s)))
