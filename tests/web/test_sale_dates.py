"""A sale's order date: parsed from each platform's payload, the date /vendas shows, filters,
sorts and the daily summary counts by; approval and refund dates on the detail page; event
names in plain Portuguese."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Sale, SalesDaily
from app.sources import SOURCES
from app.sources.times import SAO_PAULO
from tests.conftest import load_fixture

ORDERED = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
APPROVED = datetime(2026, 11, 13, 18, 30, tzinfo=UTC)


def _ms(moment):
    return int(moment.timestamp() * 1000)


def _visible(html):
    body = html.split("<main", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.parametrize(
    "platform, fixture, expected",
    [
        ("hotmart", "purchase_approved", datetime(2025, 11, 15, 23, 1, 40, tzinfo=UTC)),
        ("kiwify", "order_approved", datetime(2026, 6, 8, 14, 53, tzinfo=UTC)),
        ("kirvano", "sale_approved", None),
        ("eduzz", "invoice_paid", None),
        ("eduzz", "legacy_invoice_paid", None),
    ],
)
def test_each_source_reads_the_order_date(platform, fixture, expected):
    event = SOURCES[platform].parse(load_fixture(platform, fixture))
    if expected is not None:
        assert event.ordered_at == expected
    else:  # the fixture's creation date, in UTC, never after the approval
        assert event.ordered_at is not None and event.ordered_at.tzinfo is not None
        assert event.occurred_at is None or event.ordered_at <= event.occurred_at


def test_order_date_drives_the_list_filter_summary_and_detail(send_webhook, auth, client):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["purchase"]["order_date"] = _ms(ORDERED)
    body["data"]["purchase"]["approved_date"] = _ms(APPROVED)
    assert send_webhook("hotmart", body).status_code == 200
    sale = db.session.scalar(select(Sale))
    assert sale.ordered_at == ORDERED and sale.approved_at == APPROVED
    assert sale.listed_at == ORDERED
    days = {row.day for row in db.session.scalars(select(SalesDaily)) if row.n}
    assert days == {"2026-11-10"}  # the summary counts it on the order's day

    auth.operator()
    tx = sale.transaction_id
    assert tx in client.get("/vendas?de=2026-11-10&ate=2026-11-10").get_data(as_text=True)
    assert tx not in client.get("/vendas?de=2026-11-13&ate=2026-11-13").get_data(as_text=True)
    listing = client.get("/vendas").get_data(as_text=True)
    assert "10/11/2026 12:00" in listing and "Data do pedido" in listing

    refund = load_fixture("hotmart", "purchase_refunded")
    refund["creation_date"] = _ms(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    assert send_webhook("hotmart", refund).status_code == 200
    db.session.expire_all()
    assert db.session.get(Sale, sale.id).ordered_at == ORDERED  # a refund keeps the order date
    text = _visible(client.get(f"/vendas/{sale.id}").get_data(as_text=True))
    assert re.search(r"Pedido em\s+10/11/2026 12:00", text)
    assert re.search(r"Aprovada em\s+13/11/2026 15:30", text)
    assert re.search(r"Reembolsada em\s+20/11/2026 10:00", text)
    assert "Compra aprovada" in text and "Reembolso" in text
    assert "PURCHASE_" not in text  # codes only in title attributes


def test_sales_without_an_order_date_fall_back_to_approval(app, auth, client):
    db.session.add(
        Sale(platform="kiwify", transaction_id="SEM-DATA", status="approved", approved_at=APPROVED)
    )
    db.session.commit()
    sale = db.session.scalar(select(Sale))
    assert sale.listed_at == APPROVED
    auth.operator()
    text = _visible(client.get(f"/vendas/{sale.id}").get_data(as_text=True))
    assert "não enviou a data do pedido" in text
    assert "SEM-DATA" in client.get("/vendas?de=2026-11-13&ate=2026-11-13").get_data(as_text=True)


def test_a_later_dated_refund_never_moves_the_order_date(send_webhook):
    """Kirvano stamps each delivery with a ``created_at`` of its own: the refund's is two days
    after the order's. The sale stays filed under the order's day. (A refund seen before any
    approval is final: the approval's date is never applied, the refund's stays.)"""
    approval = load_fixture("kirvano", "sale_approved")
    refund = load_fixture("kirvano", "sale_refund")
    assert approval["sale_id"] == refund["sale_id"]
    assert refund["created_at"] > approval["created_at"]
    for body in (approval, refund):
        assert send_webhook("kirvano", body).status_code == 200
    sale = db.session.scalar(select(Sale))
    assert sale.status == "refunded"
    ordered = SOURCES["kirvano"].parse(approval).ordered_at
    assert sale.ordered_at == ordered and sale.listed_at == ordered
    days = {row.day for row in db.session.scalars(select(SalesDaily)) if row.n}
    assert days == {ordered.astimezone(SAO_PAULO).date().isoformat()}
