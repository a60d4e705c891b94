"""Gestão Click syncers (declared in ``app.registry``), upserting by the remote id and
reporting ``unchanged`` when nothing differs, so a re-run changes nothing:

- ``sales``: the platform has no "modified since" filter, so every run re-reads a trailing
  window of ``data`` (the last ``GESTAOCLICK_SYNC_DAYS`` days, 30 by default, stretched back
  to the last successful run if that is older; ``full`` reads ``GESTAOCLICK_FULL_SYNC_DAYS``,
  365). Without ``tipo`` the API may list product sales only, so each run makes a
  ``tipo=servico`` and a ``tipo=vendas_balcao`` pass first and then one without ``tipo``;
  a sale seen twice in one run is handled once.
- ``clients`` and ``products``: a full rescan each run; ``modificado_em`` and a fingerprint
  of the record decide between ``updated`` and ``unchanged``.

Default schedule: sales every 6 h, clients and products every 24 h (the API allows 30,000
requests a day per company; at 100 records a page a rescan of 10,000 clients costs 100).
Synced ERP sales stay in ``gc_sales``: they never touch the webhook ``Sale`` table and never
send activation e-mails.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.clients.gestao_click import TIMEZONE, GestaoClickClient
from app.extensions import db
from app.models import GcClient, GcProduct, GcSale
from app.registry import integration as declared
from app.services import bulk, integration, prefetch, sync
from app.services.gestao_click_mapping import client_fields, product_fields, sale_fields
from app.services.sync_writes import map_page, upsert_pages
from app.sources.base import text

GESTAO_CLICK = declared("gestao_click")
# Explicit passes first: a sale they return keeps its precise tipo when the pass without tipo
# (which may or may not include it) returns it again.
SALE_PASSES = ("servico", "vendas_balcao", None)


def _days(key: str) -> int:
    return int(integration.cfg(GESTAO_CLICK, key))


def today() -> date:
    """Today in São Paulo: the calendar ``data_inicio``/``data_fim`` refer to."""
    return datetime.now(TIMEZONE).date()


def sales_range(ctx: sync.SyncContext, full: bool, now: date | None = None) -> tuple[date, date]:
    """[data_inicio, data_fim] to re-read: the trailing window, reaching back to the last
    successful run when that is older (a paused schedule loses nothing); ``full``: the long
    window."""
    end = now or today()
    full_days = _days("GESTAOCLICK_FULL_SYNC_DAYS")
    if full:
        return end - timedelta(days=full_days), end
    start = end - timedelta(days=_days("GESTAOCLICK_SYNC_DAYS"))
    if ctx.last_success_at is not None:
        last = ctx.last_success_at.astimezone(TIMEZONE).date() - timedelta(days=1)
        start = min(start, max(last, end - timedelta(days=full_days)))
    return start, end


def _venda_passes(client: GestaoClickClient, start: date, end: date):
    """``(tipo, page)`` of every pass (see ``SALE_PASSES``), for one prefetch thread."""
    for tipo in SALE_PASSES:
        for page in client.venda_pages(start, end, tipo=tipo):
            yield tipo, page


def sync_sales(ctx: sync.SyncContext, full: bool) -> None:
    """Vendas of the trailing window, one pass per tipo (see the module docstring)."""
    client = integration.client_for_sync(GESTAO_CLICK)
    start, end = sales_range(ctx, full)
    db.session.commit()  # no read transaction held while the API answers
    seen: set[str] = set()
    # One pass per tipo, each with its own total: the run's total is not known ahead (and a
    # venda seen in an earlier pass is skipped), so the page shows a running count.
    with client, prefetch.ahead(_venda_passes(client, start, end)) as fetched:
        for tipo, page in fetched:
            ctx.check_cancel()
            fresh = []
            for item in page.items:
                key = text(item.get("id"), 32) if isinstance(item, dict) else None
                if key is not None and key in seen:  # already handled by an earlier pass
                    ctx.advance(1)
                    continue
                if key is not None:
                    seen.add(key)
                fresh.append(item)
            rows = map_page(ctx, fresh, lambda i, t=tipo: sale_fields(i, t))
            bulk.upsert_page(ctx, GcSale, rows)


def _first_page_total(page) -> int | None:
    """The total the API sent on the first page (``None`` when it did not say)."""
    if page.number != 1:
        return None
    return page.total


def sync_clients(ctx: sync.SyncContext, full: bool) -> None:
    """Every client, every run (there is no "modified since" filter)."""
    client = integration.client_for_sync(GESTAO_CLICK)
    db.session.commit()
    with client:
        upsert_pages(ctx, client.cliente_pages(), GcClient, client_fields, total=_first_page_total)


def sync_products(ctx: sync.SyncContext, full: bool) -> None:
    """Every product, every run."""
    client = integration.client_for_sync(GESTAO_CLICK)
    db.session.commit()
    with client:
        upsert_pages(
            ctx, client.produto_pages(), GcProduct, product_fields, total=_first_page_total
        )
