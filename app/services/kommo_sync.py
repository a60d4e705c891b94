"""Kommo syncers (declared in ``app.registry``): ``contacts`` and ``leads``, every 15 min.

Incremental with ``filter[updated_at][from]`` = start of the last successful run minus an
overlap (``order[updated_at]=asc``), everything on the first or a ``full`` run. Upserts by
Kommo id report created/updated/unchanged, so a re-run changes nothing. 401/402/403 abort the
run at once with a pt-BR message (403 is Kommo's abuse block: hammering it extends the block).
Deleted entities vanish from Kommo's lists; they stay here until a future ``/events`` pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from app.clients.errors import AuthenticationError, PaymentRequiredError, PermissionDeniedError
from app.extensions import db
from app.models import KommoContact, KommoLead
from app.registry import integration as declared
from app.services import integration, sync
from app.services.kommo_mapping import (
    account_currency,
    contact_fields,
    lead_fields,
    pipeline_names,
)
from app.services.sync_writes import upsert_pages

KOMMO = declared("kommo")

MSG_SYNC_AUTH = (
    "Kommo: o token foi recusado (HTTP 401). Gere um novo token de longa duração e atualize-o "
    "em Configurações. A sincronização foi interrompida."
)
MSG_SYNC_PAYMENT = (
    "Kommo: a assinatura da conta terminou (HTTP 402). A sincronização foi interrompida até o "
    "plano ser renovado."
)
MSG_SYNC_BLOCKED = (
    "Kommo: acesso bloqueado (HTTP 403) — excesso de requisições ou token sem permissão de "
    "administrador. A sincronização foi interrompida para não prolongar o bloqueio; aguarde "
    "antes de tentar de novo."
)


def updated_from(ctx: sync.SyncContext, full: bool) -> datetime | None:
    """None (everything) on a full or first run; else the last success minus the overlap."""
    if full or ctx.last_success_at is None:
        return None
    overlap = int(integration.cfg(KOMMO, "KOMMO_SYNC_OVERLAP_SECONDS"))
    return ctx.last_success_at - timedelta(seconds=overlap)


@contextmanager
def _aborting() -> Iterator[None]:
    """401/402/403 end the run with the pt-BR reason (never retried: see the docstring)."""
    try:
        yield
    except AuthenticationError:
        raise sync.SyncError(MSG_SYNC_AUTH) from None
    except PaymentRequiredError:
        raise sync.SyncError(MSG_SYNC_PAYMENT) from None
    except PermissionDeniedError:
        raise sync.SyncError(MSG_SYNC_BLOCKED) from None


def _page_size() -> int:
    return int(integration.cfg(KOMMO, "KOMMO_PAGE_SIZE"))


def sync_contacts(ctx: sync.SyncContext, full: bool) -> None:
    client = integration.client_for_sync(KOMMO)
    since = updated_from(ctx, full)
    with client, _aborting():
        pages = client.contact_pages(updated_from=since, limit=_page_size())
        db.session.commit()  # no read transaction held while Kommo answers
        upsert_pages(ctx, pages, KommoContact, contact_fields)


def sync_leads(ctx: sync.SyncContext, full: bool) -> None:
    client = integration.client_for_sync(KOMMO)
    since = updated_from(ctx, full)
    with client, _aborting():
        names = pipeline_names(client.pipelines())
        # lead prices are whole units of the account currency (not always BRL)
        currency = account_currency(client.account())
        pages = client.lead_pages(updated_from=since, limit=_page_size())
        db.session.commit()
        upsert_pages(ctx, pages, KommoLead, lambda item: lead_fields(item, names, currency))
