"""Portuguese plurals, importable from every layer (clients, sources, services, blueprints,
templates): it imports babel and nothing of the app, Flask or the database."""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal

LOCALE = "pt_BR"
_PLURAL_FORM = Locale.parse(LOCALE).plural_form


def plural(n: int | float, one: str, other: str) -> str:
    """``one`` or ``other``, whichever ``n`` asks for by babel's pt-BR rule — except that zero
    takes the plural ("0 vendas"), as this app has always written it (CLDR puts 0 in "one");
    1 000 000 ("many" in CLDR) takes ``other`` too."""
    return one if n and _PLURAL_FORM(abs(n)) == "one" else other


def ngettext(singular: str, plural_: str, n: int | float) -> str:
    """:func:`plural` with ``%(num)s`` replaced by ``n`` written the Brazilian way:
    ``ngettext("%(num)s falha", "%(num)s falhas", 1234)`` → "1.234 falhas"."""
    return plural(n, singular, plural_).replace("%(num)s", format_decimal(n, locale=LOCALE))
