"""``customer_keys`` kept in step with the records they describe.

The only write hooks of the customer view, all here:

* ORM flushes (webhooks, manual edits): ``_after_flush`` notes new, deleted and changed
  ``Sale``/``KommoContact``/``GcClient`` objects (matching columns only) and ``_before_commit``
  writes their keys in the same transaction, one DELETE and one INSERT per source;
* a sale created by ``INSERT … RETURNING`` (the webhook fast path) is never "new" to the
  session: ``app.services.sales`` calls ``index_sale`` for it;
* bulk sync pages (``bulk.upsert_page``, ``bulk_sales.upsert_sales_page``) call
  ``after_page`` with the page's natural keys: one select, one delete, one insert per page.

``rebuild`` recomputes everything in id-ordered chunks (``flask customers rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import String, bindparam, delete, event, literal, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import CustomerKey, GcClient, KommoContact, KommoLead, Sale
from app.services.customers import matches
from app.services.customers.keys import MATCH_KINDS, record_keys

log = logging.getLogger(__name__)

SALE, KOMMO, GC = "sale", "kommo", "gc"
MODELS = {SALE: Sale, KOMMO: KommoContact, GC: GcClient}
SOURCE_OF = {model: source for source, model in MODELS.items()}
# Synced pages that call ``after_page``: the key sources, and Kommo leads (the CRM match).
WATCHED = (*MODELS.values(), KommoLead)
# The columns each source's keys are computed from.
COLUMNS = {
    SALE: ("buyer_email", "buyer_phone", "buyer_document", "buyer_name"),
    KOMMO: ("email", "phone", "name"),
    GC: ("email", "telefone", "celular", "cpf_cnpj", "nome", "razao_social"),
}
CHUNK = 2000
PENDING = "customer_keys_pending"
# What else moves the cross reports' CRM match (app.services.customers.matches) without a key
# change: a sale's status or test flag, a contact's responsible user, a lead's contact, won
# flag or responsible user (noted per transaction, applied before the commit).
MATCH_PENDING = "customer_matches_pending"
MATCH_COLUMNS = {
    Sale: ("status", "is_test"),
    KommoContact: ("responsible_user_id",),
    KommoLead: ("contact_id", "is_won", "responsible_user_id"),
}
RECHECK = "customer_keys_recheck"


def keys_of(source: str, row) -> set[tuple[str, str]]:
    """The keys of one record (an ORM object or a row with the ``COLUMNS`` attributes)."""
    if source == SALE:
        return record_keys(
            emails=[row.buyer_email],
            phones=[row.buyer_phone],
            documents=[row.buyer_document],
            names=[row.buyer_name],
        )
    if source == KOMMO:
        return record_keys(emails=[row.email], phones=[row.phone], names=[row.name])
    return record_keys(
        emails=[row.email],
        phones=[row.telefone, row.celular],
        documents=[row.cpf_cnpj],
        names=[row.nome, row.razao_social],
    )


def _rows(source: str, items: Iterable[tuple[int, set]]) -> list[dict]:
    return [
        {"kind": kind, "value": value, "source": source, "source_id": rid}
        for rid, keys in items
        for kind, value in sorted(keys)
    ]


def write_keys(conn, source: str, items: Sequence[tuple[int, set]], *, fresh=False) -> None:
    """Replace the keys of ``items`` (``(local id, keys)``) on ``conn`` (a session or a
    connection); ``fresh`` records have none yet (no delete)."""
    table = CustomerKey.__table__
    if not items:
        return
    ids = [rid for rid, _ in items]
    others: set[tuple[str, str]] = set()
    if not fresh:
        others = _delete_keys(conn, source, ids)
    rows = _rows(source, items)
    if rows:
        conn.execute(table.insert(), rows)
    matches.after_rewrite(conn, source, ids, others, ids if fresh else ())


def _delete_keys(conn, source: str, ids) -> set[tuple[str, str]]:
    """Delete the keys of ``source`` records ``ids`` (a list or a subquery); returns the
    matching ones deleted (the other side's records sharing them get their match refreshed)."""
    table = CustomerKey.__table__
    stmt = delete(table).where(table.c.source == source, table.c.source_id.in_(ids))
    if source not in matches.OTHER:
        conn.execute(stmt)
        return set()
    gone = conn.execute(stmt.returning(table.c.kind, table.c.value)).all()
    return {(kind, value) for kind, value in gone if kind in MATCH_KINDS}


def index_sale(sale: Sale) -> None:
    """A sale just created by ``INSERT … RETURNING`` (the session never saw it as new): its
    keys are written with the transaction's others, before the commit."""
    _pending(db.session)[(SALE, sale.id)] = (keys_of(SALE, sale), True)


def after_page(model, rows: Sequence, *, platform: str | None = None) -> None:
    """Rewrite the keys of one synced page's records and commit.

    Contacts and clients (``rows``: the page's mapped dicts): keys from the page's own values,
    joined to the local ids in SQL — one DELETE and one ``INSERT … SELECT``, no rows read.
    Sales (``rows``: transaction ids of ``platform``): the stored rows are read (a synced sale
    merges with what webhooks saw) and their keys rewritten."""
    source = SOURCE_OF.get(model)
    if (source is None and model is not KommoLead) or not rows:
        return
    try:
        if model is KommoLead:
            matches.contacts_changed(db.session, remote_ids=[r.get("contact_id") for r in rows])
        elif source == SALE:
            _sales_page(platform, rows)
        else:
            _records_page(source, model, rows)
        db.session.commit()
    except Exception:  # the page is saved; keys are repaired by the next sync or a rebuild
        db.session.rollback()
        log.exception("customer keys of a %s page could not be written", source)


def _records_page(source: str, model, rows: Sequence[dict]) -> None:
    remote = [row["remote_id"] for row in rows]
    ids = select(model.id).where(model.remote_id.in_(remote)).scalar_subquery()
    others = _delete_keys(db.session, source, ids)
    values = [
        {"k": kind, "v": value, "rid": row["remote_id"]}
        for row in rows
        for kind, value in sorted(keys_of(source, _Row(row)))
    ]
    if values:
        _insert_page_keys(source, model, values)
    matches.after_rewrite(db.session, source, ids, others)


def _insert_page_keys(source: str, model, values: list[dict]) -> None:
    table = CustomerKey.__table__
    pick = select(
        bindparam("k", type_=table.c.kind.type),
        bindparam("v", type_=String(254)),
        literal(source, type_=table.c.source.type),
        model.id,
    ).where(model.remote_id == bindparam("rid", type_=model.remote_id.type))
    stmt = table.insert().from_select(["kind", "value", "source", "source_id"], pick)
    db.session.execute(stmt, values)


class _Row:
    """A mapped page row read like a record (columns the mapper left out are empty)."""

    def __init__(self, row: dict) -> None:
        self._row = row

    def __getattr__(self, name: str):
        return self._row.get(name)


def _sales_page(platform: str | None, transactions: Sequence) -> None:
    cols = [Sale.id, *(getattr(Sale, c) for c in COLUMNS[SALE])]
    stmt = select(*cols).where(Sale.platform == platform, Sale.transaction_id.in_(transactions))
    items = [(row.id, keys_of(SALE, row)) for row in db.session.execute(stmt)]
    write_keys(db.session, SALE, items)


def _changed(obj, source: str) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in COLUMNS[source])


def _pending(session) -> dict:
    """``{(source, id): (keys, fresh)}`` of this transaction, written by ``_before_commit``
    (``fresh``: created in this transaction, so no old keys to delete)."""
    return session.info.setdefault(PENDING, {})


def _note_match(session, obj, is_new: bool, is_gone: bool) -> None:
    """Note what a flushed sale, contact or lead changes in the CRM match (MATCH_COLUMNS)."""
    columns = MATCH_COLUMNS[type(obj)]
    state = sa_inspect(obj)
    if not isinstance(obj, KommoLead):
        is_new = is_gone = False  # a new or deleted sale or contact is a key change
    if not (is_new or is_gone) and not any(state.attrs[c].history.has_changes() for c in columns):
        return
    noted = session.info.setdefault(
        MATCH_PENDING, {"sales": set(), "contacts": set(), "remote": set()}
    )
    if isinstance(obj, Sale):
        noted["sales"].add(obj.id)
    elif isinstance(obj, KommoContact):
        noted["contacts"].add(obj.id)
    else:  # a lead: its contact before and after the change
        history = state.attrs["contact_id"].history
        noted["remote"].update((*history.deleted, *history.unchanged, *history.added))


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    pending = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj) in MATCH_COLUMNS and obj.id is not None:
            _note_match(session, obj, obj in session.new, obj in session.deleted)
        source = SOURCE_OF.get(type(obj))
        if source is None or obj.id is None:
            continue
        is_new, is_gone = obj in session.new, obj in session.deleted
        if not (is_new or is_gone or _changed(obj, source)):
            continue
        pending = _pending(session) if pending is None else pending
        fresh = is_new or pending.get((source, obj.id), (None, False))[1]
        pending[(source, obj.id)] = (set() if is_gone else keys_of(source, obj), fresh)


@event.listens_for(Session, "before_commit")
def _before_commit(session) -> None:
    """The transaction's key changes in one DELETE and one INSERT per source, however many
    records it touched (a batch of webhook approvals costs one statement in all)."""
    if not (session.info.get(PENDING) or session.info.get(MATCH_PENDING)) and not (
        session.new or session.dirty or session.deleted
    ):
        return
    session.flush()
    rewritten = set(session.info.get(PENDING) or ())
    _write_pending_keys(session)
    noted = session.info.pop(MATCH_PENDING, None)
    if noted:  # a sale whose keys were just rewritten already refreshed its contacts
        matches.sales_changed(session, [i for i in noted["sales"] if (SALE, i) not in rewritten])
        matches.contacts_changed(session, noted["contacts"], noted["remote"])


def _write_pending_keys(session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    if session.info.pop(RECHECK, False):
        pending = _reread(session, pending)
    table = CustomerKey.__table__
    by_source: dict[str, list] = {}
    for (source, rid), (keys, fresh) in pending.items():
        by_source.setdefault(source, []).append((rid, keys, fresh))
    for source, items in by_source.items():
        stale = [rid for rid, _, fresh in items if not fresh]
        others: set[tuple[str, str]] = set()
        for i in range(0, len(stale), CHUNK):
            others |= _delete_keys(session, source, stale[i : i + CHUNK])
        rows = _rows(source, [(rid, keys) for rid, keys, _ in items])
        if rows:
            session.execute(table.insert(), rows)
        fresh = [rid for rid, _, is_fresh in items if is_fresh]
        matches.after_rewrite(session, source, [rid for rid, _, _ in items], others, fresh)


def _reread(session, pending: dict) -> dict:
    """After a savepoint rolled back, what was noted may not have happened: the keys of every
    noted record are computed again from what the database now holds (gone: none)."""
    out = {}
    for source, model in MODELS.items():
        ids = [rid for (s, rid) in pending if s == source]
        if not ids:
            continue
        cols = [model.id, *(getattr(model, c) for c in COLUMNS[source])]
        rows = {r.id: r for r in session.execute(select(*cols).where(model.id.in_(ids)))}
        for rid in ids:
            row = rows.get(rid)
            out[(source, rid)] = (keys_of(source, row) if row else set(), False)
    return out


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session, previous_transaction) -> None:
    if previous_transaction.nested and session.info.get(PENDING):
        session.info[RECHECK] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_end(session, transaction) -> None:
    if transaction.parent is None:  # committed (already written) or rolled back
        session.info.pop(PENDING, None)
        session.info.pop(RECHECK, None)
        session.info.pop(MATCH_PENDING, None)


def rebuild() -> dict[str, int]:
    """Recompute every key from the three tables (chunked, id order); returns keys per source."""
    table = CustomerKey.__table__
    db.session.execute(delete(table))
    counts = {}
    for source, model in MODELS.items():
        cols = [model.id, *(getattr(model, c) for c in COLUMNS[source])]
        last, total = 0, 0
        while True:
            chunk = db.session.execute(
                select(*cols).where(model.id > last).order_by(model.id).limit(CHUNK)
            ).all()
            if not chunk:
                break
            items = [(row.id, keys_of(source, row)) for row in chunk]
            rows = _rows(source, items)
            if rows:
                db.session.execute(table.insert(), rows)
            total += len(rows)
            last = chunk[-1].id
            db.session.commit()
        counts[source] = total
    matches.rebuild(db.session, db.session.commit)
    db.session.commit()
    return counts


__all__ = ["after_page", "index_sale", "keys_of", "rebuild"]
