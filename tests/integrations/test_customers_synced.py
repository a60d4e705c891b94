"""One customer across sources over emulator-synced data: Hotmart sales history, Kommo
contacts and leads, Gestão Click clients and vendas, all drawn from the emulator's shared
people pool. The keys the syncs write give each buyer's page the same people the union-find
over every record finds, and the rebuild gives the same keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CustomerKey, GcClient, KommoContact, Sale
from app.services import sync
from app.services.customers import index, keys, lookup
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401
from tests.conftest import Auth
from tests.integrations.test_gestao_click_integration import gc_config
from tests.integrations.test_hotmart_integration import hotmart_config
from tests.integrations.test_kommo_integration import kommo_config

PEOPLE = 30


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator(
        products=4,
        sales=80,
        subscriptions=3,
        contacts=PEOPLE,
        leads=40,
        gc_clients=PEOPLE,
        gc_sales=60,
        gc_products=5,
        people=PEOPLE,
        hotmart_rate_limit=0,
        kommo_rate_limit=0,
        gc_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def synced(app_factory, emu):
    config = {**hotmart_config(emu), **kommo_config(emu), **gc_config(emu)}
    app = app_factory(**config)
    with app.app_context():
        for source, resource in (
            ("hotmart", "sales"),
            ("kommo", "contacts"),
            ("kommo", "leads"),
            ("gestao_click", "clients"),
            ("gestao_click", "sales"),
        ):
            run = sync.run_sync(source, resource, full=True)
            assert run.status == "succeeded", (source, resource, run.error)
        yield app
        sync.wait_idle(10)


def _all_keys() -> set[tuple]:
    t = CustomerKey
    return set(db.session.execute(select(t.kind, t.value, t.source, t.source_id)).all())


def _union_find_people() -> list[set]:
    records = {}
    for source, model in index.MODELS.items():
        for obj in db.session.scalars(select(model)):
            records[(source, obj.id)] = index.keys_of(source, obj)
    return keys.group(records)


def test_synced_buyers_meet_their_crm_and_erp_records(synced):
    sales = list(db.session.scalars(select(Sale)))
    assert sales and db.session.scalar(select(KommoContact.id).limit(1))
    assert db.session.scalar(select(GcClient.id).limit(1))
    people = _union_find_people()
    by_record = {rid: person for person in people for rid in person}
    joined = 0
    for sale in sales:
        person = lookup.resolve(f"sale:{sale.id}")
        found = {(s, i) for s, ids in person.records.items() for i in ids}
        assert found == by_record[("sale", sale.id)], sale.transaction_id
        if {"kommo", "gc"} <= set(person.records):
            joined += 1
    assert joined > 0  # the shared pool: buyers found in Kommo and Gestão Click

    # Their page shows the three sources.
    sale = next(s for s in sales if {"kommo", "gc"} <= set(lookup.resolve(f"sale:{s.id}").records))
    client = synced.test_client()
    Auth(synced, client).operator()
    html = client.get(f"/clientes/email:{sale.buyer_email}").get_data(as_text=True)
    assert f'href="/vendas/{sale.id}"' in html
    assert "data-customer-contact" in html and "data-customer-client" in html


def test_rebuild_gives_the_keys_the_syncs_wrote(synced):
    written = _all_keys()
    assert {k[2] for k in written} == {"sale", "kommo", "gc"}
    index.rebuild()
    assert _all_keys() == written
