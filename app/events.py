"""Behaviour hung on the database session's transaction events (as microblog does).

- A transaction that queued (or re-queued) e-mail kicks the outbox once it commits, so no caller
  has to remember ``outbox.kick()``; a rolled-back one sends nothing.
- A transaction that queued an automation push (Kommo…) kicks its sender the same way.
- A transaction that changed settings drops this process's cached copies once it commits.
- A transaction that changed the access catalogue or the products (``access_catalogue.TABLES``)
  drops this process's copy of the overview's unmapped-products flag once it commits.

Callers mark the session (``db.session.info``); the hooks act on the mark after the commit.
"""

from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event

from app.extensions import db

log = logging.getLogger(__name__)

OUTBOX_QUEUED = "vendas_outbox_queued"
AUTOMATIONS_QUEUED = "vendas_automations_queued"
_installed = False


def mark_outbox_queued() -> None:
    """Called where an e-mail becomes due: deliver it right after this transaction commits."""
    db.session.info[OUTBOX_QUEUED] = True


def mark_automations_queued() -> None:
    """Called where a push to Kommo (…) becomes due: deliver it after this transaction commits."""
    db.session.info[AUTOMATIONS_QUEUED] = True


def _before_flush(session, _context, _instances) -> None:
    from app.services import access_catalogue

    access_catalogue.note_flush(session)


def _do_orm_execute(state) -> None:
    from app.services import access_catalogue

    access_catalogue.note_statement(state)


def _after_commit(session) -> None:
    from app.services import access_catalogue, settings

    changed = session.info.pop(settings.CHANGED_INFO, None)
    catalogue = session.info.pop(access_catalogue.CHANGED_INFO, False)
    queued = session.info.pop(OUTBOX_QUEUED, False)
    automations = session.info.pop(AUTOMATIONS_QUEUED, False)
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if changed:
        settings.forget(app, changed)
    if catalogue:
        access_catalogue.forget_unmapped(app)
    if queued:
        from app.services import outbox

        _kick("outbox", outbox)
    if automations:
        from app.services import automation_sender

        _kick("automations", automation_sender)


def _kick(label: str, sender) -> None:
    """``sender.kick()``, logged when it fails: the scheduled job (and the worker) deliver
    what it would have sent later, and the commit it follows stands."""
    try:
        sender.kick()
    except Exception:
        log.exception("%s kick after commit failed", label)


def _after_rollback(session) -> None:
    from app.services import access_catalogue, settings

    session.info.pop(access_catalogue.CHANGED_INFO, None)
    session.info.pop(OUTBOX_QUEUED, None)
    session.info.pop(AUTOMATIONS_QUEUED, None)
    session.info.pop(settings.CHANGED_INFO, None)


def install() -> None:
    """Listen on the Flask-SQLAlchemy session class (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    event.listen(db.session, "before_flush", _before_flush)
    event.listen(db.session, "do_orm_execute", _do_orm_execute)
    _installed = True
