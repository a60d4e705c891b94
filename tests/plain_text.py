"""What a seller reads on a page, and the words and codes that must not be there.

``visible(html)`` keeps the text a person sees (tags, scripts and styles stripped) plus the
attributes a browser shows or reads aloud (``title``, ``placeholder``, ``aria-label``, ``alt``
and the ``value`` of buttons); text inside a "Detalhes técnicos" ``<details>`` disclosure is
kept apart. ``english(text)`` and ``raw_codes(text)`` list what a seller should never read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from app.formatting import EVENT_LABELS

# Common English interface words (whole words, case-insensitive).
ENGLISH = re.compile(
    r"\b(save|cancel|submit|settings|search|delete|edit|download|upload|loading|error|errors|"
    r"warning|success|password|username|click|next|previous|back|home|help|sign in|sign up|"
    r"log ?in|log ?out|required|optional|enter|step|steps|webhook url|menu name|may vary|the|"
    r"and|your|you|this|that|with|from|please|field|invalid|must|characters|not a valid|"
    r"close|show|hide|view|details|create|add|update|refresh|retry|send|sent|failed|"
    r"pending|approved|refunded|processed|received|ignored|superseded|running|succeeded|"
    r"queued|cancelled|canceled|enabled|disabled|true|false|none|null|yes|filter|filters|"
    r"sort|sort by|page|of|is|are|for|overview|dashboard|sales|customers|reports|sync|"
    r"syncing|subscriptions|activations|buyer|products?|contacts?|deals?|unknown|"
    r"sandbox mode|production|schedule|every|hours?|minutes?|days?|never|today|"
    r"yesterday|week|month|year|total|amount|price|date|name|new|old|last|first|all|any|"
    r"empty|no results|not found|forbidden|bad request|too many requests|internal server|"
    r"unauthorized|method not allowed|something went wrong|try again)\b",
    re.I,
)

# Names a seller reads as they are: brands, formats and the platforms' own field names.
ALLOWED = re.compile(
    r"\b(Hotmart|Kiwify|Kirvano|Kommo|Gestão Click|Telegram|Eduzz|MyEduzz|PIX|CSV|UTM|"
    r"E-mail|SMTP|TLS|SSL|STARTTLS|URL|API|token|tokens|webhook|webhooks|"
    r"Client ID|Client Secret|Secret access token|Access token|Basic|Hottok|"
    r"Google Pay|PayPal|Chargeback|Sandbox|Vendas Hub|WhatsApp|HTTPS|HTTP|"
    r"Total|Status|Online|Login|Link|Links|Bot|Chat|CRM|ID|IDs)\b",
    re.I,
)

# What people type or receive: addresses, e-mail addresses and ids are data, not interface.
DATA = re.compile(r"(https?://\S+|\S+@\S+|/[\w\-/.?=&<>;]+)")

# Event codes (PURCHASE_APPROVED, order_approved, myeduzz.invoice_paid) and server variable
# names (KOMMO_PUSH_SALES): upper-case words joined by underscores, and the platforms' event
# names in lower case.
UPPER_SNAKE = re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b")
EVENT_CODES = re.compile(
    r"\b(?:myeduzz\.)?("
    + "|".join(sorted((c for c in EVENT_LABELS if "_" in c), key=len, reverse=True))
    + r")\b"
)

_SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
_SKIPPED = {"script", "style", "template"}
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


@dataclass
class Text:
    main: list[str] = field(default_factory=list)  # outside "Detalhes técnicos"
    technical: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # <code>/<pre> outside "Detalhes técnicos"

    @property
    def main_text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.main))

    @property
    def code_text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.code))


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self.stack: list[tuple[str, bool]] = []  # (tag, translate="no")
        self.skip = 0
        self.code = 0
        self.untranslated = 0  # inside translate="no": names and codes as typed (data)
        self.details: list[bool] = []  # one per open <details>: is it the technical one?
        self.summary: list[str] | None = None

    @property
    def technical(self) -> bool:
        return any(self.details)

    def _add(self, value: str, code: bool = False) -> None:
        value = value.strip()
        if not value or self.untranslated:
            return
        if self.technical:
            self.text.technical.append(value)
        elif code or self.code:
            self.text.code.append(value)
        else:
            self.text.main.append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _SKIPPED:
            self.skip += 1
        if tag in ("code", "pre", "kbd", "samp"):
            self.code += 1
        if tag == "details":
            self.details.append(False)
        if tag == "summary" and self.details:
            self.summary = []
        if not self.skip:
            for name in _SHOWN_ATTRIBUTES:
                if attrs.get(name):
                    self._add(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button", "reset"):
                self._add(attrs.get("value") or "")
        if tag not in _VOID:
            untranslated = attrs.get("translate") == "no"
            self.untranslated += untranslated
            self.stack.append((tag, untranslated))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag not in (t for t, _ in self.stack):
            return
        while self.stack:
            open_tag, untranslated = self.stack.pop()
            self.untranslated -= untranslated
            if open_tag in _SKIPPED:
                self.skip -= 1
            if open_tag in ("code", "pre", "kbd", "samp"):
                self.code -= 1
            if open_tag == "summary" and self.summary is not None and self.details:
                label = " ".join(self.summary).strip().lower()
                self.details[-1] = label.startswith("detalhes técnicos")
                self.summary = None
            if open_tag == "details" and self.details:
                self.details.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.skip:
            return
        if self.summary is not None:
            self.summary.append(data)
        self._add(data)


def visible(html: str) -> Text:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.text


def _in_context(text: str, matches) -> list[str]:
    """Each distinct match with a few words around it (what the failure message shows)."""
    seen = {}
    for m in matches:
        seen.setdefault(m.group(0), text[max(0, m.start() - 40) : m.end() + 40].strip())
    return [f"{word!r} in “…{around}…”" for word, around in sorted(seen.items())]


def english(text: str) -> list[str]:
    """The English interface words in ``text`` (brands, addresses and e-mails left out)."""
    text = ALLOWED.sub(" ", DATA.sub(" ", text))
    return _in_context(text, ENGLISH.finditer(text))


def raw_codes(text: str) -> list[str]:
    """Event codes and server variable names in ``text``."""
    text = DATA.sub(" ", text)
    return _in_context(text, [*UPPER_SNAKE.finditer(text), *EVENT_CODES.finditer(text)])


# "1 sincronização(ões)", "venda(s)": a plural written for both numbers at once instead of
# the one the number asks for (app.formatting.ngettext).
PARENTHESISED_PLURAL = re.compile(r"\w\((?:s|es|ões|ns|is)\)", re.IGNORECASE)


def parenthesised_plurals(text: str) -> list[str]:
    return _in_context(text, PARENTHESISED_PLURAL.finditer(text))
