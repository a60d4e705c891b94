"""pt-BR display helpers: money as R$ 1.234,56, dates dd/mm/aaaa in America/Sao_Paulo."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal
from flask import Flask

LOCALE = "pt_BR"
DISPLAY_TZ = ZoneInfo("America/Sao_Paulo")


def brl(cents: int | None, currency: str = "BRL") -> str:
    if cents is None:
        return "—"
    value = Decimal(cents) / 100
    # Babel puts a no-break space after the symbol; keep it (it never wraps "R$" alone).
    return format_currency(value, currency or "BRL", locale=LOCALE)


def number(value: int | float | None) -> str:
    return "—" if value is None else format_decimal(value, locale=LOCALE)


def local(dt: datetime | None) -> datetime | None:
    return None if dt is None else dt.astimezone(DISPLAY_TZ)


def date_br(dt: datetime | None) -> str:
    return "—" if dt is None else local(dt).strftime("%d/%m/%Y")


def datetime_br(dt: datetime | None) -> str:
    return "—" if dt is None else local(dt).strftime("%d/%m/%Y %H:%M")


SALE_STATUS_LABELS = {
    "approved": "Aprovada",
    "complete": "Concluída",
    "pending": "Pendente",
    "refunded": "Reembolsada",
    "chargeback": "Chargeback",
    "canceled": "Cancelada",
    "refused": "Recusada",
    "expired": "Expirada",
    "disputed": "Em disputa",
    "overdue": "Em atraso",
    "abandoned": "Abandonada",
}


def sale_status(status: str | None) -> str:
    return SALE_STATUS_LABELS.get(status or "", status or "—")


def init_app(app: Flask) -> None:
    app.add_template_filter(sale_status)
    app.add_template_filter(brl)
    app.add_template_filter(number)
    app.add_template_filter(date_br)
    app.add_template_filter(datetime_br)
