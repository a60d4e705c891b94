"""The cross reports' precomputed CRM match (app.services.customers.matches): kept right on
every write that moves it — a sale added or refunded, a Kommo contact synced later that now
matches, a customer key change, a lead synced — and always equal to a full recomputation."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from app.extensions import db
from app.models import KommoContact, KommoLead, Sale
from app.services import bulk
from app.services.customers import index, matches

AT = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


def add_sale(tx, email, *, status="approved", phone=None):
    sale = Sale(
        platform="hotmart",
        transaction_id=tx,
        status=status,
        buyer_email=email,
        buyer_phone=phone,
        amount_cents=1000,
        currency="BRL",
        ordered_at=AT,
        approved_at=AT,
    )
    db.session.add(sale)
    db.session.commit()
    return sale.id


def add_contact(remote_id, email=None, responsible=None, phone=None):
    contact = KommoContact(
        remote_id=remote_id, name="C", email=email, phone=phone, responsible_user_id=responsible
    )
    db.session.add(contact)
    db.session.commit()
    return contact.id


def synced_contact(remote_id, email, responsible=None) -> dict:
    return {
        "remote_id": remote_id,
        "name": f"Contato {remote_id}",
        "first_name": None,
        "last_name": None,
        "email": email,
        "phone": None,
        "responsible_user_id": responsible,
        "remote_created_at": AT,
        "remote_updated_at": AT,
        "custom_fields": [],
    }


def synced_lead(remote_id, contact_id, responsible, *, won=True) -> dict:
    return {
        "remote_id": remote_id,
        "name": f"Negócio {remote_id}",
        "contact_id": contact_id,
        "responsible_user_id": responsible,
        "is_won": won,
        "closed_at": AT,
        "price": 100,
    }


def sale_match(sale_id):
    db.session.expire_all()
    row = db.session.execute(
        select(Sale.crm_matched, Sale.crm_owner_id).where(Sale.id == sale_id)
    ).one()
    return bool(row.crm_matched), row.crm_owner_id


def has_sale(contact_id) -> bool:
    db.session.expire_all()
    return bool(
        db.session.scalar(select(KommoContact.has_sale).where(KommoContact.id == contact_id))
    )


def snapshot():
    db.session.expire_all()
    sales = db.session.execute(
        select(Sale.id, Sale.crm_matched, Sale.crm_owner_id).order_by(Sale.id)
    ).all()
    contacts = db.session.execute(
        select(KommoContact.id, KommoContact.has_sale).order_by(KommoContact.id)
    ).all()
    return [tuple(r) for r in sales], [tuple(r) for r in contacts]


def owners_summary() -> set:
    """``sales_daily_owners`` as stored and as recomputed from the sales (non-zero buckets)."""
    from app.services import summaries

    dialect = db.session.get_bind().dialect.name
    select_sql = summaries.recompute_statements(dialect)["sales_daily_owners"]
    stored = db.session.execute(
        text("SELECT day, owner, in_crm, n, amount_cents FROM sales_daily_owners WHERE n != 0")
    ).all()
    expected = db.session.execute(text(select_sql)).all()
    return {tuple(r) for r in stored}, {tuple(r) for r in expected}


def won_summary() -> tuple[set, set]:
    """``kommo_won_daily`` as stored and as recomputed from the leads (non-zero buckets)."""
    from app.services import summaries

    dialect = db.session.get_bind().dialect.name
    stored = db.session.execute(
        text("SELECT day, owner, has_sale, n FROM kommo_won_daily WHERE n != 0")
    ).all()
    expected = db.session.execute(text(summaries.recompute_statements(dialect)["kommo_won_daily"]))
    return {tuple(r) for r in stored}, {tuple(r) for r in expected}


def assert_same_as_rebuild():
    stored, expected = owners_summary()
    assert stored == expected  # the revenue report's daily buckets follow the match
    stored, expected = won_summary()
    assert stored == expected  # "ganho sem venda": the won leads follow their contact
    kept = snapshot()
    matches.rebuild(db.session)
    db.session.commit()
    assert snapshot() == kept


def test_a_sale_added_matches_an_existing_contact_and_marks_it_bought(app):
    ana = add_contact(1, "ana@x.com", responsible=100)
    sale = add_sale("S1", "ANA@x.com")
    assert sale_match(sale) == (True, 100)
    assert has_sale(ana)
    stranger = add_sale("S2", "bia@x.com")
    assert sale_match(stranger) == (False, None)
    assert_same_as_rebuild()


def test_a_refund_clears_bought_but_keeps_the_crm_match(app):
    ana = add_contact(1, "ana@x.com", responsible=100)
    sale_id = add_sale("S1", "ana@x.com")
    assert has_sale(ana)
    db.session.get(Sale, sale_id).status = "refunded"
    db.session.commit()
    assert not has_sale(ana)
    assert sale_match(sale_id) == (True, 100)  # still the contact's buyer
    db.session.get(Sale, sale_id).status = "approved"
    db.session.commit()
    assert has_sale(ana)
    db.session.get(Sale, sale_id).is_test = True
    db.session.commit()
    assert not has_sale(ana)
    assert_same_as_rebuild()


def test_a_contact_synced_later_now_matches_the_earlier_sale(app):
    sale_id = add_sale("S1", "lia@x.com")
    assert sale_match(sale_id) == (False, None)
    bulk.upsert_page(None, KommoContact, [synced_contact(7, "lia@x.com", responsible=555)])
    assert sale_match(sale_id) == (True, 555)
    contact_id = db.session.scalar(select(KommoContact.id).where(KommoContact.remote_id == 7))
    assert has_sale(contact_id)
    # the next sync moves the contact to someone else: the sale's owner follows
    bulk.upsert_page(None, KommoContact, [synced_contact(7, "lia@x.com", responsible=556)])
    assert sale_match(sale_id) == (True, 556)
    assert_same_as_rebuild()


def test_a_key_change_moves_the_match(app):
    ana = add_contact(1, "ana@x.com", responsible=100)
    first = add_sale("S1", "ana@x.com")
    second = add_sale("S2", "ana.nova@x.com")
    assert sale_match(first) == (True, 100) and sale_match(second) == (False, None)
    db.session.get(KommoContact, ana).email = "ana.nova@x.com"  # the contact's e-mail edited
    db.session.commit()
    assert sale_match(first) == (False, None) and sale_match(second) == (True, 100)
    assert has_sale(ana)
    db.session.get(Sale, second).buyer_email = "outra@x.com"  # the buyer's e-mail corrected
    db.session.commit()
    assert sale_match(second) == (False, None)
    assert not has_sale(ana)
    db.session.get(Sale, second).buyer_phone = "(11) 98888-7777"  # a phone key, same contact
    db.session.get(KommoContact, ana).phone = "+55 11 98888-7777"
    db.session.commit()
    assert sale_match(second) == (True, 100) and has_sale(ana)
    assert_same_as_rebuild()


def test_leads_set_the_owner_won_first(app):
    add_contact(1, "ana@x.com", responsible=100)
    sale_id = add_sale("S1", "ana@x.com")
    bulk.upsert_page(None, KommoLead, [synced_lead(11, 1, 300, won=False)])
    assert sale_match(sale_id) == (True, 300)  # her latest lead's
    bulk.upsert_page(None, KommoLead, [synced_lead(12, 1, 200), synced_lead(13, 1, 400, won=False)])
    assert sale_match(sale_id) == (True, 200)  # the won lead's first
    lead = db.session.scalar(select(KommoLead).where(KommoLead.remote_id == 12))
    lead.responsible_user_id = 201  # an edit through the ORM
    db.session.commit()
    assert sale_match(sale_id) == (True, 201)
    db.session.delete(lead)
    db.session.commit()
    assert sale_match(sale_id) == (True, 400)
    assert_same_as_rebuild()


def test_deleting_a_contact_unmatches_its_buyers(app):
    ana = add_contact(1, "ana@x.com", responsible=100)
    sale_id = add_sale("S1", "ana@x.com")
    db.session.delete(db.session.get(KommoContact, ana))
    db.session.commit()
    assert sale_match(sale_id) == (False, None)
    assert_same_as_rebuild()


def test_the_customers_rebuild_recomputes_the_match(app):
    ana = add_contact(1, "ana@x.com", responsible=100)
    sale_id = add_sale("S1", "ana@x.com")
    db.session.execute(Sale.__table__.update().values(crm_matched=False, crm_owner_id=None))
    db.session.execute(KommoContact.__table__.update().values(has_sale=False))
    db.session.commit()
    index.rebuild()
    assert sale_match(sale_id) == (True, 100) and has_sale(ana)


def add_lead(remote_id, contact_remote_id, responsible=300, *, won=True, closed=AT):
    lead = KommoLead(
        remote_id=remote_id,
        name=f"Negócio {remote_id}",
        contact_id=contact_remote_id,
        responsible_user_id=responsible,
        is_won=won,
        closed_at=closed,
        price=100,
    )
    db.session.add(lead)
    db.session.commit()
    return lead.id


def won_buckets() -> dict:
    db.session.expire_all()
    stored, expected = won_summary()
    assert stored == expected
    return {(owner, flag): n for _, owner, flag, n in stored}


def test_won_leads_follow_their_contact_s_purchases(app):
    """``kommo_won_daily`` through every write that moves a won lead between "com venda" and
    "sem venda": a sale added, refunded, approved again, made a test; the contact deleted and
    synced back; the lead moved to another contact, reassigned, reopened, re-dated, deleted."""
    ana = add_contact(1, "ana@x.com", responsible=100)
    add_contact(2, "bia@x.com")
    lead = add_lead(11, 1)
    add_lead(12, 2, 400)
    add_lead(13, 999, None)  # no such contact
    add_lead(14, 1, 300, won=False)  # open: never counted
    assert won_buckets() == {(300, 0): 1, (400, 0): 1, (0, 0): 1}
    sale_id = add_sale("S1", "ana@x.com")
    assert has_sale(ana) and won_buckets() == {(300, 1): 1, (400, 0): 1, (0, 0): 1}
    db.session.get(Sale, sale_id).status = "refunded"
    db.session.commit()
    assert won_buckets()[(300, 0)] == 1
    db.session.get(Sale, sale_id).status = "approved"
    db.session.commit()
    assert won_buckets()[(300, 1)] == 1
    # the lead moves to Bia (no sale), back to Ana, then to another responsible
    row = db.session.get(KommoLead, lead)
    row.contact_id = 2
    db.session.commit()
    assert won_buckets() == {(300, 0): 1, (400, 0): 1, (0, 0): 1}
    row = db.session.get(KommoLead, lead)
    row.contact_id, row.responsible_user_id = 1, 301
    db.session.commit()
    assert won_buckets() == {(301, 1): 1, (400, 0): 1, (0, 0): 1}
    # Ana's contact deleted: her lead has no contact, so no sale; synced back: it has again
    db.session.delete(db.session.get(KommoContact, ana))
    db.session.commit()
    assert won_buckets()[(301, 0)] == 1
    bulk.upsert_page(None, KommoContact, [synced_contact(1, "ana@x.com", responsible=100)])
    assert won_buckets()[(301, 1)] == 1
    # re-dated to the next day, reopened, won again by a sync page, a test sale only
    row = db.session.get(KommoLead, lead)
    row.closed_at = datetime(2026, 11, 11, 15, 0, tzinfo=UTC)
    db.session.commit()
    assert ("2026-11-11", 301, 1, 1) in won_summary()[0]
    bulk.upsert_page(None, KommoLead, [synced_lead(11, 1, 302, won=False)])
    assert (302, 1) not in won_buckets() and (301, 1) not in won_buckets()
    bulk.upsert_page(None, KommoLead, [synced_lead(11, 1, 302)])
    assert won_buckets()[(302, 1)] == 1
    db.session.get(Sale, sale_id).is_test = True
    db.session.commit()
    assert won_buckets()[(302, 0)] == 1
    db.session.delete(db.session.get(KommoLead, lead))
    db.session.commit()
    assert won_buckets() == {(400, 0): 1, (0, 0): 1}
    assert_same_as_rebuild()


def test_the_summaries_rebuild_restores_the_won_leads(app, runner):
    add_contact(1, "ana@x.com")
    add_lead(11, 1)
    add_sale("S1", "ana@x.com")
    db.session.execute(text("DELETE FROM kommo_won_daily"))
    db.session.execute(
        text("INSERT INTO kommo_won_daily (day, owner, has_sale, n) VALUES ('2026-01-01', 9, 0, 5)")
    )
    db.session.commit()
    result = runner.invoke(args=["db", "rebuild-summaries"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert won_buckets() == {(300, 1): 1}
