"""The audit log: one ``record(...)`` call per operator action, in the action's transaction.

``record`` only adds the entry to the session; the caller's commit stores it with the change it
describes (a rollback drops both). Actions whose service commits on its own (webhook
processing, starting or cancelling a sync run) are recorded right after, with their outcome.

Entries never hold a secret: keys that name one are dropped, and every string is passed
through the log masking (known secrets, JWTs, ``Bearer …``, ``token=…``) before it is stored.
"""

from __future__ import annotations

import re
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from app.extensions import db
from app.logs import MASKING_FILTER, mask_text
from app.models.audit import AuditEntry
from app.plurals import ngettext

ACTIVATION_RESENT = "activation.resent"
ACTIVATION_REVOKED = "activation.revoked"
ACTIVATION_EMAIL_CHANGED = "activation.email_changed"
ACTIVATION_LINK_COPIED = "activation.link_copied"
RECONCILIATION_LINK_SENT = "reconciliation.link_sent"
EMAIL_RETRIED = "email.retried"
AUTOMATION_RETRIED = "automation.retried"
AUTOMATION_BACKFILL = "automation.backfill"
WEBHOOK_REPLAYED = "webhook.replayed"
WEBHOOK_TEST_SENT = "webhook.test_sent"
SETTINGS_CHANGED = "settings.changed"
SCHEDULES_CHANGED = "schedules.changed"
SYNC_STARTED = "sync.started"
SYNC_CANCELED = "sync.canceled"
OPERATOR_CREATED = "operator.created"
OPERATOR_INVITED = "operator.invited"
OPERATOR_INVITE_REVOKED = "operator.invite_revoked"
OPERATOR_JOINED = "operator.joined"
OPERATOR_ROLE_CHANGED = "operator.role_changed"
OPERATOR_REMOVED = "operator.removed"
LOGIN = "auth.login"
LOGOUT = "auth.logout"
ACCESS_CHANGED = "access.changed"

# What a seller reads on /auditoria (pt-BR), in the order of the filter menu.
ACTIONS: dict[str, str] = {
    ACTIVATION_RESENT: "Link reenviado",
    ACTIVATION_REVOKED: "Link revogado",
    ACTIVATION_EMAIL_CHANGED: "E-mail corrigido",
    ACTIVATION_LINK_COPIED: "Novo link copiado pelo operador",
    RECONCILIATION_LINK_SENT: "Acesso enviado a comprador sem acesso",
    EMAIL_RETRIED: "E-mail recolocado na fila",
    AUTOMATION_RETRIED: "Automação recolocada na fila",
    AUTOMATION_BACKFILL: "Vendas anteriores enviadas às automações",
    WEBHOOK_REPLAYED: "Webhook reprocessado",
    WEBHOOK_TEST_SENT: "Webhook de teste enviado",
    SETTINGS_CHANGED: "Configuração alterada",
    SCHEDULES_CHANGED: "Agendamento alterado",
    SYNC_STARTED: "Sincronização iniciada",
    SYNC_CANCELED: "Sincronização cancelada",
    OPERATOR_CREATED: "Operador criado",
    OPERATOR_INVITED: "Operador convidado",
    OPERATOR_INVITE_REVOKED: "Convite de operador cancelado",
    OPERATOR_JOINED: "Convite de operador aceito",
    OPERATOR_ROLE_CHANGED: "Papel de operador alterado",
    OPERATOR_REMOVED: "Operador removido da equipe",
    LOGIN: "Entrada no painel",
    LOGOUT: "Saída do painel",
    ACCESS_CHANGED: "Catálogo de acessos alterado",
}

ACTOR_CLI = "linha de comando"
ACTOR_SYSTEM = "sistema"

_SECRET_KEY = re.compile(r"(?i)pass|secret|token|hottok|authorization|api[-_]?key|signature|basic")
_MAX_TEXT = 500
_MAX_ITEMS = 50


def record(
    action: str,
    *,
    target_type: str | None = None,
    target_id: Any = None,
    details: dict | None = None,
    actor=None,
    actor_label: str | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    """Add an entry for ``action`` to the session (the caller commits).

    The actor defaults to the logged-in user of the current request; ``actor_label`` names a
    non-user actor (``ACTOR_CLI``). The address defaults to the request's (after ProxyFix).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and actor_label is None and has_request_context():
        from flask_login import current_user

        if current_user.is_authenticated:
            actor = current_user
    if remote_addr is None and has_request_context():
        remote_addr = request.remote_addr
    if actor is not None:
        actor_id, actor_email = actor.id, actor.email
    else:
        actor_id, actor_email = None, actor_label or ACTOR_SYSTEM
    entry = AuditEntry(
        actor_user_id=actor_id,
        actor_email=_clean(actor_email)[:254],
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else _clean(str(target_id))[:64],
        details=scrub(details or {}),
        remote_addr=_clean(remote_addr)[:64] if remote_addr else None,
    )
    db.session.add(entry)
    return entry


def scrub(value: Any) -> Any:
    """A JSON-safe copy without secrets: secret-named keys dropped, strings masked and cut."""
    if isinstance(value, dict):
        return {
            _clean(str(k))[:64]: scrub(v)
            for k, v in list(value.items())[:_MAX_ITEMS]
            if not _SECRET_KEY.search(str(k))
        }
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in list(value)[:_MAX_ITEMS]]
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
            return str(value)
        return value
    return mask_text(_clean(str(value))[:_MAX_TEXT], MASKING_FILTER.known_secrets)


def _clean(text: str) -> str:
    """Text any database stores: no NUL, no lone surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


# ------------------------------------------------------------------------------- reading


def query(action: str | None = None, actor: str | None = None):
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor_email == actor)
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def actors() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.actor_email).distinct().order_by(AuditEntry.actor_email)
        )
    )


def label(entry: AuditEntry) -> str:
    return ACTIONS.get(entry.action, entry.action)


def summary(entry: AuditEntry) -> str:
    """What the action touched, e.g. "Kommo — Token de longa duração (JWT)"."""
    what = _DESCRIBE.get(entry.action)
    try:
        return what(entry.details or {}) if what else ""
    except (AttributeError, TypeError, ValueError):
        return ""


def describe(entry: AuditEntry) -> str:
    """One pt-BR line a seller understands, e.g. "Configuração alterada: Kommo — token"."""
    detail = summary(entry)
    return f"{label(entry)}: {detail}" if detail else label(entry)


def _join(*parts) -> str:
    return " — ".join(str(p) for p in parts if p not in (None, ""))


_DESCRIBE = {
    ACTIVATION_RESENT: lambda d: _join(
        d.get("email"), "compra adicionada à conta existente" if d.get("attached") else None
    ),
    ACTIVATION_REVOKED: lambda d: _join(d.get("email"), d.get("product")),
    ACTIVATION_LINK_COPIED: lambda d: _join(d.get("email"), d.get("product")),
    RECONCILIATION_LINK_SENT: lambda d: _join(
        d.get("email"),
        d.get("product"),
        "compra adicionada à conta existente" if d.get("attached") else None,
    ),
    ACTIVATION_EMAIL_CHANGED: lambda d: f"{d.get('old_email', '?')} → {d.get('new_email', '?')}",
    EMAIL_RETRIED: lambda d: _join(d.get("to"), d.get("subject")),
    AUTOMATION_RETRIED: lambda d: _join(
        d.get("target"), ngettext("%(num)s envio", "%(num)s envios", d.get("count", 1))
    ),
    AUTOMATION_BACKFILL: lambda d: _join(d.get("period"), d.get("queued")),
    WEBHOOK_REPLAYED: lambda d: _join(
        f"{str(d.get('platform', '')).title()} #{d.get('event_id', '?')}", d.get("result")
    ),
    WEBHOOK_TEST_SENT: lambda d: _join(
        str(d.get("platform", "")).title(), d.get("event"), d.get("result")
    ),
    SETTINGS_CHANGED: lambda d: _join(d.get("group"), ", ".join(d.get("fields") or [])),
    SCHEDULES_CHANGED: lambda d: "; ".join(
        f"{j.get('job')} ({'ligado' if j.get('enabled') else 'desligado'}, a cada "
        f"{j.get('interval_minutes')} min)"
        for j in d.get("jobs") or []
        if isinstance(j, dict)
    ),
    SYNC_STARTED: lambda d: _join(
        d.get("source_label"), d.get("resource_label"), "completa" if d.get("full") else None
    ),
    SYNC_CANCELED: lambda d: _join(d.get("source_label"), d.get("resource_label")),
    OPERATOR_CREATED: lambda d: _join(d.get("email"), d.get("role"), d.get("via")),
    OPERATOR_INVITED: lambda d: _join(d.get("email"), d.get("role")),
    OPERATOR_INVITE_REVOKED: lambda d: _join(d.get("email"), d.get("role")),
    OPERATOR_JOINED: lambda d: _join(d.get("email"), d.get("role")),
    OPERATOR_ROLE_CHANGED: lambda d: _join(
        d.get("email"), f"{d.get('old_role', '?')} → {d.get('new_role', '?')}"
    ),
    OPERATOR_REMOVED: lambda d: _join(d.get("email"), d.get("role")),
}
