"""Kommo lists for the page and the JSON API: the **local** copies filled by the syncers
(Kommo is never called per page view: re-reading the same data counts as API abuse there),
plus the one live read of a record not synced yet (``fetch_contact``/``fetch_lead``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import KommoContact, KommoLead
from app.models.types import utcnow
from app.registry import integration as declared
from app.services import integration
from app.services.kommo_mapping import contact_fields, lead_fields

KOMMO = declared("kommo")


def _like(query: str) -> str:
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contacts_query(query: str = ""):
    stmt = select(KommoContact)
    query = (query or "").strip()[:200]
    if query:
        like = _like(query)
        digits = "".join(ch for ch in query if ch.isdecimal())
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
        digits = "".join(ch for ch in query if ch.isdecimal())
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


def deals_json(leads) -> list[dict[str, Any]]:
    """Deals as the API answers them: each lead with its contact's id, name and e-mail."""
    contacts = contacts_by_remote_id({lead.contact_id for lead in leads})
    out = []
    for lead in leads:
        item = lead.to_dict()
        contact = contacts.get(lead.contact_id)
        item["contact"] = (
            {"id": contact.remote_id, "name": contact.name, "email": contact.email}
            if contact
            else None
        )
        out.append(item)
    return out


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


def lead_currency(code: str | None) -> str:
    """A lead's currency: the one stored with it at sync (its account's), else the account's
    as the latest synced lead says (looked up once per request), else BRL."""
    if code:
        return code.strip().upper() or "BRL"
    from flask import g, has_app_context

    if not has_app_context():
        return account_currency_code()
    if "kommo_account_currency" not in g:
        g.kommo_account_currency = account_currency_code()
    return g.kommo_account_currency


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
    if contact is not None or not integration.is_configured(KOMMO):
        return contact
    db.session.commit()  # no read transaction held while Kommo answers
    with integration.build_client(KOMMO) as client:
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
    if lead is not None or not integration.is_configured(KOMMO):
        return lead
    currency = account_currency_code()
    db.session.commit()
    with integration.build_client(KOMMO) as client:
        item = client.get_lead(remote_id)
    names: dict[str, dict] = {"pipelines": {}, "statuses": {}}
    fields = lead_fields(item, names, currency) if item else None
    if fields is None or fields["remote_id"] != remote_id:
        return None
    return _store(KommoLead, fields)
