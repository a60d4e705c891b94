"""One buyer, found by more than the e-mail: the Kommo sender reuses an earlier delivery's
contact by CPF/CNPJ or phone — or of the same sale, for a buyer with none of them — and the
claim keeps one buyer at a time by the same keys (``buyer_columns``), so two senders never
create two contacts of one buyer whose e-mails differ (or who has none).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AutomationDelivery, Sale
from app.models.automation import (
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    buyer_columns,
    phone_key,
)
from app.models.types import utcnow
from app.services.automation_sender import _claim_next
from tests.integrations import test_kommo_push as kp

emu, push_app, hook = kp.emu, kp.push_app, kp.hook  # the same fixtures


def test_the_buyer_keys_of_a_payload():
    assert phone_key("+55 (21) 98888-1234") == phone_key("21988881234") == "21988881234"
    assert phone_key("1234567") == "" and phone_key(None) == ""
    keys = buyer_columns(
        {"buyer_email": " Ana@Example.com ", "buyer_document": "529.982.247-25", "buyer_phone": ""}
    )
    assert keys == {
        "buyer_email": "ana@example.com",
        "buyer_document": "52998224725",
        "buyer_phone": None,
    }


def test_a_second_sale_with_another_email_reuses_the_contact_by_phone(hook, emu):
    first = kp.approved(email="um.fone@example.com", checkout_phone="988881234")
    assert hook("hotmart", first).status_code == 200
    [one] = kp.deliveries()
    assert one.status == DELIVERY_SENT and one.buyer_phone
    second = kp.approved(
        email="outro.fone@example.com", checkout_phone="988881234", product=(9, "Mentoria")
    )
    assert hook("hotmart", second).status_code == 200
    one, two = kp.deliveries()
    assert two.status == DELIVERY_SENT and two.remote_contact_id == one.remote_contact_id
    assert "kommo.add_contacts" not in emu.stats()["endpoints"]


def test_a_shared_phone_never_files_a_buyer_under_another_persons_contact(hook, emu):
    """Bruno has a Kommo contact of his own (by e-mail) and buys with the phone Ana bought
    with (a household's): his lead goes to his contact, not to Ana's."""
    ana = kp.approved(email="ana.casa@example.com", checkout_phone="988881234")
    assert hook("hotmart", ana).status_code == 200
    [first] = kp.deliveries()
    body = [
        {
            "name": "Bruno Manual",
            "custom_fields_values": [
                {"field_code": "EMAIL", "values": [{"value": "bruno.casa@example.com"}]}
            ],
        }
    ]
    resp = kp.requests.post(
        f"{emu.kommo}{kp.API}/contacts",
        json=body,
        headers={"Authorization": f"Bearer {emu.config.kommo_token()}"},
        timeout=5,
    )
    bruno = resp.json()["_embedded"]["contacts"][0]["id"]
    assert bruno != first.remote_contact_id
    sale = kp.approved(email="bruno.casa@example.com", checkout_phone="988881234")
    assert hook("hotmart", sale).status_code == 200
    _, second = kp.deliveries()
    assert second.status == DELIVERY_SENT and second.remote_contact_id == bruno


def _row(key: str, status: str = DELIVERY_PENDING, sale_id=None, **payload) -> AutomationDelivery:
    now = utcnow()
    row = AutomationDelivery(
        target="kommo",
        step="contact_lead",
        dedupe_key=f"kommo:contact_lead:{key}",
        sale_id=sale_id,
        payload=payload,
        status=status,
        next_attempt_at=now + timedelta(minutes=5) if status == DELIVERY_SENDING else now,
        **buyer_columns(payload),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_known_contacts_by_document_and_by_the_same_sale(push_app):
    from app.services.kommo_push import KommoPusher

    doc = _row("doc", DELIVERY_SENT, buyer_document="529.982.247-25", buyer_email="a@x.com")
    doc.remote_contact_id = 40_000_111
    db.session.commit()
    pusher = KommoPusher()
    try:
        new = _row("doc2", buyer_document="52998224725", buyer_email="b@x.com")
        assert pusher.known_contact(new, new.payload) is None  # before Kommo's search: no
        assert pusher.known_contact(new, new.payload, strong=False) == 40_000_111  # one CPF
        stranger = _row("doc3", buyer_document="11144477735", buyer_email="c@x.com")
        assert pusher.known_contact(stranger, stranger.payload, strong=False) is None

        company = _row(
            "cnpj", DELIVERY_SENT, buyer_document="11222333000181", buyer_email="d@x.com"
        )
        company.remote_contact_id = 40_000_333
        db.session.commit()
        colleague = _row("cnpj2", buyer_document="11.222.333/0001-81", buyer_email="e@x.com")
        assert pusher.known_contact(colleague, colleague.payload, strong=False) is None
        again = _row("cnpj3", buyer_document="11222333000181", buyer_email="d@x.com")
        assert pusher.known_contact(again, again.payload, strong=False) == 40_000_333

        sale = Sale(
            platform="hotmart",
            transaction_id="HP-NOKEY",
            status="approved",
            buyer_email="",
            product_id="1",
        )
        db.session.add(sale)
        db.session.commit()
        first = _row("sale1", DELIVERY_SENT, sale_id=sale.id)
        first.remote_contact_id = 40_000_222
        db.session.commit()
        later = _row("sale2", sale_id=sale.id)  # no e-mail, phone or document at all
        assert pusher.known_contact(later, later.payload) == 40_000_222
    finally:
        pusher.close()


def test_the_claim_keeps_one_buyer_at_a_time_by_every_key(push_app):
    busy = _row("busy", DELIVERY_SENDING, buyer_email="x@x.com", buyer_document="52998224725")
    _row("phone-busy", DELIVERY_SENDING, buyer_email="y@x.com", buyer_phone="21988881234")
    same_doc = _row("same-doc", buyer_email="z@x.com", buyer_document="529.982.247-25")
    same_phone = _row("same-phone", buyer_phone="+55 21 98888-1234")  # and no e-mail
    free = _row("free", buyer_email="w@x.com", buyer_document="11144477735")
    claimed = _claim_next("kommo")
    assert claimed is not None and claimed.id == free.id  # the other two wait for theirs
    assert _claim_next("kommo") is None
    db.session.expire_all()
    for row in (same_doc, same_phone):
        assert db.session.get(AutomationDelivery, row.id).status == DELIVERY_PENDING
    busy = db.session.get(AutomationDelivery, busy.id)
    busy.status = DELIVERY_SENT  # its sender is done: the buyer's next row can go
    db.session.commit()
    assert _claim_next("kommo").id == same_doc.id
    assert (
        db.session.scalar(
            select(AutomationDelivery.status).where(AutomationDelivery.id == same_phone.id)
        )
        == DELIVERY_PENDING
    )
