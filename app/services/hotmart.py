"""Hotmart integration: client from settings, token cache in the database, syncers.

* ``build_client()`` reads every credential through ``app.services.settings`` (database values
  win over the environment) and caches the OAuth token in ``ApiToken`` (encrypted), so every
  worker and process shares one token.
* ``test_connection()`` never raises: missing credentials and every API failure come back as a
  ``ConnectionResult`` with a pt-BR message.
* Syncers (registered by ``register()``): ``products`` (full list every run), ``sales`` (sales
  history in date windows: a lookback on the first/full run, else since the last success minus
  an overlap; plus one pass per revoked status, since Hotmart only lists APPROVED/COMPLETE
  without ``transaction_status``) and ``subscriptions`` (full list). All upsert by remote id and
  report ``unchanged`` when nothing differs, so a re-run changes nothing.

Synced sales land in the shared ``Sale`` table (one row per transaction, whichever of webhook
or sync saw it first) and **never** send activation e-mails: the history holds buyers from long
before this app, and mailing them signup links would be spam. Links come from webhooks only.

Size: one integration's settings, token cache, client factory, syncers and queries live here
(over 400 lines) until the API ``Integration`` descriptor takes the shared parts (issue #12's
next slice); the three integrations are split together then.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from app.clients.hotmart import (
    MSG_MISSING,
    ConnectionResult,
    HotmartClient,
    from_epoch,
    sales_windows,
)
from app.database import retry_on_lock
from app.extensions import db
from app.models import ApiToken, Product, Sale, Subscription
from app.models.types import utcnow
from app.services import bulk, bulk_sales, prefetch, rate_budget, settings, sync
from app.sources.base import (
    as_dict,
    as_int,
    decimal_to_cents,
    dig,
    normalize_currency,
    normalize_payment_method,
    normalize_status,
    text,
)

log = logging.getLogger(__name__)

PLATFORM = "hotmart"
SOURCE = "hotmart"
RESOURCES = {"products": "Produtos", "sales": "Vendas", "subscriptions": "Assinaturas"}
CREDENTIAL_KEYS = (
    "HOTMART_CLIENT_ID",
    "HOTMART_CLIENT_SECRET",
    "HOTMART_BASIC",
    "HOTMART_ENV",
    "HOTMART_API_URL",
    "HOTMART_AUTH_URL",
)
# Without transaction_status Hotmart lists only APPROVED and COMPLETE; these passes add the rest
# that matter for access (PROTESTED is the REST name of a dispute).
REVOKED_PASSES = ("REFUNDED", "CHARGEBACK", "CANCELLED", "PROTESTED")
GRANTING_REST = ("APPROVED", "COMPLETE")

DEFAULTS = {
    "HOTMART_SYNC_LOOKBACK_DAYS": 365,  # first (or full) sales sync reaches this far back
    "HOTMART_SYNC_OVERLAP_DAYS": 2,  # incremental syncs re-read this much before the last one
    "HOTMART_SYNC_WINDOW_DAYS": 30,  # sales/history date window (Hotmart 502s on slow queries)
    "HOTMART_PRODUCTS_PAGE_SIZE": 50,
    "HOTMART_PAGE_SIZE": 500,  # sales and subscriptions (Hotmart's maximum)
    "HOTMART_TIMEOUT": 35.0,  # read timeout, seconds (Hotmart gives up at 30 s)
    "HOTMART_CONNECT_TIMEOUT": 5.0,
    "HOTMART_THROTTLE_PER_SECOND": 8.0,  # 500 calls per minute per account
}
INTERVALS = {"products": 6 * 3600, "sales": 3600, "subscriptions": 6 * 3600}


def _cfg(key: str) -> Any:
    value = current_app.config.get(key)
    return DEFAULTS[key] if value in (None, "") else value


# ---------------------------------------------------------------------------- token store


class DatabaseTokenStore:
    """``TokenStore`` on the ``api_tokens`` table (token encrypted).

    Each call uses its own connection and short transaction, never the caller's session, so a
    token fetched by one worker is seen by all. If the database cannot be written (e.g. SQLite
    locked by the caller's own uncommitted work), the token is still kept in memory.
    """

    def __init__(self) -> None:
        self._memory: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, float] | None:
        table = ApiToken.__table__
        try:
            with db.engine.connect() as conn:
                row = conn.execute(
                    select(table.c.token, table.c.expires_at).where(table.c.name == key)
                ).first()
        except SQLAlchemyError as exc:
            log.warning("token cache read failed (%s); using the in-process copy", type(exc))
            with self._lock:
                return self._memory.get(key)
        except Exception:  # undecryptable (key rotated away): fetch a new token
            log.warning("cached token %s unreadable; a new one will be fetched", key)
            return None
        if row is None:
            return None
        return row.token, row.expires_at.timestamp()

    def set(self, key: str, token: str, expires_at: float) -> None:
        with self._lock:
            self._memory[key] = (token, expires_at)
        table = ApiToken.__table__
        values = {
            "token": token,
            "expires_at": datetime.fromtimestamp(expires_at, UTC),
            "updated_at": utcnow(),
        }
        try:
            with db.engine.begin() as conn:
                done = conn.execute(
                    update(table).where(table.c.name == key).values(**values)
                ).rowcount
                if not done:
                    conn.execute(insert(table).values(name=key, **values))
        except IntegrityError:  # inserted concurrently: overwrite with ours
            try:
                with db.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.name == key).values(**values))
            except SQLAlchemyError:
                log.warning("token cache write failed for %s", key)
        except (OperationalError, SQLAlchemyError):
            log.warning("token cache write failed for %s; kept in memory only", key)


_token_store: DatabaseTokenStore | None = None


def token_store() -> DatabaseTokenStore:
    global _token_store
    if _token_store is None:
        _token_store = DatabaseTokenStore()
    return _token_store


# ---------------------------------------------------------------------------- client


def credentials() -> dict[str, str | None]:
    return {key: settings.get(key) for key in CREDENTIAL_KEYS}


def environment() -> str:
    env = (settings.get("HOTMART_ENV") or "sandbox").strip().lower()
    return env if env in ("sandbox", "production") else "sandbox"


def is_configured() -> bool:
    """Client ID and secret known (directly, or through the Basic value)."""
    values = credentials()
    if values["HOTMART_CLIENT_ID"] and values["HOTMART_CLIENT_SECRET"]:
        return True
    if values["HOTMART_BASIC"]:
        return HotmartClient(None, None, basic=values["HOTMART_BASIC"]).has_credentials
    return False


def build_client(**options: Any) -> HotmartClient:
    """A ``HotmartClient`` from the current settings (token cached in the database)."""
    values = credentials()
    cfg = current_app.config
    throttle = _cfg("HOTMART_THROTTLE_PER_SECOND")
    options.setdefault("retry_attempts", int(cfg.get("RETRY_ATTEMPTS", 3)))
    options.setdefault("retry_delay", float(cfg.get("RETRY_DELAY", 1.0)))
    options.setdefault(
        "timeout", (float(_cfg("HOTMART_CONNECT_TIMEOUT")), float(_cfg("HOTMART_TIMEOUT")))
    )
    options.setdefault("throttle_per_second", float(throttle) if throttle else None)
    options.setdefault("token_store", token_store())
    options.setdefault("budget_store", rate_budget.store())
    return HotmartClient(
        values["HOTMART_CLIENT_ID"],
        values["HOTMART_CLIENT_SECRET"],
        basic=values["HOTMART_BASIC"],
        env=environment(),
        api_url=values["HOTMART_API_URL"],
        auth_url=values["HOTMART_AUTH_URL"],
        **options,
    )


def test_connection() -> ConnectionResult:
    """What "Testar conexão" shows. Never raises."""
    details: dict[str, Any] = {"env": environment()}
    if not is_configured():
        return ConnectionResult(False, MSG_MISSING, "missing_credentials", details)
    try:
        with build_client() as client:
            return client.test_connection()
    except Exception:
        log.exception("Hotmart connection test crashed")
        message = "Erro inesperado ao testar a conexão com a Hotmart. Veja o log do servidor."
        return ConnectionResult(False, message, "error", details)


test_connection.__test__ = False  # not a pytest test


def _client_for_sync() -> HotmartClient:
    if not is_configured():
        raise sync.SyncNotConfigured(MSG_MISSING)
    return build_client()


# ---------------------------------------------------------------------------- mapping


def _ms(value: Any) -> datetime | None:
    """A REST date: epoch milliseconds as documented, but seconds too (detected by magnitude:
    anything below 10^11 is seconds), a digit string, or an ISO/local date string."""
    return from_epoch(value)


def product_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 64)
    if remote_id is None:
        return None
    price = as_dict(item.get("price"))
    return {
        "remote_id": remote_id,
        "ucode": text(item.get("ucode"), 64),
        "name": text(item.get("name")) or "",
        "status": text(item.get("status"), 32),
        "format": text(item.get("format"), 32),
        "price_cents": decimal_to_cents(price.get("value")) if price else None,
        "currency": normalize_currency(price.get("currency_code") or price.get("currency_value"))
        if price
        else None,
        "is_subscription": bool(item.get("is_subscription")),
        "warranty_period": as_int(item.get("warranty_period")),
        "remote_created_at": _ms(item.get("created_at")),
        "raw": item,
    }


def sale_fields(item: dict, ucodes: dict[str, str]) -> dict[str, Any] | None:
    """A sales/history item → ``Sale`` fields plus ``status``/``occurred_at``/``approved_at``."""
    purchase = as_dict(item.get("purchase"))
    transaction = text(purchase.get("transaction"))
    if transaction is None:
        return None
    product = as_dict(item.get("product"))
    buyer = as_dict(item.get("buyer"))
    price = as_dict(purchase.get("price"))
    product_id = text(product.get("id"))
    status = normalize_status(purchase.get("status"))
    approved_at = _ms(purchase.get("approved_date"))
    order_at = _ms(purchase.get("order_date"))
    return {
        "transaction_id": transaction,
        "status": status,
        "approved_at": approved_at,
        # REST gives no refund/cancellation date: the order date is the best known moment
        # (a status only moves forward, so an older date never undoes a newer webhook).
        "occurred_at": approved_at or order_at,
        "fields": {
            "buyer_email": bulk.email(buyer.get("email")),
            "buyer_name": text(buyer.get("name")),
            # webhook sales prefer the product ucode: use it when known so both agree
            "product_id": text(product.get("ucode"))
            or (ucodes.get(product_id) if product_id else None)
            or product_id,
            "product_name": text(product.get("name")),
            "ordered_at": order_at,
            "offer_code": text(dig(purchase, "offer", "code")),
            "amount_cents": decimal_to_cents(price.get("value")),
            "currency": normalize_currency(price.get("currency_code"))
            or normalize_currency(price.get("currency_value")),
            "payment_method": normalize_payment_method(
                dig(purchase, "payment", "type") or dig(purchase, "payment", "method")
            ),
            "subscription_id": text(dig(item, "subscription", "subscriber", "code")),
            "recurrence_number": as_int(
                purchase.get("recurrency_number") or purchase.get("recurrence_number")
            ),
        },
    }


def subscription_fields(item: dict) -> dict[str, Any] | None:
    code = text(item.get("subscriber_code"), 64)
    product = as_dict(item.get("product"))
    product_id = text(product.get("id"), 64)
    if code is None or product_id is None:
        return None
    plan = as_dict(item.get("plan"))
    price = as_dict(item.get("price"))
    subscriber = as_dict(item.get("subscriber"))
    return {
        "subscriber_code": code,
        "product_id": product_id,
        "subscription_id": text(item.get("subscription_id"), 64),
        "product_name": text(product.get("name")),
        "product_ucode": text(product.get("ucode"), 64),
        "status": text(item.get("status"), 32),
        "plan_id": text(plan.get("id"), 64),
        "plan_name": text(plan.get("name")),
        "buyer_name": text(subscriber.get("name")),
        "buyer_email": bulk.email(subscriber.get("email")),
        "accession_date": _ms(item.get("accession_date")),
        "date_next_charge": _ms(item.get("date_next_charge")),
        "price_cents": decimal_to_cents(price.get("value")),
        "currency": normalize_currency(price.get("currency_code")),
    }


# ---------------------------------------------------------------------------- syncers


def _mapped(ctx: sync.SyncContext, items, mapper) -> list[dict]:
    """The mapped items of a page; the ones without their key are counted ``failed``."""
    rows = [r for r in (mapper(i) for i in items if isinstance(i, dict)) if r]
    if len(items) > len(rows):
        ctx.tally({"failed": len(items) - len(rows)})
    return rows


def sync_products(ctx: sync.SyncContext, full: bool) -> None:
    """Every product, every run (catalogues are small); upsert by remote id."""
    client = _client_for_sync()
    db.session.commit()
    pages = client.product_pages(page_size=int(_cfg("HOTMART_PRODUCTS_PAGE_SIZE")))
    with client, prefetch.ahead(pages) as fetched:
        total_set = False
        for page in fetched:
            ctx.check_cancel()
            if not total_set and page.total_results is not None:
                ctx.set_total(page.total_results)
                total_set = True
            rows = _mapped(ctx, page.items, product_fields)
            bulk.upsert_page(ctx, Product, rows, fixed={"platform": PLATFORM})
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
    client = _client_for_sync()
    db.session.commit()
    pages = client.subscription_pages(page_size=int(_cfg("HOTMART_PAGE_SIZE")))
    with client, prefetch.ahead(pages) as fetched:
        total_set = False
        for page in fetched:
            ctx.check_cancel()
            if not total_set and page.total_results is not None:
                ctx.set_total(page.total_results)
                total_set = True
            rows = _mapped(ctx, page.items, subscription_fields)
            # one subscriber code may repeat across products: key on both
            bulk.upsert_page(
                ctx,
                Subscription,
                rows,
                keys=("subscriber_code", "product_id"),
                fixed={"platform": PLATFORM},
            )


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
    client = _client_for_sync()
    start, end = sales_range(ctx, full)
    page_size = int(_cfg("HOTMART_PAGE_SIZE"))
    ucodes = _product_ucodes()
    db.session.commit()  # no read transaction held while the API answers
    total = 0
    pages = _mapped_sales_pages(_sales_pages(client, start, end, page_size), ucodes)
    with client, prefetch.ahead(pages) as fetched:
        for page, sales in fetched:
            ctx.check_cancel()
            if page.number == 1:
                total += page.total_results or len(page.items)
                ctx.set_total(total)
            if None in sales:
                ctx.tally({"failed": sales.count(None)})
            bulk_sales.upsert_sales_page(ctx, PLATFORM, [s for s in sales if s is not None])


def register() -> None:
    for resource, func_ in (
        ("products", sync_products),
        ("sales", sync_sales),
        ("subscriptions", sync_subscriptions),
    ):
        sync.register(
            SOURCE,
            resource,
            func_,
            RESOURCES[resource],
            interval=INTERVALS[resource],
            enabled=is_configured,
            source_label="Hotmart",
        )


# ---------------------------------------------------------------------------- queries (pages/API)

PRODUCT_SORTS = {
    "name": Product.name,
    "status": Product.status,
    "price": Product.price_cents,
    "created": Product.remote_created_at,
}


def products_query(query: str = "", sort: str = "name", direction: str = "asc"):
    stmt = select(Product).where(Product.platform == PLATFORM)
    query = (query or "").strip()[:200]
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Product.name).like(like),
                Product.remote_id == query,
                func.lower(Product.ucode) == query.lower(),
            )
        )
    column = PRODUCT_SORTS.get(sort, Product.name)
    order = column.desc() if direction == "desc" else column.asc()
    return stmt.order_by(order.nulls_last(), Product.id)


def subscriptions_query(status: str = ""):
    stmt = select(Subscription).where(Subscription.platform == PLATFORM)
    if status:
        stmt = stmt.where(Subscription.status == status)
    return stmt.order_by(Subscription.accession_date.desc().nulls_last(), Subscription.id.desc())


def subscription_statuses() -> list[str]:
    return list(
        db.session.scalars(
            select(Subscription.status)
            .where(Subscription.platform == PLATFORM, Subscription.status.is_not(None))
            .distinct()
            .order_by(Subscription.status)
        )
    )


def recent_sales(limit: int = 20) -> list[Sale]:
    return list(
        db.session.scalars(
            select(Sale)
            .where(Sale.platform == PLATFORM)
            .order_by(func.coalesce(Sale.approved_at, Sale.created_at).desc(), Sale.id.desc())
            .limit(limit)
        )
    )


def counts() -> dict[str, int]:
    def count(model, *where) -> int:
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.platform == PLATFORM, *where)
        )

    return {
        "products": count(Product),
        "subscriptions": count(Subscription),
        "sales": count(Sale),
        "synced_sales": count(Sale, Sale.source == "sync"),
    }


def overview() -> dict[str, Any]:
    """Credential status for the page: which are set and where they come from (no values)."""
    keys = ("HOTMART_CLIENT_ID", "HOTMART_CLIENT_SECRET", "HOTMART_BASIC", "HOTMART_ENV")
    keys += ("HOTMART_API_URL", "HOTMART_AUTH_URL")
    return {
        "configured": is_configured(),
        "env": environment(),
        "sources": {key: settings.source(key) for key in keys},
        "api_url": settings.get("HOTMART_API_URL"),
    }
