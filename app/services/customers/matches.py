"""The CRM match of each sale and contact, precomputed for the cross reports (issue 16).

``sales.crm_matched``: one of the sale's e-mail/phone/document keys is also a Kommo contact's.
``sales.crm_owner_id``: the responsible user the revenue report credits the sale to — of its
matched contacts' won lead first (then their latest lead), else the contact's own.
``kommo_contacts.has_sale``: the contact shares a key with a non-test approved sale.

The reports read these columns instead of matching every sale or won lead of the range through
``customer_keys``; the expressions below are the matching the reports used to run per row, now
run per changed record by ``app.services.customers.index`` in the transaction that changes
what they depend on:

* a record's keys are rewritten (webhook, edit, sync page): the record itself and the records
  of the other side that shared its old or its new keys;
* a sale's status or test flag changes: the contacts sharing its keys (``has_sale``);
* a contact's responsible user, or a lead's contact/won flag/responsible user: the sales
  sharing that contact's keys (``crm_owner_id``).

``rebuild`` recomputes every row (``flask customers rebuild`` and the migration's backfill).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, exists, func, select, tuple_, update

from app.models import CustomerKey, KommoContact, KommoLead, Sale
from app.models.sales import GRANTING_STATUSES
from app.services.customers.keys import MATCH_KINDS

SALE, KOMMO = "sale", "kommo"
OTHER = {SALE: KOMMO, KOMMO: SALE}
CHUNK = 2000
REBUILD_CHUNK = 20000


def _keys(name: str):
    return CustomerKey.__table__.alias(name)


def in_crm():
    """The sale (correlated ``sales``) shares an e-mail, phone or document with a contact."""
    mine, theirs = _keys("sk"), _keys("kk")
    return (
        exists()
        .select_from(
            mine.join(theirs, and_(theirs.c.kind == mine.c.kind, theirs.c.value == mine.c.value))
        )
        .where(
            mine.c.source == SALE,
            mine.c.source_id == Sale.id,
            mine.c.kind.in_(MATCH_KINDS),
            theirs.c.source == KOMMO,
        )
    )


def owner():
    """The responsible user of the sale's CRM contact: of its won lead first (then its
    latest lead), else the contact's own; NULL when matched to no contact or nobody."""
    mine, theirs = _keys("ok"), _keys("ov")
    won_first = func.coalesce(KommoLead.is_won, False)
    return (
        select(func.coalesce(KommoLead.responsible_user_id, KommoContact.responsible_user_id))
        .select_from(
            mine.join(theirs, and_(theirs.c.kind == mine.c.kind, theirs.c.value == mine.c.value))
            .join(KommoContact, KommoContact.id == theirs.c.source_id)
            .outerjoin(KommoLead, KommoLead.contact_id == KommoContact.remote_id)
        )
        .where(
            mine.c.source == SALE,
            mine.c.source_id == Sale.id,
            mine.c.kind.in_(MATCH_KINDS),
            theirs.c.source == KOMMO,
        )
        .order_by(won_first.desc(), KommoLead.id.desc(), KommoContact.id)
        .limit(1)
        .correlate(Sale)
        .scalar_subquery()
    )


def contact_bought():
    """The contact (correlated ``kommo_contacts``) shares a key with a real approved sale."""
    mine, theirs = _keys("ck"), _keys("bk")
    buyer = Sale.__table__.alias("bs")
    return (
        exists()
        .select_from(
            mine.join(
                theirs, and_(theirs.c.kind == mine.c.kind, theirs.c.value == mine.c.value)
            ).join(buyer, buyer.c.id == theirs.c.source_id)
        )
        .where(
            mine.c.source == KOMMO,
            mine.c.source_id == KommoContact.id,
            mine.c.kind.in_(MATCH_KINDS),
            theirs.c.source == SALE,
            buyer.c.is_test.is_(False),
            buyer.c.status.in_(GRANTING_STATUSES),
        )
    )


def sharing(source: str, ids):
    """Ids of the other side's records sharing a match key with ``source`` records ``ids``
    (a list or a subquery), as they are now."""
    return _shared_keys(source, ids, lambda mine, theirs: (theirs.c.source_id,))


def _shared_keys(source: str, ids, columns):
    """``columns(mine, theirs)`` of each match key that ``source`` records ``ids`` share with
    the other side's records."""
    mine, theirs = _keys("mk"), _keys("tk")
    return (
        select(*columns(mine, theirs))
        .select_from(
            mine.join(theirs, and_(theirs.c.kind == mine.c.kind, theirs.c.value == mine.c.value))
        )
        .where(
            mine.c.source == source,
            mine.c.source_id.in_(ids),
            mine.c.kind.in_(MATCH_KINDS),
            theirs.c.source == OTHER[source],
        )
    )


def _update_sales(where):
    table = Sale.__table__
    return update(table).values(crm_matched=in_crm(), crm_owner_id=owner()).where(where)


def _update_contacts(where):
    table = KommoContact.__table__
    return update(table).values(has_sale=contact_bought()).where(where)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ids = sorted(set(ids))
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def holding(source: str, keys):
    """Ids of ``source`` records holding one of ``keys`` (``(kind, value)`` pairs)."""
    table = CustomerKey.__table__
    return select(table.c.source_id).where(
        table.c.source == source, tuple_(table.c.kind, table.c.value).in_(keys)
    )


def _pairs(source: str, ids):
    """``(id, other side's id)`` of ``source`` records ``ids`` sharing a match key."""
    return _shared_keys(source, ids, lambda mine, theirs: (mine.c.source_id, theirs.c.source_id))


def after_rewrite(conn, source: str, ids, old_keys=(), fresh=()) -> None:
    """After ``source`` records ``ids`` (a list or a subquery) got their new keys: refresh
    them and the other side's records sharing their new keys or ``old_keys`` (the deleted
    ``(kind, value)`` pairs).
    ``fresh`` ids are new records: still at the defaults (no match) unless a key is shared,
    so a batch of new buyers nobody else shares a key with costs one SELECT."""
    if source not in OTHER:
        return
    own, other = (_update_sales, _update_contacts) if source == SALE else (
        _update_contacts,
        _update_sales,
    )  # fmt: skip
    own_id, other_id = (Sale.id, KommoContact.id) if source == SALE else (KommoContact.id, Sale.id)
    if not isinstance(ids, list):
        conn.execute(own(own_id.in_(ids)))
        conn.execute(other(other_id.in_(sharing(source, ids))))
        targets: set[int] = set()
    else:
        fresh = set(fresh)
        mine, targets = {i for i in ids if i not in fresh}, set()
        for chunk in _chunks(ids):
            for rid, oid in conn.execute(_pairs(source, chunk)):
                mine.add(rid)
                targets.add(oid)
        for chunk in _chunks(mine):
            conn.execute(own(own_id.in_(chunk)))
    for chunk in _chunks(targets):
        conn.execute(other(other_id.in_(chunk)))
    old_keys = sorted(set(old_keys))
    for i in range(0, len(old_keys), CHUNK):
        conn.execute(other(other_id.in_(holding(OTHER[source], old_keys[i : i + CHUNK]))))


def sales_changed(conn, sale_ids: Iterable[int]) -> None:
    """A sale's status or test flag changed: whether its contacts bought may have too."""
    for chunk in _chunks(sale_ids):
        conn.execute(_update_contacts(KommoContact.id.in_(sharing(SALE, chunk))))


def contacts_changed(conn, contact_ids: Iterable[int] = (), remote_ids: Iterable = ()) -> None:
    """A contact's responsible user, or a lead of the contacts ``remote_ids``, changed: the
    owner of the sales matched to them may have too."""
    for chunk in _chunks(contact_ids):
        conn.execute(_update_sales(Sale.id.in_(sharing(KOMMO, chunk))))
    remote = sorted({r for r in remote_ids if r is not None})
    for i in range(0, len(remote), CHUNK):
        local = select(KommoContact.id).where(KommoContact.remote_id.in_(remote[i : i + CHUNK]))
        conn.execute(_update_sales(Sale.id.in_(sharing(KOMMO, local.scalar_subquery()))))


def rebuild(conn, commit=None) -> None:
    """Recompute every sale's and contact's match, in id ranges (``commit`` after each)."""
    for model, stmt in ((Sale, _update_sales), (KommoContact, _update_contacts)):
        top = conn.execute(select(func.max(model.id))).scalar() or 0
        for low in range(0, top, REBUILD_CHUNK):
            conn.execute(stmt(and_(model.id > low, model.id <= low + REBUILD_CHUNK)))
            if commit is not None:
                commit()


__all__ = ["after_rewrite", "contact_bought", "in_crm", "owner", "rebuild"]
