"""Reading people from ``customer_keys``: one person from any of their keys (the connected
records, found by index lookups a few keys at a time), and the navbar search (a prefix of
one key kind, keyset paged)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from app.extensions import db
from app.models import (
    Access,
    ActivationLink,
    CustomerKey,
    GcClient,
    GcSale,
    KommoContact,
    KommoLead,
    Sale,
    User,
)
from app.paging import paginate
from app.services.customers import keys as K
from app.services.customers.index import GC, KOMMO, MODELS, SALE

MAX_RECORDS = 200  # a shared office phone must not pull the whole base into one page
RECORD_SOURCES = (SALE, KOMMO, GC)
KEY_NORMALIZERS = {K.EMAIL: K.email_key, K.PHONE: K.phone_key, K.DOC: K.document_key}


def parse_key(raw: str) -> tuple[str, str] | None:
    """``email:…``, ``phone:…``, ``doc:…`` (normalized here) or ``sale:<id>``,
    ``kommo:<id>``, ``gc:<id>`` (a record); ``None`` when unreadable."""
    kind, sep, value = (raw or "").partition(":")
    if not sep or not value:
        return None
    if kind in KEY_NORMALIZERS:
        normalized = KEY_NORMALIZERS[kind](value)
        return (kind, normalized) if normalized else None
    if kind in RECORD_SOURCES and value.isdecimal() and len(value) < 19:
        return (kind, value)
    return None


def key_string(kind: str, value) -> str:
    return f"{kind}:{value}"


@dataclass
class Person:
    key: str
    records: dict[str, set[int]] = field(default_factory=dict)
    keys: set[tuple[str, str]] = field(default_factory=set)
    truncated: bool = False

    @property
    def emails(self) -> list[str]:
        return sorted(v for k, v in self.keys if k == K.EMAIL)

    @property
    def phones(self) -> list[str]:
        return sorted(v for k, v in self.keys if k == K.PHONE)

    @property
    def documents(self) -> list[str]:
        return sorted(v for k, v in self.keys if k == K.DOC)


def _records_with(keys: set[tuple[str, str]]) -> set[tuple[str, int]]:
    table = CustomerKey.__table__
    by_kind: dict[str, list[str]] = {}
    for kind, value in keys:
        by_kind.setdefault(kind, []).append(value)
    stmt = (
        select(table.c.source, table.c.source_id)
        .where(or_(*(and_(table.c.kind == k, table.c.value.in_(v)) for k, v in by_kind.items())))
        .limit(MAX_RECORDS + 1)
    )
    return {(row.source, int(row.source_id)) for row in db.session.execute(stmt)}


def _keys_of(records: set[tuple[str, int]]) -> set[tuple[str, str]]:
    table = CustomerKey.__table__
    by_source: dict[str, list[int]] = {}
    for source, rid in records:
        by_source.setdefault(source, []).append(rid)
    stmt = select(table.c.kind, table.c.value).where(
        table.c.kind.in_(K.MATCH_KINDS),
        or_(*(and_(table.c.source == s, table.c.source_id.in_(i)) for s, i in by_source.items())),
    )
    return {(row.kind, row.value) for row in db.session.execute(stmt)}


def resolve(raw: str) -> Person | None:
    """The person a page key names: every record joined to it by a shared e-mail, phone or
    document, transitively (the union of ``keys.group``), read by index."""
    parsed = parse_key(raw)
    if parsed is None:
        return None
    kind, value = parsed
    person = Person(key=key_string(kind, value))
    found: set[tuple[str, int]] = set()
    if kind in RECORD_SOURCES:
        record = (kind, int(value))
        if db.session.get(MODELS[kind], record[1]) is None:
            return None
        found.add(record)
        frontier_keys = _keys_of({record})
    else:
        frontier_keys = {(kind, value)}
    seen_keys: set[tuple[str, str]] = set()
    while frontier_keys and not person.truncated:
        seen_keys |= frontier_keys
        new_records = _records_with(frontier_keys) - found
        found |= new_records
        if len(found) > MAX_RECORDS:
            person.truncated = True
            break
        frontier_keys = (_keys_of(new_records) - seen_keys) if new_records else set()
    if not found:
        return None
    person.keys = seen_keys | frontier_keys
    for source, rid in found:
        person.records.setdefault(source, set()).add(rid)
    return person


@dataclass
class Profile:
    person: Person
    name: str | None
    sales: list
    links: dict
    accesses: dict
    contacts: list
    leads: list
    clients: list
    gc_sales: list


def _rows_in(model, column, values: list, *order) -> list:
    """The rows of ``model`` whose ``column`` is one of ``values`` (none asked: no query)."""
    if not values:
        return []
    return list(db.session.scalars(select(model).where(column.in_(values)).order_by(*order)))


def profile(person: Person) -> Profile:
    """Everything the customer page shows, a few indexed selects."""
    sale_ids = sorted(person.records.get(SALE, ()))
    sales = (
        list(
            db.session.scalars(
                select(Sale)
                .where(Sale.id.in_(sale_ids))
                .order_by(Sale.listed_at.desc(), Sale.id.desc())
            )
        )
        if sale_ids
        else []
    )
    links: dict[int, list] = {}
    accesses: dict[int, list] = {}
    if sale_ids:
        for link in db.session.scalars(
            select(ActivationLink)
            .where(ActivationLink.sale_id.in_(sale_ids))
            .order_by(ActivationLink.id.desc())
        ):
            links.setdefault(link.sale_id, []).append(link)
        for access, user in db.session.execute(
            select(Access, User)
            .join(User, User.id == Access.user_id)
            .where(Access.sale_id.in_(sale_ids))
            .order_by(Access.id)
        ):
            accesses.setdefault(access.sale_id, []).append((access, user))
    contacts = _rows_in(KommoContact, KommoContact.id, sorted(person.records.get(KOMMO, ())))
    leads = _rows_in(
        KommoLead,
        KommoLead.contact_id,
        [c.remote_id for c in contacts],
        KommoLead.remote_created_at.desc(),
        KommoLead.id.desc(),
    )
    clients = _rows_in(GcClient, GcClient.id, sorted(person.records.get(GC, ())))
    gc_sales = _rows_in(
        GcSale,
        GcSale.cliente_id,
        [c.remote_id for c in clients],
        GcSale.data.desc(),
        GcSale.id.desc(),
    )
    names = [s.buyer_name for s in sales] + [c.name for c in contacts] + [c.nome for c in clients]
    return Profile(
        person=person,
        name=next((n for n in names if n), None),
        sales=sales,
        links=links,
        accesses=accesses,
        contacts=contacts,
        leads=leads,
        clients=clients,
        gc_sales=gc_sales,
    )


def _prefix_condition(column, prefix: str):
    """``column`` starts with ``prefix``: a range on the (kind, value, id) index. The column
    compares bytewise on both databases (SQLite BINARY, PostgreSQL ``COLLATE "C"``), so the
    range is exact and the index also serves the keyset order."""
    return and_(column >= prefix, column < prefix + "\U0010ffff")


@dataclass
class Hit:
    kind: str
    value: str
    source: str
    record: object
    target: str


def search(q: str, per_page: int = 25):
    """Records whose e-mail, phone, document or name word starts with what ``q`` means
    (``keys.query_key``), by (value, id), keyset paged (``app.paging.paginate``)."""
    query = K.query_key(q)
    if query is None:
        return None, []
    kind, prefix = query
    stmt = select(CustomerKey).where(
        CustomerKey.kind == kind, _prefix_condition(CustomerKey.value, prefix)
    )
    page = paginate(
        stmt,
        [(CustomerKey.value, False), (CustomerKey.id, False)],
        per_page,
        key=lambda k: [k.value, k.id],
    )
    return page, _hits(page.items)


def search_all(q: str, batch: int = 500):
    """Every hit of ``search(q)`` in the same order, loaded ``batch`` keys at a time (for
    the CSV export: never the whole result in memory)."""
    from itertools import islice

    query = K.query_key(q)
    if query is None:
        return
    kind, prefix = query
    stmt = (
        select(CustomerKey)
        .where(CustomerKey.kind == kind, _prefix_condition(CustomerKey.value, prefix))
        .order_by(CustomerKey.value, CustomerKey.id)
        .execution_options(yield_per=batch)
    )
    keys = iter(db.session.scalars(stmt))
    while rows := list(islice(keys, batch)):
        yield from _hits(rows)


def _hits(rows) -> list:
    """The ``Hit`` of each key row, its record loaded with one query per source."""
    by_source: dict[str, set[int]] = {}
    for row in rows:
        by_source.setdefault(row.source, set()).add(int(row.source_id))
    loaded = {
        (source, obj.id): obj
        for source, ids in by_source.items()
        for obj in db.session.scalars(select(MODELS[source]).where(MODELS[source].id.in_(ids)))
    }
    hits = []
    for row in rows:
        record = loaded.get((row.source, int(row.source_id)))
        if record is None:
            continue  # a key left behind by a bulk delete; the next rebuild drops it
        target = (
            key_string(row.source, row.source_id)
            if row.kind == K.NAME
            else key_string(row.kind, row.value)
        )
        hits.append(Hit(row.kind, row.value, row.source, record, target))
    return hits
