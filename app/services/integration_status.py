"""What the status card of an API integration says, and only what is known.

An integration is "Conectado" only after a connection test or a sync **with the current
credentials** succeeded. With credentials saved but never tested (or changed since the last
test) it says "Credenciais salvas — teste a conexão"; when the last test or sync failed it
says so, with that failure's pt-BR message. The last outcome is one row of
``integration_checks`` per integration, written on its own short transaction (never the
caller's session) by ``record()``: "Testar conexão" records its result and every syncer is
wrapped by ``recording()``. The credentials are never stored there, only a keyed hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.clients.errors import (
    APIError,
    AuthenticationError,
    PaymentRequiredError,
    PermissionDeniedError,
)
from app.extensions import db
from app.models import IntegrationCheck
from app.models.types import utcnow
from app.registry import Integration

log = logging.getLogger(__name__)

MESSAGE_MAX = 500
STATE_MISSING, STATE_UNTESTED, STATE_OK, STATE_ERROR = "missing", "untested", "ok", "error"
LABEL_UNTESTED = "Credenciais salvas — teste a conexão"
LABEL_OK = "Conectado"
LABEL_BAD_CREDENTIALS = "Credenciais com erro"
LABEL_FAILED = "Falha na conexão"
# Outcomes that say the credentials themselves are wrong (else: the platform or the network).
CREDENTIAL_CODES = frozenset(
    {
        "invalid_credentials",
        "invalid_token",
        "token_expired",
        "permission_denied",
        "payment_required",
        "missing_credentials",
        "missing_token",
        "missing_url",
    }
)
BADGES = {
    STATE_MISSING: "text-bg-secondary",
    STATE_UNTESTED: "text-bg-warning",
    STATE_OK: "text-bg-success",
    STATE_ERROR: "text-bg-danger",
}


def fingerprint(integ: Integration, values: dict[str, str | None]) -> str:
    """A keyed hash of the values that decide whether the credentials work (not the numbers,
    such as a timeout). Never reversible to a credential."""
    keys = [f.key for f in integ.fields if f.kind != "number"]
    raw = json.dumps([values.get(k) or "" for k in keys], separators=(",", ":"))
    secret = str(current_app.config.get("SECRET_KEY") or "vendas-hub").encode()
    return hmac.new(secret, raw.encode(), hashlib.sha256).hexdigest()


def record(
    integ: Integration,
    ok: bool,
    code: str | None,
    message: str | None,
    values: dict[str, str | None],
    kind: str = "test",
) -> None:
    """Keep the last outcome (own connection and transaction; a failure only logs)."""
    table = IntegrationCheck.__table__
    row = {
        "ok": bool(ok),
        "kind": kind,
        "code": (code or None) and code[:64],
        "message": (message or "")[:MESSAGE_MAX] or None,
        "fingerprint": fingerprint(integ, values),
        "checked_at": utcnow(),
    }
    where = table.c.platform == integ.name
    try:
        with db.engine.begin() as conn:
            if not conn.execute(update(table).where(where).values(**row)).rowcount:
                conn.execute(insert(table).values(platform=integ.name, **row))
    except IntegrityError:  # inserted concurrently: ours is newer
        try:
            with db.engine.begin() as conn:
                conn.execute(update(table).where(where).values(**row))
        except SQLAlchemyError:
            log.warning("could not record the %s connection outcome", integ.name)
    except SQLAlchemyError:
        log.warning("could not record the %s connection outcome", integ.name)


def failure_code(exc: BaseException) -> str:
    """The connection code of a failed sync (the API error it came from, when known)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AuthenticationError):
            return "invalid_credentials"
        if isinstance(seen, PermissionDeniedError):
            return "permission_denied"
        if isinstance(seen, PaymentRequiredError):
            return "payment_required"
        if isinstance(seen, APIError):
            return "error"
        seen = seen.__cause__ or seen.__context__
    return "sync_failed"


def recording(integ: Integration, func: Callable) -> Callable:
    """``func`` (a syncer) that records its outcome: success, or the API/sync error that
    stopped it. Cancellations, missing credentials and bugs of ours are not a verdict on the
    credentials and are not recorded."""
    from app.services import integration, sync

    @functools.wraps(func)
    def run(ctx, full: bool) -> None:
        try:
            func(ctx, full)
        except sync.SyncNotConfigured:
            raise
        except (sync.SyncError, APIError) as exc:
            db.session.rollback()  # what the runner does next anyway: free the session
            values = integration.credentials(integ)
            text = sync.error_text(exc)
            record(integ, False, failure_code(exc), text, values, kind="sync")
            raise
        db.session.commit()  # the runner commits next: do it before our own connection
        record(integ, True, "ok", None, integration.credentials(integ), kind="sync")

    return run


def last_check(integ: Integration) -> IntegrationCheck | None:
    return db.session.scalar(
        select(IntegrationCheck).where(IntegrationCheck.platform == integ.name)
    )


def status(
    integ: Integration,
    configured: bool,
    values: dict[str, str | None],
    problem: str | None = None,
) -> dict[str, Any]:
    """``{"state", "label", "badge", "message", "checked_at", "kind"}`` for the status card.

    ``problem``: what is known to be wrong without asking the platform (an expired token)."""
    missing = integ.page.missing_label if integ.page else "credenciais não configuradas"
    out: dict[str, Any] = {"message": None, "checked_at": None, "kind": None}
    if not configured:
        out.update(state=STATE_MISSING, label=missing)
    elif problem:
        out.update(state=STATE_ERROR, label=LABEL_BAD_CREDENTIALS, message=problem)
    else:
        check = last_check(integ)
        if check is None or check.fingerprint != fingerprint(integ, values):
            out.update(state=STATE_UNTESTED, label=LABEL_UNTESTED)
        else:
            out.update(checked_at=check.checked_at, kind=check.kind)
            if check.ok:
                out.update(state=STATE_OK, label=LABEL_OK)
            else:
                label = LABEL_BAD_CREDENTIALS if check.code in CREDENTIAL_CODES else LABEL_FAILED
                out.update(state=STATE_ERROR, label=label, message=check.message)
    out["badge"] = BADGES[out["state"]]
    return out
