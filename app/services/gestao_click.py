"""Gestão Click integration: client from settings, "Testar conexão", syncers, list queries.

* ``build_client()`` reads the tokens and the base URL through ``app.services.settings``
  (database values win over the environment).
* ``test_connection()`` never raises.
* Syncers (registered by ``register()``), all upserting by the remote id and reporting
  ``unchanged`` when nothing differs, so a re-run changes nothing:

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

Size: one integration's settings, client factory, connection test, syncers and list queries
(over 400 lines) until the API ``Integration`` descriptor takes the shared parts (issue #12's
next slice); the three integrations are split together then.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from app.clients.gestao_click import (
    MSG_MISSING,
    TIMEZONE,
    GestaoClickClient,
    normalize_api_url,
)
from app.clients.gestao_click import usage as client_usage
from app.clients.results import ConnectionResult
from app.extensions import db
from app.models import GcClient, GcProduct, GcSale
from app.services import bulk, prefetch, rate_budget, settings, sync
from app.sources.base import (
    as_dict,
    as_list,
    decimal_to_cents,
    digits_only,
    local_to_utc,
    text,
)

log = logging.getLogger(__name__)

SOURCE = "gestao_click"
SOURCE_LABEL = "Gestão Click"
RESOURCES = {"sales": "Vendas", "clients": "Clientes", "products": "Produtos"}
CREDENTIAL_KEYS = ("GESTAOCLICK_ACCESS_TOKEN", "GESTAOCLICK_SECRET_TOKEN", "GESTAOCLICK_API_URL")
# Explicit passes first: a sale they return keeps its precise tipo when the pass without tipo
# (which may or may not include it) returns it again.
SALE_PASSES = ("servico", "vendas_balcao", None)

DEFAULTS = {
    "GESTAOCLICK_SYNC_DAYS": 30,  # trailing window of vendas re-read by every run
    "GESTAOCLICK_FULL_SYNC_DAYS": 365,  # window of a full run
    "GESTAOCLICK_THROTTLE_PER_SECOND": 2.0,  # the limit is 3 per second
    "GESTAOCLICK_TIMEOUT": 30.0,
    "GESTAOCLICK_CONNECT_TIMEOUT": 5.0,
}
# Long intervals stand in for "off-peak": the scheduler runs by interval (editable in
# /configuracoes), not by time of day.
INTERVALS = {"sales": 6 * 3600, "clients": 24 * 3600, "products": 24 * 3600}


def _cfg(key: str) -> Any:
    value = current_app.config.get(key)
    return DEFAULTS[key] if value in (None, "") else value


# ---------------------------------------------------------------------------- client


def credentials() -> dict[str, str | None]:
    return {key: settings.get(key) for key in CREDENTIAL_KEYS}


def is_configured() -> bool:
    values = credentials()
    return bool(values["GESTAOCLICK_ACCESS_TOKEN"] and values["GESTAOCLICK_SECRET_TOKEN"])


def build_client(
    access_token: str | None = None, secret_token: str | None = None, **options: Any
) -> GestaoClickClient:
    """A ``GestaoClickClient`` from the current settings and retry policy.

    ``access_token``/``secret_token`` replace the configured pair (seed 003's test of typed
    credentials; nothing is saved). ``GESTAO_CLICK_DEBUG`` logs every request and response at
    DEBUG, secrets masked."""
    values = credentials()
    if access_token is not None or secret_token is not None:
        values["GESTAOCLICK_ACCESS_TOKEN"] = access_token
        values["GESTAOCLICK_SECRET_TOKEN"] = secret_token
    cfg = current_app.config
    throttle = _cfg("GESTAOCLICK_THROTTLE_PER_SECOND")
    options.setdefault("retry_attempts", int(cfg.get("RETRY_ATTEMPTS", 3)))
    options.setdefault("retry_delay", float(cfg.get("RETRY_DELAY", 1.0)))
    options.setdefault(
        "timeout",
        (float(_cfg("GESTAOCLICK_CONNECT_TIMEOUT")), float(_cfg("GESTAOCLICK_TIMEOUT"))),
    )
    options.setdefault("throttle_per_second", float(throttle) if float(throttle) else None)
    options.setdefault("debug", bool(cfg.get("GESTAO_CLICK_DEBUG")))
    options.setdefault("budget_store", rate_budget.store())
    return GestaoClickClient(
        values["GESTAOCLICK_ACCESS_TOKEN"],
        values["GESTAOCLICK_SECRET_TOKEN"],
        values["GESTAOCLICK_API_URL"],
        **options,
    )


def usage() -> dict[str, Any]:
    """Requests sent today (this process) for the configured account, and the daily limit."""
    return client_usage(settings.get("GESTAOCLICK_ACCESS_TOKEN"))


def test_connection(
    access_token: str | None = None, secret_token: str | None = None
) -> ConnectionResult:
    """What "Testar conexão" shows. Never raises.

    With ``access_token``/``secret_token`` those are tested (with the configured URL) instead
    of the configured pair, and not saved."""
    typed = access_token is not None or secret_token is not None
    if typed and not (access_token and secret_token):
        return ConnectionResult(False, MSG_MISSING, "missing_credentials", {})
    if not typed and not is_configured():
        return ConnectionResult(False, MSG_MISSING, "missing_credentials", {})
    try:
        with build_client(access_token, secret_token) as client:
            return client.test_connection()
    except Exception:
        log.exception("Gestão Click connection test crashed")
        message = "Erro inesperado ao testar a conexão com o Gestão Click. Veja o log do servidor."
        return ConnectionResult(False, message, "error", {})


test_connection.__test__ = False  # not a pytest test


def _client_for_sync() -> GestaoClickClient:
    if not is_configured():
        raise sync.SyncNotConfigured(MSG_MISSING)
    return build_client()


# ---------------------------------------------------------------------------- mapping


def fingerprint(item: dict) -> str:
    raw = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_day(value: Any) -> date | None:
    raw = text(value, 32)
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw[:10], fmt).date()
        except ValueError:
            continue
    return None


def _inner(wrapper: Any, key: str) -> dict:
    """Nested arrays wrap each element in a one-key object: ``{"pagamento": {…}}``."""
    value = as_dict(wrapper)
    return as_dict(value.get(key)) if key in value else value


def _bool(value: Any, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "sim", "s", "yes")


def _stock(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return number if number == number and abs(number) < 1e15 else None


def sale_fields(item: dict, pass_tipo: str | None = None) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    produtos = as_list(item.get("produtos"))
    servicos = as_list(item.get("servicos"))
    tipo = text(item.get("tipo"), 20) or pass_tipo
    if tipo is None:
        tipo = "servico" if servicos and not produtos else "produto"
    forma = None
    for wrapper in as_list(item.get("pagamentos")):
        forma = text(_inner(wrapper, "pagamento").get("nome_forma_pagamento"), 120)
        if forma:
            break
    return {
        "remote_id": remote_id,
        "codigo": text(item.get("codigo"), 64),
        "cliente_id": text(item.get("cliente_id"), 32),
        "cliente_nome": text(item.get("nome_cliente"), 255),
        "vendedor_id": text(item.get("vendedor_id"), 32),
        "vendedor_nome": text(item.get("nome_vendedor"), 255),
        "data": parse_day(item.get("data")),
        "situacao_id": text(item.get("situacao_id"), 32),
        "situacao_nome": text(item.get("nome_situacao"), 120),
        "valor_total_cents": decimal_to_cents(item.get("valor_total")),
        "valor_frete_cents": decimal_to_cents(item.get("valor_frete")),
        "tipo": tipo,
        "loja_id": text(item.get("loja_id"), 32),
        "loja_nome": text(item.get("nome_loja"), 255),
        "forma_pagamento": forma,
        "items_count": len(produtos) + len(servicos),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }


def client_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    address = {}
    for wrapper in as_list(item.get("enderecos")):
        address = _inner(wrapper, "endereco")
        if address:
            break
    estado = text(address.get("estado"), 2)
    return {
        "remote_id": remote_id,
        "tipo_pessoa": text(item.get("tipo_pessoa"), 4),
        "nome": text(item.get("nome"), 255) or text(item.get("razao_social"), 255) or "",
        "razao_social": text(item.get("razao_social"), 255),
        "cpf_cnpj": digits_only(item.get("cnpj") or item.get("cpf"), 14),
        "email": bulk.email(item.get("email")) or text(item.get("email"), 254),
        "telefone": text(item.get("telefone"), 40),
        "celular": text(item.get("celular"), 40),
        "cidade": text(address.get("nome_cidade"), 120),
        "estado": estado.upper() if estado else None,
        "ativo": _bool(item.get("ativo")),
        "cadastrado_em": local_to_utc(item.get("cadastrado_em")),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }


def product_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    return {
        "remote_id": remote_id,
        "nome": text(item.get("nome"), 255) or "",
        "codigo_interno": text(item.get("codigo_interno"), 64),
        "codigo_barra": text(item.get("codigo_barra"), 64),
        "ativo": _bool(item.get("ativo")),
        "estoque": _stock(item.get("estoque")),
        "valor_custo_cents": decimal_to_cents(item.get("valor_custo")),
        "valor_venda_cents": decimal_to_cents(item.get("valor_venda")),
        "grupo_id": text(item.get("grupo_id"), 32),
        "grupo_nome": text(item.get("nome_grupo"), 255),
        "cadastrado_em": local_to_utc(item.get("cadastrado_em")),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }


# ---------------------------------------------------------------------------- syncers


def _map_page(ctx: sync.SyncContext, items: Iterable[Any], mapper) -> list[dict]:
    rows = []
    failed = 0
    for item in items:
        row = mapper(item) if isinstance(item, dict) else None
        if row is None:
            failed += 1
        else:
            rows.append(row)
    if failed:
        ctx.tally({"failed": failed})
    return rows


def today() -> date:
    """Today in São Paulo: the calendar ``data_inicio``/``data_fim`` refer to."""
    return datetime.now(TIMEZONE).date()


def sales_range(ctx: sync.SyncContext, full: bool, now: date | None = None) -> tuple[date, date]:
    """[data_inicio, data_fim] to re-read: the trailing window, reaching back to the last
    successful run when that is older (a paused schedule loses nothing); ``full``: the long
    window."""
    end = now or today()
    full_days = int(_cfg("GESTAOCLICK_FULL_SYNC_DAYS"))
    if full:
        return end - timedelta(days=full_days), end
    start = end - timedelta(days=int(_cfg("GESTAOCLICK_SYNC_DAYS")))
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
    client = _client_for_sync()
    start, end = sales_range(ctx, full)
    db.session.commit()  # no read transaction held while the API answers
    seen: set[str] = set()
    total = 0
    with client, prefetch.ahead(_venda_passes(client, start, end)) as fetched:
        for tipo, page in fetched:
            ctx.check_cancel()
            if page.number == 1:
                total += page.total if page.total is not None else len(page.items)
                ctx.set_total(total)
            fresh = []
            for item in page.items:
                key = text(item.get("id"), 32) if isinstance(item, dict) else None
                if key is not None and key in seen:  # already handled by an earlier pass
                    ctx.advance(1)
                    continue
                if key is not None:
                    seen.add(key)
                fresh.append(item)
            rows = _map_page(ctx, fresh, lambda i, t=tipo: sale_fields(i, t))
            bulk.upsert_page(ctx, GcSale, rows)


def _rescan(ctx: sync.SyncContext, pages, model, mapper) -> None:
    with prefetch.ahead(pages) as fetched:
        for page in fetched:
            ctx.check_cancel()
            if page.number == 1:
                ctx.set_total(page.total if page.total is not None else len(page.items))
            bulk.upsert_page(ctx, model, _map_page(ctx, page.items, mapper))


def sync_clients(ctx: sync.SyncContext, full: bool) -> None:
    """Every client, every run (there is no "modified since" filter)."""
    client = _client_for_sync()
    db.session.commit()
    with client:
        _rescan(ctx, client.cliente_pages(), GcClient, client_fields)


def sync_products(ctx: sync.SyncContext, full: bool) -> None:
    """Every product, every run."""
    client = _client_for_sync()
    db.session.commit()
    with client:
        _rescan(ctx, client.produto_pages(), GcProduct, product_fields)


def register() -> None:
    for resource, func_ in (
        ("sales", sync_sales),
        ("clients", sync_clients),
        ("products", sync_products),
    ):
        sync.register(
            SOURCE,
            resource,
            func_,
            RESOURCES[resource],
            interval=INTERVALS[resource],
            enabled=is_configured,
            source_label=SOURCE_LABEL,
        )


# ---------------------------------------------------------------------------- queries (pages/API)


def _clean(query: str) -> str:
    return (query or "").strip()[:200]


def sales_query(query: str = "", tipo: str = ""):
    stmt = select(GcSale)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(GcSale.cliente_nome).like(like),
                func.lower(GcSale.situacao_nome).like(like),
                GcSale.codigo == query,
                GcSale.remote_id == query,
            )
        )
    if tipo:
        stmt = stmt.where(GcSale.tipo == tipo)
    return stmt.order_by(GcSale.data.desc().nulls_last(), GcSale.id.desc())


def clients_query(query: str = ""):
    stmt = select(GcClient)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        conditions = [
            func.lower(GcClient.nome).like(like),
            func.lower(GcClient.email).like(like),
            GcClient.remote_id == query,
        ]
        doc = digits_only(query, 14)
        if doc and len(doc) >= 3:
            conditions.append(GcClient.cpf_cnpj.like(f"%{doc}%"))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(GcClient.nome, GcClient.id)


def products_query(query: str = ""):
    stmt = select(GcProduct)
    query = _clean(query)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(GcProduct.nome).like(like),
                func.lower(GcProduct.codigo_interno) == query.lower(),
                GcProduct.codigo_barra == query,
                GcProduct.remote_id == query,
            )
        )
    return stmt.order_by(GcProduct.nome, GcProduct.id)


QUERIES = {"sales": sales_query, "clients": clients_query, "products": products_query}


def counts() -> dict[str, int]:
    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    return {"sales": count(GcSale), "clients": count(GcClient), "products": count(GcProduct)}


def overview() -> dict[str, Any]:
    """Configuration status for the page: which keys are set and where from (no values)."""
    return {
        "configured": is_configured(),
        "sources": {key: settings.source(key) for key in CREDENTIAL_KEYS},
        "api_url": normalize_api_url(settings.get("GESTAOCLICK_API_URL")),
        "usage": usage(),
        "sync_days": int(_cfg("GESTAOCLICK_SYNC_DAYS")),
        "full_sync_days": int(_cfg("GESTAOCLICK_FULL_SYNC_DAYS")),
    }
