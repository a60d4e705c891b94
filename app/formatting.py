"""pt-BR display helpers: money as R$ 1.234,56, dates dd/mm/aaaa in America/Sao_Paulo."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from babel.numbers import format_currency, format_decimal
from flask import Flask

from app.plurals import LOCALE, ngettext, plural

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


PAYMENT_LABELS = {
    "pix": "PIX",
    "credit_card": "Cartão de crédito",
    "boleto": "Boleto",
    "billet": "Boleto",
    "paypal": "PayPal",
    "google_pay": "Google Pay",
    "debit_card": "Cartão de débito",
    "wallet": "Carteira digital",
}
LINK_STATUS_LABELS = {
    "pending": "Pendente",
    "used": "Usado",
    "expired": "Expirado",
    "revoked": "Revogado",
}
EVENT_KIND_LABELS = {
    "crm": "Alteração no CRM",
    "grant": "Liberar acesso",
    "revoke": "Revogar acesso",
    "renew": "Renovação",
    "flag": "Atenção",
    "info": "Informativo",
    "noop": "Sem efeito",
    "bot": "Membro do grupo",  # the Telegram bot's updates: someone joined or left a group
}
# What a webhook event's ``transaction_id`` holds, when it is not a sale's transaction.
EVENT_SUBJECT_LABELS = {"telegram": "Grupo"}
REMOTE_STATUS_LABELS = {
    "ACTIVE": "Ativo",
    "INACTIVE": "Inativo",
    "DRAFT": "Rascunho",
    "PAUSED": "Pausado",
    "NOT_APPROVED": "Não aprovado",
    "IN_REVIEW": "Em revisão",
    "DELETED": "Excluído",
    "CHANGES_PENDING_ON_PRODUCT": "Alterações pendentes",
    "DELAYED": "Atrasada",
    "OVERDUE": "Vencida",
    "STARTED": "Iniciada",
    "EXPIRED": "Expirada",
    "CANCELLED_BY_CUSTOMER": "Cancelada pelo cliente",
    "CANCELLED_BY_SELLER": "Cancelada pelo vendedor",
    "CANCELLED_BY_ADMIN": "Cancelada pela Hotmart",
    "ONLINE_COURSE": "Curso online",
    "EBOOK": "E-book",
    "COMMUNITY": "Comunidade",
    "ONLINE_EVENT": "Evento online",
    "SOFTWARE": "Software",
    "BUNDLE": "Pacote",
    "ONLINE_SERVICE": "Serviço online",
    "TEMPLATES": "Modelos",
    "AUDIOS": "Áudios",
    "IMAGES": "Imagens",
    "VIDEOS": "Vídeos",
    "PHYSICAL": "Produto físico",
    "MOBILE_APPS": "Aplicativo",
    "AGENT": "Agente",
}


# Platform event names (app/sources/*.py EVENTS), lower case without the ``myeduzz.`` prefix,
# as a seller reads them; unknown names read "Evento da plataforma".
_EVENT_GROUPS = {
    "Compra aprovada": ("purchase_approved", "order_approved", "sale_approved", "invoice_paid"),
    "Compra concluída": ("purchase_complete",),
    "Reembolso": ("purchase_refunded", "order_refunded", "sale_refunded", "invoice_refunded"),
    "Chargeback": ("purchase_chargeback", "chargeback", "sale_chargeback", "invoice_chargeback"),
    "Compra cancelada": ("purchase_canceled", "invoice_canceled"),
    "Pagamento recusado": ("order_rejected", "sale_refused", "invoice_refused"),
    "Reclamação do comprador": ("purchase_protest",),
    "Pagamento em atraso": ("purchase_delayed", "subscription_late", "invoice_overdue"),
    "Assinatura vencida": ("subscription_expired",),
    "Boleto gerado": ("purchase_billet_printed", "billet_created", "bank_slip_generated"),
    "PIX gerado": ("pix_created", "pix_generated"),
    "Pagamento expirado": (
        "purchase_expired",
        "pix_expired",
        "bank_slip_expired",
        "invoice_expired",
    ),
    "Carrinho abandonado": (
        "purchase_out_of_shopping_cart",
        "abandoned_cart",
        "cart_abandonment",
    ),
    "Assinatura cancelada": (
        "subscription_cancellation",
        "subscription_canceled",
        "contract_canceled",
    ),
    "Assinatura suspensa": ("contract_suspended",),
    "Assinatura renovada": ("subscription_renewed",),
    "Aguardando pagamento": (
        "invoice_opened",
        "invoice_open",
        "invoice_waiting_payment",
        "invoice_recovering",
        "invoice_scheduled",
    ),
    "Reembolso solicitado": ("invoice_waiting_refund",),
    "Pagamento renegociado": ("invoice_negotiated",),
    "Troca de plano": ("switch_plan",),
    "Data de cobrança alterada": ("update_subscription_charge_date",),
    "Primeiro acesso à área de membros": ("club_first_access",),
    "Módulo concluído": ("club_module_completed",),
    "Pedido enviado": ("order_fulfillment",),
    "Assinatura criada": ("contract_created",),
    "Contrato atualizado": ("contract_updated",),
    "Comissão processada": ("commission_processed",),
    "Teste de conexão": ("ping",),
    "Entrada ou saída no Telegram": ("chat_member",),
    "Sincronização": ("sync",),
}
EVENT_LABELS = {code: label for label, codes in _EVENT_GROUPS.items() for code in codes}


def event_label(value: str | None) -> str:
    """``PURCHASE_REFUNDED`` → "Reembolso" (any platform's event name, in pt-BR)."""
    if not value:
        return "—"
    code = value.strip().lower().removeprefix("myeduzz.")
    return EVENT_LABELS.get(code, "Evento da plataforma")


def platform_label(value: str | None) -> str:
    """``gestao_click`` → "Gestão Click", ``kiwify`` → "Kiwify" (the registries' labels)."""
    from app.registry import INTEGRATIONS
    from app.sources.registry import SOURCES

    if not value:
        return "—"
    if value in SOURCES:
        return SOURCES[value].label
    labels = {i.name: i.label for i in INTEGRATIONS}
    return labels.get(value, value.replace("_", " ").title())


def payment_method(value: str | None) -> str:
    return PAYMENT_LABELS.get((value or "").lower(), value or "—")


def link_status(value: str | None) -> str:
    return LINK_STATUS_LABELS.get(value or "", value or "—")


def event_kind(value: str | None) -> str:
    return EVENT_KIND_LABELS.get(value or "", value or "—")


CURRENCY_WORDS = {"BRL": "em reais", "USD": "em dólares", "EUR": "em euros"}


def in_currency(code: str | None) -> str:
    """``BRL`` → "em reais" (a total's unit in words; an unusual code as it is)."""
    code = (code or "BRL").upper()
    return CURRENCY_WORDS.get(code, f"em {code}")


def product_code(product_id: object) -> str:
    """A product's id short enough to tell two products of one name apart: "6d5e420f…" for a
    long one (a UUID), the id itself when short ("6908269"); "" when there is none."""
    code = "" if product_id in (None, "", "None") else str(product_id)
    return f"{code[:8]}…" if len(code) > 12 else code


def event_subject(platform: str | None) -> str:
    """The name of a webhook event's ``transaction_id`` column: "Transação", or "Grupo" for
    the Telegram bot's updates (the group's id)."""
    return EVENT_SUBJECT_LABELS.get(platform or "", "Transação")


def remote_status(value: str | None) -> str:
    """Hotmart's upper-case product/subscription statuses and formats, in pt-BR (an unknown
    code reads as words: ``NEW_FORMAT`` → "New format")."""
    if not value:
        return "—"
    return REMOTE_STATUS_LABELS.get(value.upper()) or value.replace("_", " ").capitalize()


def percent(ratio: float | None, digits: int = 1) -> str:
    """0.125 → '12,5%' (pt-BR decimal comma)."""
    if ratio is None:
        return "—"
    return (
        format_decimal(round(ratio * 100, digits), format="#,##0." + "0" * digits, locale=LOCALE)
        + "%"
    )


def hours(seconds: float | None) -> str:
    return (
        "—"
        if seconds is None
        else format_decimal(round(seconds / 3600, 1), format="#,##0.0", locale=LOCALE) + " h"
    )


def phone(value: str | None) -> str:
    """An E.164 number as people write it: +55 11 99999-8888 (unparseable values as given)."""
    if not value:
        return "—"
    try:
        number = phonenumbers.parse(value, "BR")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def init_app(app: Flask) -> None:
    for f in (
        sale_status,
        event_label,
        platform_label,
        payment_method,
        link_status,
        event_kind,
        event_subject,
        in_currency,
        product_code,
        remote_status,
        percent,
        hours,
        phone,
    ):
        app.add_template_filter(f)
    app.add_template_global(ngettext)
    app.add_template_global(plural)
    app.add_template_filter(brl)
    app.add_template_filter(number)
    app.add_template_filter(date_br)
    app.add_template_filter(datetime_br)
