"""Kommo account webhooks in: ``POST /webhook/kommo/<token>`` stored, then applied locally.

A delivery lives in the webhook inbox (``webhook_events``, platform ``kommo``, kind ``crm``):
committed before the 2xx (Kommo wants an answer within 2 s), visible and replayable on
``/webhooks``, and claimed like any event by the workers
(``app.services.webhook_processing._outcome_values`` hands ``kommo`` rows here). Kommo signs
nothing: the long random token in the URL (``KOMMO_WEBHOOK_SECRET``) is the proof, compared in
constant time.

Applying: each ``leads[…]`` / ``contacts[…]`` item updates the local ``KommoLead`` /
``KommoContact`` at once — re-read through the API (``GET /leads/{id}?with=contacts``) when the
integration is configured, since a delivery may be partial and Kommo advises treating it as a
notification; from the delivered fields otherwise (or when the re-read fails), never over a
newer local copy. ``delete`` removes the local record. Companies (``type=company``) and other
entities (tasks, chats) are not kept here and are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select

from app.clients.errors import APIError
from app.extensions import db
from app.models import KommoContact, KommoLead, WebhookEvent
from app.models.types import utcnow
from app.models.webhooks import EVENT_FAILED, EVENT_IGNORED, EVENT_PROCESSED, EVENT_RECEIVED
from app.services import kommo, webhook_rows
from app.services import settings as settings_service
from app.services import webhooks as inbox
from app.services.kommo_webhook_form import (
    Change,
    MalformedDelivery,
    as_v4,
    changes,
    parse,
    summary,
)
from app.services.webhooks import Received

log = logging.getLogger(__name__)

PLATFORM = "kommo"
KIND = "crm"
SECRET_KEY = "KOMMO_WEBHOOK_SECRET"
NO_SECRET = (
    "KOMMO_WEBHOOK_SECRET não está configurado: toda entrega do Kommo é recusada. "
    "Use “Registrar webhook no Kommo” na página Kommo (gera o token) ou defina-o em Configurações."
)
BAD_TOKEN = "Token do webhook do Kommo inválido."
REQUEST_ID_HEADER = "x-amocrm-requestid"


def secret(*, fresh: bool = False) -> str | None:
    return settings_service.cached(SECRET_KEY, fresh=fresh)


def token_ok(token: str) -> tuple[bool, str]:
    """(accepted, reason): the URL token against ``KOMMO_WEBHOOK_SECRET``, constant time; a
    mismatch is checked once more against a fresh read (changed in another process)."""
    expected = secret()
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        return True, ""
    fresh = secret(fresh=True)
    if not fresh:
        return False, NO_SECRET
    return hmac.compare_digest(token.encode(), fresh.encode()), BAD_TOKEN


def _dedupe_key(raw: bytes, headers: Mapping[str, str]) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    request_id = (lower.get(REQUEST_ID_HEADER) or "").strip()[:100]
    if request_id:
        return f"kommo:req:{request_id}"
    return f"kommo:sha256:{hashlib.sha256(raw).hexdigest()}"


def _first_record(body: dict[str, Any]) -> str | None:
    for change in changes(body):
        if change.remote_id is not None:
            return f"{change.entity[:-1]}:{change.remote_id}"
    return None


def receive(
    token: str,
    raw: bytes,
    headers: Mapping[str, str],
    remote_addr: str | None = None,
    inline: bool | None = None,
) -> Received:
    """Check the token, store the delivery (one short transaction), then apply it (inline) or
    hand it to a worker. A malformed body is stored as failed and answered 400."""
    answer = inbox.refused(PLATFORM, lambda: token_ok(token), headers, remote_addr, log)
    if answer is not None:
        return answer
    text = raw.decode("utf-8", errors="replace")
    try:
        body: dict[str, Any] | None = parse(raw)
        error = None
    except MalformedDelivery as exc:
        body, error = None, exc.reason
    values = {
        "platform": PLATFORM,
        "dedupe_key": _dedupe_key(raw, headers),
        "event_type": (summary(body) if body else "invalid")[:64],
        "kind": KIND if body else None,  # None: failed at receipt, replayed by hand only
        "transaction_id": _first_record(body) if body else None,
        "raw_body": text,
        "headers": inbox._kept_headers(headers),
        "auth_location": "path",
        "remote_addr": (remote_addr or "")[:64] or None,
        "status": EVENT_RECEIVED if body else EVENT_FAILED,
        "last_error": error,
    }
    return webhook_rows.store_and_dispatch(values, body is not None, error, inline)


# ---------------------------------------------------------------------------- applying


def apply_row(row: WebhookEvent) -> str:
    """Apply a stored delivery to the local copy and record the result on ``row`` (no commit).
    ``MalformedPayload``-like errors propagate as ``MalformedDelivery`` (a ValueError)."""
    from app.sources.base import MalformedPayload

    try:
        body = parse(row.raw_body.encode("utf-8"))
    except MalformedDelivery as exc:
        raise MalformedPayload(exc.reason) from None
    foreign = _foreign_account(body)
    if foreign:
        row.status, row.last_error, row.processed_at = EVENT_IGNORED, foreign, utcnow()
        return row.status
    applied, notes = 0, []
    found = changes(body)
    # The re-reads come first, before this transaction writes anything (SQLite: no write lock
    # held while Kommo answers; the shared rate budget can record them).
    with db.session.no_autoflush:
        reader = _Reader()
        try:
            reads = {
                i: reader.read(c.entity, c.remote_id) for i, c in enumerate(found) if _rereads(c)
            }
        finally:
            reader.close()
    for i, change in enumerate(found):
        done, note = _apply_change(change, reads.get(i, (None, False)))
        applied += done
        if note:
            notes.append(note)
    row.status = EVENT_PROCESSED if applied else EVENT_IGNORED
    row.last_error = "; ".join(notes)[:2000] or None
    if not applied and not notes:
        row.last_error = "Nenhuma alteração de negócio ou contato nesta entrega."
    row.processed_at = utcnow()
    return row.status


def _foreign_account(body: dict[str, Any]) -> str | None:
    """A note when ``account[id]`` is not the account of the configured token (Kommo's
    advice: check it, the URL token is the only proof); None when it matches or is unknown."""
    from app.clients.kommo import jwt_claims
    from app.sources.base import as_int

    account = body.get("account") if isinstance(body.get("account"), dict) else {}
    got = as_int(account.get("id"))
    token = kommo.credentials()["KOMMO_JWT_TOKEN"]
    expected = as_int(jwt_claims(token).get("account_id")) if token else None
    if got is None or expected is None or got == expected:
        return None
    return f"Entrega de outra conta Kommo (#{got}); este painel usa a conta #{expected}: ignorada."


def _rereads(change: Change) -> bool:
    if change.remote_id is None or change.action in ("delete", "note"):
        return False
    return change.entity == "leads" or str(change.item.get("type") or "contact") == "contact"


def _holds_sqlite_write_lock() -> bool:
    """True inside a claimed batch on SQLite (the claim's UPDATE took the write lock): the
    shared rate budget, kept in the database, could not be written until it ends."""
    if db.session.get_bind().dialect.name != "sqlite" or not db.session().in_transaction():
        return False
    raw = db.session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))


class _Reader:
    """One API client for a delivery's re-reads (None when Kommo is not configured)."""

    def __init__(self):
        self.client = None
        if kommo.is_configured():
            # Within a claimed batch on SQLite: this process's budget (see above).
            options = {"budget_store": None} if _holds_sqlite_write_lock() else {}
            self.client = kommo.build_client(**options)
        self.failed = False

    def read(self, entity: str, remote_id: int) -> tuple[dict | None, bool]:
        """(item, answered): ``answered`` False when no re-read was possible."""
        if self.client is None or self.failed:
            return None, False
        try:
            if entity == "leads":
                return self.client.get_lead(remote_id), True
            return self.client.get_contact(remote_id), True
        except APIError as exc:
            log.warning("kommo webhook: re-read of %s %s failed: %s", entity, remote_id, exc)
            self.failed = True  # the others of this delivery use the delivered fields
            return None, False

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def _apply_change(change: Change, read: tuple[dict | None, bool]) -> tuple[int, str | None]:
    remote_id = change.remote_id
    model = KommoLead if change.entity == "leads" else KommoContact
    if remote_id is None:
        return 0, f"{change.entity}[{change.action}] sem id: ignorado"
    if change.action == "note":
        return 0, None
    if change.entity == "contacts" and str(change.item.get("type") or "contact") != "contact":
        return 0, None  # a company: not kept locally
    if change.action == "delete":
        db.session.execute(delete(model).where(model.remote_id == remote_id))
        return 1, None
    item, answered = read
    if answered and item is None:
        # Kommo no longer has it (deleted after this delivery): the local copy goes too.
        db.session.execute(delete(model).where(model.remote_id == remote_id))
        return 1, None
    fresh = item is not None
    fields = _fields(change.entity, item if fresh else as_v4(change.item))
    if fields is None or fields["remote_id"] != remote_id:
        return 0, f"{change.entity} {remote_id}: campos ilegíveis"
    _upsert(model, fields, from_delivery=not fresh)
    return 1, None


def _status_names(pipeline_id: int | None, status_id: int | None) -> dict[str, dict]:
    """Names known locally for this pipeline/status (kept by the leads sync)."""
    names: dict[str, dict] = {"pipelines": {}, "statuses": {}}
    if pipeline_id is None:
        return names
    row = db.session.execute(
        select(KommoLead.pipeline_name, KommoLead.status_name)
        .where(KommoLead.pipeline_id == pipeline_id, KommoLead.status_id == status_id)
        .where(KommoLead.status_name.is_not(None))
        .limit(1)
    ).first()
    pipeline = (
        row[0]
        if row
        else db.session.scalar(
            select(KommoLead.pipeline_name)
            .where(KommoLead.pipeline_id == pipeline_id, KommoLead.pipeline_name.is_not(None))
            .limit(1)
        )
    )
    names["pipelines"][pipeline_id] = pipeline
    names["statuses"][(pipeline_id, status_id)] = row[1] if row else None
    return names


def _fields(entity: str, item: dict) -> dict[str, Any] | None:
    if entity == "contacts":
        return kommo.contact_fields(item)
    from app.sources.base import as_int

    names = _status_names(as_int(item.get("pipeline_id")), as_int(item.get("status_id")))
    return kommo.lead_fields(item, names, kommo.account_currency_code())


# Delivered fields that say nothing when absent (a delivery never carries the lead's contacts,
# and status names come from the local copy): an absent value keeps the local one.
KEEP_WHEN_MISSING = (
    "contact_id",
    "custom_fields",
    "status_name",
    "pipeline_name",
    "closed_at",
    "first_name",
    "last_name",
    "email",
    "phone",
)


def _upsert(model, fields: dict[str, Any], *, from_delivery: bool) -> None:
    local = db.session.scalar(select(model).where(model.remote_id == fields["remote_id"]))
    if from_delivery:
        fields = {k: v for k, v in fields.items() if v is not None or k not in KEEP_WHEN_MISSING}
        if local is not None and local.remote_updated_at and fields.get("remote_updated_at"):
            if fields["remote_updated_at"] < local.remote_updated_at:
                return  # an older delivery than what we have: keep the newer copy
    now = utcnow()
    if local is None:
        db.session.add(model(last_sync_at=now, **fields))
        db.session.flush()
        return
    for key, value in fields.items():
        setattr(local, key, value)
    local.last_sync_at = now
