"""Hotmart syncers (declared in ``app.registry``): products, sales history, subscriptions.

``products`` and ``subscriptions`` re-read the full list every run; ``sales`` reads the sales
history in date windows (Hotmart 502s on slow queries): a lookback on the first/full run, else
since the last success minus an overlap, plus one pass per revoked status, since Hotmart only
lists APPROVED/COMPLETE without ``transaction_status``. All upsert by remote id and report
``unchanged`` when nothing differs, so a re-run changes nothing.

Synced sales land in the shared ``Sale`` table and **never** send activation e-mails: the
history holds buyers from long before this app, and mailing them signup links would be spam.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.clients.hotmart import HotmartClient, sales_windows
from app.database import retry_on_lock
from app.extensions import db
from app.models import Product, Sale, Subscription
from app.models.types import utcnow
from app.registry import integration as declared
from app.services import bulk_sales, integration, prefetch, subscriptions, sync
from app.services.hotmart_mapping import product_fields, sale_fields, subscription_fields
from app.services.sync_writes import NOT_A_RECORD, upsert_pages

HOTMART = declared("hotmart")
PLATFORM = HOTMART.name
# Without transaction_status Hotmart lists only APPROVED and COMPLETE; these passes add the rest
# that matter for access (PROTESTED is the REST name of a dispute).
REVOKED_PASSES = ("REFUNDED", "CHARGEBACK", "CANCELLED", "PROTESTED")


def _cfg(key: str) -> Any:
    return integration.cfg(HOTMART, key)


def _total(page) -> int | None:
    return page.total_results


def sync_products(ctx: sync.SyncContext, full: bool) -> None:
    """Every product, every run (catalogues are small); upsert by remote id."""
    client = integration.client_for_sync(HOTMART)
    db.session.commit()
    pages = client.product_pages(page_size=int(_cfg("HOTMART_PRODUCTS_PAGE_SIZE")))
    with client:
        upsert_pages(
            ctx, pages, Product, product_fields, total=_total, fixed={"platform": PLATFORM}
        )
    retry_on_lock(unify_product_ids, what="hotmart product identity")


def unify_product_ids() -> int:
    """One product identity: sales (and links) stored under the numeric product id, as the
    REST history sends it when the catalogue was not known yet, move to the product's ucode,
    as webhooks send it. Returns how many sales moved."""
    from app.models import ActivationLink

    moved = 0
    known = select(Product.remote_id).where(
        Product.platform == PLATFORM, Product.ucode.is_not(None)
    )
    for model in (Sale, ActivationLink):
        ucode = (
            select(Product.ucode)
            .where(
                Product.platform == PLATFORM,
                Product.remote_id == model.product_id,
                Product.ucode.is_not(None),
            )
            .scalar_subquery()
        )
        result = db.session.execute(
            update(model)
            .where(model.platform == PLATFORM, model.product_id.in_(known))
            .values(product_id=ucode)
            .execution_options(synchronize_session=False)
        )
        if model is Sale:
            moved = result.rowcount or 0
    db.session.commit()
    return moved


def sync_subscriptions(ctx: sync.SyncContext, full: bool) -> None:
    """Every subscription, every run; upsert by (subscriber code, product)."""
    client = integration.client_for_sync(HOTMART)
    db.session.commit()
    pages = client.subscription_pages(page_size=int(_cfg("HOTMART_PAGE_SIZE")))
    with client:
        # one subscriber code may repeat across products: key on both
        upsert_pages(
            ctx,
            pages,
            Subscription,
            subscription_fields,
            total=_total,
            keys=("subscriber_code", "product_id"),
            fixed={"platform": PLATFORM},
        )
    subscriptions.settle_pending(PLATFORM)  # the MRR movement of what changed


def sales_range(ctx: sync.SyncContext, full: bool, now: datetime | None = None):
    """[start, end] of sales/history to read: lookback when full/first, else since the last
    successful run minus the overlap."""
    end = now or utcnow()
    if full or ctx.last_success_at is None:
        start = end - timedelta(days=int(_cfg("HOTMART_SYNC_LOOKBACK_DAYS")))
    else:
        start = ctx.last_success_at - timedelta(days=int(_cfg("HOTMART_SYNC_OVERLAP_DAYS")))
    return min(start, end), end


def _product_ucodes() -> dict[str, str]:
    rows = db.session.execute(
        select(Product.remote_id, Product.ucode).where(
            Product.platform == PLATFORM, Product.ucode.is_not(None)
        )
    )
    return {remote_id: ucode for remote_id, ucode in rows}


def synced_sale(item: Any, ucodes: dict[str, str]) -> bulk_sales.SyncedSale | None:
    mapped = sale_fields(item, ucodes) if isinstance(item, dict) else None
    if mapped is None:
        return None
    return bulk_sales.SyncedSale(
        mapped["transaction_id"],
        mapped["fields"],
        mapped["status"],
        occurred_at=mapped["occurred_at"],
        approved_at=mapped["approved_at"],
    )


def _note_unmapped_sale(ctx: sync.SyncContext, item: Any) -> None:
    purchase = item.get("purchase") if isinstance(item, dict) else None
    transaction = purchase.get("transaction") if isinstance(purchase, dict) else None
    if isinstance(item, dict):
        message = (
            "A Hotmart enviou esta venda sem o código da transação ou sem dados essenciais; "
            "ela não foi salva."
        )
    else:
        message = NOT_A_RECORD
    ctx.fail(transaction if isinstance(transaction, (str, int)) else None, message)


def _sales_pages(client: HotmartClient, start: datetime, end: datetime, page_size: int):
    """Every page of every pass and date window, for one prefetch thread."""
    window_days = int(_cfg("HOTMART_SYNC_WINDOW_DAYS"))
    for status in (None, *REVOKED_PASSES):
        for window_start, window_end in sales_windows(start, end, window_days):
            yield from client.sales_pages(
                window_start, window_end, transaction_status=status, page_size=page_size
            )


def _mapped_sales_pages(pages, ucodes: dict[str, str]):
    """``(page, sales)``: each page mapped where it is fetched (the prefetch thread), so the
    mapping overlaps the previous page's write; ``None`` for an item without a transaction."""
    for page in pages:
        yield page, [synced_sale(item, ucodes) for item in page.items]


def sync_sales(ctx: sync.SyncContext, full: bool) -> None:
    """Sales history into the shared ``Sale`` table. Never sends activation e-mails."""
    client = integration.client_for_sync(HOTMART)
    start, end = sales_range(ctx, full)
    page_size = int(_cfg("HOTMART_PAGE_SIZE"))
    ucodes = _product_ucodes()
    db.session.commit()  # no read transaction held while the API answers
    # Several passes (status, date window) each say only their own total: the run's total is
    # not known ahead, so the page shows a running count instead of a made-up "done / total".
    pages = _mapped_sales_pages(_sales_pages(client, start, end, page_size), ucodes)
    with client, prefetch.ahead(pages) as fetched:
        for page, sales in fetched:
            ctx.check_cancel()
            if None in sales:
                ctx.tally({"failed": sales.count(None)})
                for item, sale in zip(page.items, sales, strict=True):
                    if sale is None:
                        _note_unmapped_sale(ctx, item)
            bulk_sales.upsert_sales_page(ctx, PLATFORM, [s for s in sales if s is not None])
