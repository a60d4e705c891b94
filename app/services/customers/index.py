"""``customer_keys`` kept in step with the records they describe.

The only write hooks of the customer view, all here:

* ORM flushes (webhooks, manual edits): ``_after_flush`` rewrites the keys of new or changed
  ``Sale``/``KommoContact``/``GcClient`` objects whose matching columns changed, and drops
  those of deleted ones, in the same transaction;
* a sale created by ``INSERT … RETURNING`` (the webhook fast path) is never "new" to the
  session: ``app.services.sales`` calls ``index_sale`` for it;
* bulk sync pages (``bulk.upsert_page``, ``bulk_sales.upsert_sales_page``) call
  ``after_page`` with the page's natural keys: one select, one delete, one insert per page.

``rebuild`` recomputes everything in id-ordered chunks (``flask customers rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import CustomerKey, GcClient, KommoContact, Sale
from app.services.customers.keys import record_keys

log = logging.getLogger(__name__)

SALE, KOMMO, GC = "sale", "kommo", "gc"
MODELS = {SALE: Sale, KOMMO: KommoContact, GC: GcClient}
SOURCE_OF = {model: source for source, model in MODELS.items()}
# The columns each source's keys are computed from.
COLUMNS = {
    SALE: ("buyer_email", "buyer_phone", "buyer_document", "buyer_name"),
    KOMMO: ("email", "phone", "name"),
    GC: ("email", "telefone", "celular", "cpf_cnpj", "nome", "razao_social"),
}
CHUNK = 2000


def keys_of(source: str, row) -> set[tuple[str, str]]:
    """The keys of one record (an ORM object or a row with the ``COLUMNS`` attributes)."""
    if source == SALE:
        return record_keys(
            emails=[row.buyer_email], phones=[row.buyer_phone],
            documents=[row.buyer_document], names=[row.buyer_name],
        )
    if source == KOMMO:
        return record_keys(emails=[row.email], phones=[row.phone], names=[row.name])
    return record_keys(
        emails=[row.email], phones=[row.telefone, row.celular], documents=[row.cpf_cnpj],
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
    if not fresh:
        ids = [rid for rid, _ in items]
        conn.execute(delete(table).where(table.c.source == source, table.c.source_id.in_(ids)))
    rows = _rows(source, items)
    if rows:
        conn.execute(table.insert(), rows)


def index_sale(sale: Sale) -> None:
    """Keys of a sale just created by ``INSERT … RETURNING`` (no keys exist yet)."""
    write_keys(db.session, SALE, [(sale.id, keys_of(SALE, sale))], fresh=True)


def after_page(model, natural: Sequence, *, platform: str | None = None) -> None:
    """Rewrite the keys of one synced page's records, by their natural keys (``remote_id``;
    ``transaction_id`` of ``platform`` for sales), and commit."""
    source = SOURCE_OF.get(model)
    if source is None or not natural:
        return
    cols = [model.id, *(getattr(model, c) for c in COLUMNS[source])]
    if source == SALE:
        stmt = select(*cols).where(Sale.platform == platform, Sale.transaction_id.in_(natural))
    else:
        stmt = select(*cols).where(model.remote_id.in_(natural))
    try:
        items = [(row.id, keys_of(source, row)) for row in db.session.execute(stmt)]
        write_keys(db.session, source, items)
        db.session.commit()
    except Exception:  # the page is saved; keys are repaired by the next sync or a rebuild
        db.session.rollback()
        log.exception("customer keys of a %s page could not be written", source)


def _changed(obj, source: str) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[c].history.has_changes() for c in COLUMNS[source])


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    changed: dict[str, list] = {}
    for obj in (*session.new, *session.dirty):
        source = SOURCE_OF.get(type(obj))
        if source and obj.id is not None and (obj in session.new or _changed(obj, source)):
            changed.setdefault(source, []).append(obj)
    gone: dict[str, list[int]] = {}
    for obj in session.deleted:
        source = SOURCE_OF.get(type(obj))
        if source and obj.id is not None:
            gone.setdefault(source, []).append(obj.id)
    if not changed and not gone:
        return
    conn = session.connection()
    table = CustomerKey.__table__
    for source, objs in changed.items():
        write_keys(conn, source, [(o.id, keys_of(source, o)) for o in objs])
    for source, ids in gone.items():
        conn.execute(delete(table).where(table.c.source == source, table.c.source_id.in_(ids)))


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
    return counts


__all__ = ["after_page", "index_sale", "keys_of", "rebuild"]
