"""Rows for tests that need a list with something in it.

Each builder returns an unsaved row filled like a real one (a Hotmart course, a Kommo deal, a
Gestão Click order…); a test passes only the values it checks, and adds the rows itself
(``db.session.add_all([...])``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.models import (
    GcClient,
    GcProduct,
    GcSale,
    KommoContact,
    KommoLead,
    Product,
    Sale,
    Subscription,
    SyncRun,
)
from app.models.types import utcnow

BUYER_EMAIL = "maria@example.com"
SYNC_TIMEOUT = "Tempo esgotado ao falar com a API da Hotmart depois de três tentativas."


def sale(transaction_id: str, **values) -> Sale:
    """An approved Hotmart PIX sale of R$ 1.234,56 on 10/11/2026."""
    return Sale(
        **{
            "platform": "hotmart",
            "transaction_id": transaction_id,
            "status": "approved",
            "buyer_email": f"{transaction_id.lower()}@example.com",
            "buyer_name": "Maria",
            "product_name": "Curso",
            "amount_cents": 123_456,
            "currency": "BRL",
            "payment_method": "pix",
            "ordered_at": datetime(2026, 11, 10, 15, 0, tzinfo=UTC),
        }
        | values
    )


def hotmart_product(**values) -> Product:
    """An active Hotmart online course of R$ 197,00."""
    return Product(
        **{
            "platform": "hotmart",
            "remote_id": "4962378",
            "name": "Curso Exemplo",
            "status": "ACTIVE",
            "format": "ONLINE_COURSE",
            "price_cents": 19_700,
            "currency": "BRL",
        }
        | values
    )


def hotmart_subscription(**values) -> Subscription:
    """An active Hotmart subscription to the product of :func:`hotmart_product`."""
    return Subscription(
        **{
            "platform": "hotmart",
            "subscriber_code": "SUB0001",
            "product_id": "4962378",
            "product_name": "Clube de Assinantes",
            "status": "ACTIVE",
        }
        | values
    )


def kommo_contact(**values) -> KommoContact:
    return KommoContact(**{"remote_id": 1, "name": "Maria Souza"} | values)


def kommo_lead(**values) -> KommoLead:
    """A deal of :func:`kommo_contact`'s contact."""
    return KommoLead(**{"remote_id": 2, "name": "Mentoria", "contact_id": 1} | values)


def gc_sale(**values) -> GcSale:
    """A Gestão Click product order of R$ 459,90 on 02/11/2026."""
    return GcSale(
        **{
            "remote_id": "801",
            "codigo": "PED-8001",
            "cliente_nome": "Loja da Maria",
            "tipo": "produto",
            "data": date(2026, 11, 2),
            "valor_total_cents": 45_990,
        }
        | values
    )


def gc_client(**values) -> GcClient:
    return GcClient(**{"remote_id": "802", "nome": "Loja da Maria"} | values)


def gc_product(**values) -> GcProduct:
    return GcProduct(**{"remote_id": "803", "nome": "Camiseta"} | values)


def failed_sync_run(**values) -> SyncRun:
    """A Hotmart sales sync that timed out a moment ago, after five minutes."""
    now = utcnow()
    return SyncRun(
        **{
            "source": "hotmart",
            "resource": "sales",
            "status": "failed",
            "error": SYNC_TIMEOUT,
            "started_at": now - timedelta(minutes=5),
            "finished_at": now,
        }
        | values
    )
