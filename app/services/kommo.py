"""Kommo integration: client from settings, connection test, contacts/leads syncers, queries.

* ``build_client()`` reads ``KOMMO_JWT_TOKEN`` / ``KOMMO_API_URL`` / ``KOMMO_TIMEOUT`` through
  ``app.services.settings`` (database values win over the environment). Every client of the
  account, in every process, shares one rate budget (``app.services.rate_budget``: ~5 requests
  per second, Kommo's limit is 7), so runs going at the same time stay under it, and a 429
  pause holds them all back.
* ``test_connection()`` never raises.
* Syncers ``kommo/contacts`` and ``kommo/leads`` (every 15 min when the token is set): incremental
  with ``filter[updated_at][from]`` = start of the last successful run minus an overlap
  (``order[updated_at]=asc``), everything on the first or a ``full`` run. Upserts by Kommo id
  report created/updated/unchanged, so a re-run changes nothing. 401/402/403 abort the run at
  once with a pt-BR message (403 is Kommo's abuse block: hammering it extends the block).

Deleted entities vanish from Kommo's lists; they stay here until a future ``/events`` pass.

Size: one integration's settings, client factory, connection test, syncers and list queries
live here (over 400 lines) until the API ``Integration`` descriptor takes the shared parts
(issue #12's next slice); it is split then, not before, so the three integrations move together.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.clients.errors import (
    APIError,
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
)
from app.clients.kommo import (
    DEFAULT_BASE_DOMAIN,
    LOST_STATUS_ID,
    MSG_MISSING,
    MSG_NO_URL,
    WON_STATUS_ID,
    ConnectionResult,
    KommoClient,
    base_url_for,
    expiry_status,
    jwt_claims,
    token_account,
    token_expiry,
)
from app.extensions import db
from app.logs import add_known_secret
from app.models import KommoContact, KommoLead
from app.models.types import utcnow
from app.services import bulk, prefetch, rate_budget, settings, sync
from app.sources.base import as_dict, as_int, epoch_to_utc, text
from config import seconds

log = logging.getLogger(__name__)

SOURCE = "kommo"
RESOURCES = {"contacts": "Contatos", "leads": "Negócios"}
INTERVAL = 900  # seconds
CREDENTIAL_KEYS = ("KOMMO_JWT_TOKEN", "KOMMO_API_URL", "KOMMO_TIMEOUT")

DEFAULTS = {
    "KOMMO_TIMEOUT": 30.0,  # read timeout (Kommo documents none)
    "KOMMO_CONNECT_TIMEOUT": 5.0,
    "KOMMO_THROTTLE_PER_SECOND": 5.0,  # Kommo: 7 per second, repeated 429s → 403 block
    "KOMMO_PAGE_SIZE": 250,  # Kommo's maximum
    "KOMMO_SYNC_OVERLAP_SECONDS": 300,  # incremental runs re-read this much before the last one
    "KOMMO_MAX_RETRY_AFTER": 120.0,  # a longer retry_after fails the run instead of sleeping
}

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


def _cfg(key: str) -> Any:
    value = current_app.config.get(key)
    return DEFAULTS[key] if value in (None, "") else value


# ---------------------------------------------------------------------------- client


def credentials() -> dict[str, str | None]:
    return {key: settings.get(key) for key in CREDENTIAL_KEYS}


def base_domain() -> str:
    """``KOMMO_BASE_DOMAIN`` (seed 002): completes a bare subdomain in ``KOMMO_API_URL``."""
    return current_app.config.get("KOMMO_BASE_DOMAIN") or DEFAULT_BASE_DOMAIN


def api_url_for(token: str | None, api_url: str | None) -> str | None:
    return base_url_for(token, api_url, base_domain())


def is_configured() -> bool:
    """A token is set and a base URL is known (configured, or the token's api_domain)."""
    values = credentials()
    token = values["KOMMO_JWT_TOKEN"]
    return bool(token and api_url_for(token, values["KOMMO_API_URL"]))


def build_client(token: str | None = None, **options: Any) -> KommoClient:
    """A ``KommoClient`` from the current settings, on the account's shared rate budget.

    ``token`` replaces the configured one (seed 002's "test this token" button; not saved).
    ``KOMMO_RETRY_ATTEMPTS``/``KOMMO_RETRY_DELAY`` win over ``RETRY_*`` for Kommo;
    ``KOMMO_TIMEOUT``/``KOMMO_RETRY_DELAY`` of 1000 or more are milliseconds; ``KOMMO_DEBUG``
    logs every request and response at DEBUG (secrets masked)."""
    values = credentials()
    cfg = current_app.config
    attempts = cfg.get("KOMMO_RETRY_ATTEMPTS")
    delay = seconds(cfg.get("KOMMO_RETRY_DELAY"))
    options.setdefault(
        "retry_attempts", int(attempts if attempts is not None else cfg.get("RETRY_ATTEMPTS", 3))
    )
    options.setdefault(
        "retry_delay", float(delay if delay is not None else cfg.get("RETRY_DELAY", 1.0))
    )
    timeout = seconds(values["KOMMO_TIMEOUT"]) or float(DEFAULTS["KOMMO_TIMEOUT"])
    connect = float(_cfg("KOMMO_CONNECT_TIMEOUT"))
    options.setdefault("timeout", (min(connect, timeout), timeout))
    options.setdefault("max_retry_after", float(_cfg("KOMMO_MAX_RETRY_AFTER")))
    options.setdefault("debug", bool(cfg.get("KOMMO_DEBUG")))
    options.setdefault("base_domain", base_domain())
    options.setdefault("throttle_per_second", float(_cfg("KOMMO_THROTTLE_PER_SECOND") or 0) or None)
    options.setdefault("budget_store", rate_budget.store())
    token = token if token is not None else values["KOMMO_JWT_TOKEN"]
    return KommoClient(token, values["KOMMO_API_URL"], **options)


def test_connection() -> ConnectionResult:
    """What "Testar conexão" shows. Never raises."""
    values = credentials()
    if not values["KOMMO_JWT_TOKEN"]:
        return ConnectionResult(False, MSG_MISSING, "missing_token", {})
    try:
        with build_client() as client:
            return client.test_connection()
    except Exception:
        log.exception("Kommo connection test crashed")
        message = "Erro inesperado ao testar a conexão com o Kommo. Veja o log do servidor."
        return ConnectionResult(False, message, "error", {})


test_connection.__test__ = False  # not a pytest test


def token_info() -> dict[str, Any]:
    """Non-secret facts about the configured token for the page (expiry, domain, account)."""
    token = settings.get("KOMMO_JWT_TOKEN")
    claims = jwt_claims(token)
    expires_at = token_expiry(claims)
    domain = claims.get("api_domain")
    return {
        "present": bool(token),
        "readable": bool(claims),
        "expires_at": expires_at,
        "expiry": expiry_status(expires_at),
        "api_domain": domain if isinstance(domain, str) else None,
        "account_id": claims.get("account_id"),
    }


def overview() -> dict[str, Any]:
    """Configuration status for the page: where each value comes from (never the token)."""
    values = credentials()
    return {
        "configured": is_configured(),
        "sources": {key: settings.source(key) for key in CREDENTIAL_KEYS},
        "api_url": api_url_for(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"]),
        "api_url_configured": bool(values["KOMMO_API_URL"]),
        "timeout": seconds(values["KOMMO_TIMEOUT"], DEFAULTS["KOMMO_TIMEOUT"]),
        "token": token_info(),
    }


def _client_for_sync() -> KommoClient:
    values = credentials()
    if not values["KOMMO_JWT_TOKEN"]:
        raise sync.SyncNotConfigured(MSG_MISSING)
    if not api_url_for(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"]):
        raise sync.SyncNotConfigured(MSG_NO_URL)
    return build_client()


# ---------------------------------------------------------------------------- mapping


def _seconds(value: Any) -> datetime | None:
    return epoch_to_utc(value, unit_ms=False)


def _multitext(fields: Any, code: str) -> str | None:
    """First value of the ``multitext`` custom field with ``field_code`` ``code``."""
    if not isinstance(fields, list):
        return None
    for item in fields:
        if not isinstance(item, dict) or item.get("field_code") != code:
            continue
        for value in item.get("values") or []:
            found = text(value.get("value")) if isinstance(value, dict) else None
            if found:
                return found
    return None


def contact_fields(item: dict) -> dict[str, Any] | None:
    remote_id = as_int(item.get("id"))
    if remote_id is None:
        return None
    fields = item.get("custom_fields_values")
    fields = fields if isinstance(fields, list) else None
    return {
        "remote_id": remote_id,
        "name": text(item.get("name"), 255) or "",
        "first_name": text(item.get("first_name"), 255),
        "last_name": text(item.get("last_name"), 255),
        "email": bulk.email(_multitext(fields, "EMAIL")),
        "phone": text(_multitext(fields, "PHONE"), 64),
        "responsible_user_id": as_int(item.get("responsible_user_id")),
        "remote_created_at": _seconds(item.get("created_at")),
        "remote_updated_at": _seconds(item.get("updated_at")),
        "custom_fields": fields,
    }


def _main_contact(item: dict) -> int | None:
    contacts = as_dict(item.get("_embedded")).get("contacts")
    if not isinstance(contacts, list):
        return None
    candidates = [c for c in contacts if isinstance(c, dict) and as_int(c.get("id"))]
    main = next((c for c in candidates if c.get("is_main")), candidates[0] if candidates else None)
    return as_int(main.get("id")) if main else None


def account_currency(account: Any) -> str | None:
    """The ISO 4217 code of ``GET /api/v4/account``'s ``currency`` (``BRL``, ``USD``…)."""
    code = text(as_dict(account).get("currency"), 8)
    code = (code or "").strip().upper()
    return code if len(code) == 3 and code.isalpha() else None


def lead_fields(
    item: dict, names: dict[str, dict], currency: str | None = None
) -> dict[str, Any] | None:
    remote_id = as_int(item.get("id"))
    if remote_id is None:
        return None
    status_id = as_int(item.get("status_id"))
    pipeline_id = as_int(item.get("pipeline_id"))
    fields = item.get("custom_fields_values")
    return {
        "remote_id": remote_id,
        "name": text(item.get("name"), 255) or "",
        "price": as_int(item.get("price")),
        "currency": currency,
        "status_id": status_id,
        "pipeline_id": pipeline_id,
        "status_name": names["statuses"].get((pipeline_id, status_id)),
        "pipeline_name": names["pipelines"].get(pipeline_id),
        "is_won": status_id == WON_STATUS_ID,
        "is_lost": status_id == LOST_STATUS_ID,
        "contact_id": _main_contact(item),
        "responsible_user_id": as_int(item.get("responsible_user_id")),
        "remote_created_at": _seconds(item.get("created_at")),
        "remote_updated_at": _seconds(item.get("updated_at")),
        "closed_at": _seconds(item.get("closed_at")),
        "custom_fields": fields if isinstance(fields, list) else None,
    }


def pipeline_names(pipelines: list[dict]) -> dict[str, dict]:
    """``{"pipelines": {id: name}, "statuses": {(pipeline_id, status_id): name}}``."""
    out: dict[str, dict] = {"pipelines": {}, "statuses": {}}
    for pipeline in pipelines:
        pid = as_int(pipeline.get("id"))
        if pid is None:
            continue
        out["pipelines"][pid] = text(pipeline.get("name"), 255)
        for status in as_dict(pipeline.get("_embedded")).get("statuses") or []:
            sid = as_int(status.get("id")) if isinstance(status, dict) else None
            if sid is not None:
                out["statuses"][(pid, sid)] = text(status.get("name"), 255)
    return out


# ---------------------------------------------------------------------------- syncers


def updated_from(ctx: sync.SyncContext, full: bool) -> datetime | None:
    """None (everything) on a full or first run; else the last success minus the overlap."""
    if full or ctx.last_success_at is None:
        return None
    return ctx.last_success_at - timedelta(seconds=int(_cfg("KOMMO_SYNC_OVERLAP_SECONDS")))


def _run_pages(ctx: sync.SyncContext, pages, model, mapper) -> None:
    """Write each page in bulk while the next one is fetched (``prefetch.ahead``)."""
    db.session.commit()  # no read transaction held while Kommo answers
    try:
        with prefetch.ahead(pages) as fetched:
            for page in fetched:
                ctx.check_cancel()
                rows = []
                failed = 0
                for item in page.items:
                    mapped = mapper(item)
                    if mapped is None:
                        failed += 1
                    else:
                        rows.append(mapped)
                if failed:
                    ctx.tally({"failed": failed})
                bulk.upsert_page(ctx, model, rows)
    except AuthenticationError:
        raise sync.SyncError(MSG_SYNC_AUTH) from None
    except PaymentRequiredError:
        raise sync.SyncError(MSG_SYNC_PAYMENT) from None
    except PermissionDeniedError:
        raise sync.SyncError(MSG_SYNC_BLOCKED) from None


def sync_contacts(ctx: sync.SyncContext, full: bool) -> None:
    client = _client_for_sync()
    since = updated_from(ctx, full)
    with client:
        pages = client.contact_pages(updated_from=since, limit=int(_cfg("KOMMO_PAGE_SIZE")))
        _run_pages(ctx, pages, KommoContact, contact_fields)


def sync_leads(ctx: sync.SyncContext, full: bool) -> None:
    client = _client_for_sync()
    since = updated_from(ctx, full)
    with client:
        try:
            names = pipeline_names(client.pipelines())
            # lead prices are whole units of the account currency (not always BRL)
            currency = account_currency(client.account())
        except AuthenticationError:
            raise sync.SyncError(MSG_SYNC_AUTH) from None
        except PaymentRequiredError:
            raise sync.SyncError(MSG_SYNC_PAYMENT) from None
        except PermissionDeniedError:
            raise sync.SyncError(MSG_SYNC_BLOCKED) from None
        pages = client.lead_pages(updated_from=since, limit=int(_cfg("KOMMO_PAGE_SIZE")))
        _run_pages(ctx, pages, KommoLead, lambda item: lead_fields(item, names, currency))


def register() -> None:
    for resource, func_ in (("contacts", sync_contacts), ("leads", sync_leads)):
        sync.register(
            SOURCE,
            resource,
            func_,
            RESOURCES[resource],
            interval=INTERVAL,
            enabled=is_configured,
            source_label="Kommo",
        )


# ---------------------------------------------------------------------------- queries (page/API)


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contacts_query(query: str = ""):
    stmt = select(KommoContact)
    query = (query or "").strip()[:200]
    if query:
        like = _like(query)
        digits = "".join(ch for ch in query if ch.isdigit())
        conditions = [
            func.lower(KommoContact.name).like(like, escape="\\"),
            func.lower(KommoContact.email).like(like, escape="\\"),
            KommoContact.phone.like(_like(query), escape="\\"),
        ]
        if digits:
            conditions.append(KommoContact.phone.like(f"%{digits}%"))
            if digits == query:
                conditions.append(KommoContact.remote_id == int(digits[:18]))
        stmt = stmt.where(or_(*conditions))
    return stmt.order_by(KommoContact.remote_updated_at.desc().nulls_last(), KommoContact.id.desc())


def leads_query(query: str = "", outcome: str = ""):
    stmt = select(KommoLead)
    query = (query or "").strip()[:200]
    if query:
        like = _like(query)
        digits = "".join(ch for ch in query if ch.isdigit())
        contact_ids = select(KommoContact.remote_id).where(
            or_(
                func.lower(KommoContact.name).like(like, escape="\\"),
                func.lower(KommoContact.email).like(like, escape="\\"),
                KommoContact.phone.like(like, escape="\\"),
                *([KommoContact.phone.like(f"%{digits}%")] if digits else []),
            )
        )
        conditions = [
            func.lower(KommoLead.name).like(like, escape="\\"),
            KommoLead.contact_id.in_(contact_ids),
        ]
        if digits and digits == query:
            conditions.append(KommoLead.remote_id == int(digits[:18]))
        stmt = stmt.where(or_(*conditions))
    if outcome == "won":
        stmt = stmt.where(KommoLead.is_won.is_(True))
    elif outcome == "lost":
        stmt = stmt.where(KommoLead.is_lost.is_(True))
    elif outcome == "open":
        stmt = stmt.where(KommoLead.is_won.is_(False), KommoLead.is_lost.is_(False))
    return stmt.order_by(KommoLead.remote_updated_at.desc().nulls_last(), KommoLead.id.desc())


def get_contact(remote_id: int) -> KommoContact | None:
    return db.session.scalar(select(KommoContact).where(KommoContact.remote_id == remote_id))


def get_lead(remote_id: int) -> KommoLead | None:
    return db.session.scalar(select(KommoLead).where(KommoLead.remote_id == remote_id))


def contacts_by_remote_id(ids: set[int]) -> dict[int, KommoContact]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = db.session.scalars(select(KommoContact).where(KommoContact.remote_id.in_(ids)))
    return {c.remote_id: c for c in rows}


def leads_of_contact(remote_id: int, limit: int = 50) -> list[KommoLead]:
    return list(
        db.session.scalars(
            select(KommoLead)
            .where(KommoLead.contact_id == remote_id)
            .order_by(KommoLead.remote_updated_at.desc().nulls_last())
            .limit(limit)
        )
    )


def counts() -> dict[str, int]:
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return {
        "contacts": count(KommoContact),
        "leads": count(KommoLead),
        "won": count(KommoLead, KommoLead.is_won.is_(True)),
        "lost": count(KommoLead, KommoLead.is_lost.is_(True)),
    }


def account_currency_code() -> str:
    """The account currency of the most recently synced lead (BRL before any sync)."""
    code = db.session.scalar(
        select(KommoLead.currency)
        .where(KommoLead.currency.is_not(None))
        .order_by(KommoLead.last_sync_at.desc().nulls_last(), KommoLead.id.desc())
        .limit(1)
    )
    return code or "BRL"


def won_totals() -> list[dict[str, Any]]:
    """Sum of won leads' prices per currency: ``[{"currency", "cents", "count"}]``, largest
    first. Leads synced before their currency was known count in the account's."""
    fallback = account_currency_code()
    totals: dict[str, dict[str, Any]] = {}
    from app.models import KommoWonTotal

    # The trigger-kept summary of won leads (app.models.summaries), not a scan of the leads.
    rows = db.session.execute(
        select(KommoWonTotal.currency, KommoWonTotal.price, KommoWonTotal.n).where(
            KommoWonTotal.n != 0
        )
    )
    for currency, total, count in rows:
        code = currency or fallback
        entry = totals.setdefault(code, {"currency": code, "cents": 0, "count": 0})
        entry["cents"] += int(total or 0) * 100
        entry["count"] += int(count)
    return sorted(totals.values(), key=lambda e: -e["cents"])


def sync_status() -> dict[str, Any]:
    """Latest run and the active one (if any) of each Kommo resource."""
    latest = sync.latest_runs()
    runs: dict[str, Any] = {}
    for resource in RESOURCES:
        last = latest.get((SOURCE, resource))
        active = sync.active_run(SOURCE, resource)
        runs[resource] = {
            "last": last.to_dict() if last else None,
            "active": active.to_dict() if active else None,
        }
    return runs


# ---------------------------------------------------------------------------- seed 002 shapes

DIAGNOSTIC_CONTACTS = 5  # contacts read by the seed's connection test (one small page)


def connection_report(token: str | None = None) -> dict[str, Any]:
    """Seed 002's ``POST /api/kommo/test-connection``: the usual result plus ``connection``,
    ``account`` {accountId, baseDomain, apiDomain, scopes, expiresAt} (the token's claims,
    read without verifying them, and the account's name/subdomain/currency) and
    ``diagnostics`` {contacts {count, items}} (a first small page of contacts).

    ``token`` is tested instead of the configured one and is **not** saved. Never raises.
    """
    typed = token is not None
    token = (token or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if typed:
        add_known_secret(token)  # typed into a form: mask it like a configured one
    else:
        token = credentials()["KOMMO_JWT_TOKEN"] or ""
    items: list[dict[str, Any]] = []
    if not token:
        result = ConnectionResult(False, MSG_MISSING, "missing_token", {})
    else:
        try:
            with build_client(token=token) as client:
                result = client.test_connection()
                if result.success:
                    items = _diagnostic_contacts(client)
        except Exception:
            log.exception("Kommo connection test crashed")
            message = "Erro inesperado ao testar a conexão com o Kommo. Veja o log do servidor."
            result = ConnectionResult(False, message, "error", {})
    body = result.as_dict()
    details = result.details
    remote = as_dict(details.get("account"))
    account = token_account(jwt_claims(token), base_domain())
    if account["accountId"] is None:
        account["accountId"] = remote.get("id")
    account.update(
        name=remote.get("name"),
        subdomain=remote.get("subdomain"),
        currency=remote.get("currency"),
        tokenExpiry=expiry_status(token_expiry(jwt_claims(token))),
    )
    body["connection"] = {
        "success": result.success,
        "status": "connected" if result.success else "failed",
        "code": result.code,
        "message": result.message,
        "apiUrl": details.get("api_url") or api_url_for(token, credentials()["KOMMO_API_URL"]),
        "responseTimeMs": details.get("elapsed_ms"),
        "tokenSource": "request" if typed else "settings",
    }
    body["account"] = account
    body["diagnostics"] = {"contacts": {"count": len(items), "items": items}}
    return body


def _diagnostic_contacts(client: KommoClient) -> list[dict[str, Any]]:
    try:
        page = next(iter(client.contact_pages(limit=DIAGNOSTIC_CONTACTS)), None)
    except APIError as exc:
        log.warning("Kommo connection test: contacts not readable: %s", exc.message)
        return []
    out = []
    for item in page.items if page else []:
        fields = contact_fields(item)
        if fields:
            out.append(
                {
                    "id": fields["remote_id"],
                    "name": fields["name"],
                    "email": fields["email"],
                    "phone": fields["phone"],
                }
            )
    return out


def _store(model, fields: dict[str, Any]):
    """Insert one record read live (a concurrent sync may have inserted it meanwhile)."""
    obj = model(last_sync_at=utcnow(), **fields)
    db.session.add(obj)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(model).where(model.remote_id == fields["remote_id"]))
    return obj


def fetch_contact(remote_id: int) -> KommoContact | None:
    """The local copy, else one live ``GET /contacts/{id}`` stored locally (None: unknown).

    Raises the client's ``APIError`` when Kommo fails."""
    contact = get_contact(remote_id)
    if contact is not None or not is_configured():
        return contact
    db.session.commit()  # no read transaction held while Kommo answers
    with build_client() as client:
        item = client.get_contact(remote_id)
    fields = contact_fields(item) if item else None
    if fields is None or fields["remote_id"] != remote_id:
        return None
    return _store(KommoContact, fields)


def fetch_lead(remote_id: int) -> KommoLead | None:
    """The local copy, else one live ``GET /leads/{id}`` stored locally (None: unknown).

    Pipeline and status names come with the next leads sync; the currency is the account's
    as last synced. Raises the client's ``APIError`` when Kommo fails."""
    lead = get_lead(remote_id)
    if lead is not None or not is_configured():
        return lead
    currency = account_currency_code()
    db.session.commit()
    with build_client() as client:
        item = client.get_lead(remote_id)
    names: dict[str, dict] = {"pipelines": {}, "statuses": {}}
    fields = lead_fields(item, names, currency) if item else None
    if fields is None or fields["remote_id"] != remote_id:
        return None
    return _store(KommoLead, fields)


def seed_sync_status() -> dict[str, Any]:
    """Seed 002's ``GET /api/kommo/sync`` ``data``: lastSync, contactsCount, dealsCount,
    syncSuccess, errors (plus which runs are going)."""
    latest = sync.latest_runs()
    runs = [latest.get((SOURCE, resource)) for resource in RESOURCES]
    finished = [r for r in runs if r is not None and r.finished_at is not None]
    last_sync = max((r.finished_at for r in finished), default=None)
    done = [r for r in runs if r is not None and not r.is_active]
    totals = counts()
    return {
        "lastSync": last_sync.isoformat() if last_sync else None,
        "contactsCount": totals["contacts"],
        "dealsCount": totals["leads"],
        "syncSuccess": bool(done) and all(r.status == "succeeded" for r in done),
        "errors": [
            f"{RESOURCES[r.resource]}: {r.error or r.status}"
            for r in done
            if r.status != "succeeded"
        ],
        "running": any(r is not None and r.is_active for r in runs),
    }
