"""The origin of a sale (UTM, src, sck, xcod) stored from each platform's real-format webhook
and shown on the sale page ("Origem da venda")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Sale
from tests.conftest import Auth

CASES = {
    "hotmart": (
        "purchase_approved",
        {"src": "instagram", "sck": "HOTMART_PRODUCT_PAGE", "xcod": "campanha-black-friday"},
    ),
    "kiwify": ("order_approved", {"utm_source": "FB"}),
    "kirvano": ("sale_approved", {"utm_source": "FB"}),
    "eduzz": (
        "invoice_paid",
        {"utm_source": "abc", "utm_medium": "jkl", "utm_campaign": "def", "utm_content": "ghi"},
    ),
}
FIELDS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "src",
    "sck",
    "xcod",
)


@pytest.mark.parametrize("platform", sorted(CASES))
def test_webhook_stores_the_origin_and_the_page_shows_it(platform, send_webhook, webhook_app):
    fixture, expected = CASES[platform]
    response = send_webhook(platform, fixture)
    assert response.status_code == 200, response.get_data(as_text=True)
    sale = db.session.scalar(select(Sale))
    assert {f: getattr(sale, f) for f in FIELDS} == {f: expected.get(f) for f in FIELDS}

    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    html = client.get(f"/vendas/{sale.id}").get_data(as_text=True)
    assert "Origem da venda" in html
    for value in expected.values():
        assert value in html


def test_a_refund_without_tracking_keeps_the_origin(send_webhook):
    send_webhook("kiwify", "order_approved")
    send_webhook("kiwify", "order_refunded")
    sale = db.session.scalar(select(Sale))
    db.session.refresh(sale)
    assert sale.status == "refunded" and sale.utm_source == "FB"


def test_page_without_origin_says_so(send_webhook, webhook_app):
    send_webhook("hotmart", "purchase_refunded")
    sale = db.session.scalar(select(Sale))
    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    html = client.get(f"/vendas/{sale.id}").get_data(as_text=True)
    assert "não informou UTM" in html
