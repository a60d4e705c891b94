"""Reconciliation over emulator-synced Hotmart history: it lists exactly the approved history
sales lacking access, a webhook reclassifies one, bulk send issues each link once; the history's
``purchase.tracking`` lands on the sales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale
from app.models.types import utcnow
from app.services import reconciliation, sync
from emulator.webhooks import build_event
from tests.clients.conftest import LiveEmulator
from tests.conftest import Auth, csrf_token
from tests.integrations.test_hotmart_integration import HOTTOK, hotmart_config


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        products=8,
        sales=150,
        subscriptions=5,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def synced(app_factory, emu):
    app = app_factory(**hotmart_config(emu))
    with app.app_context():
        run = sync.run_sync("hotmart", "sales", full=True)
        assert run.status == "succeeded", run.error
        yield app
        sync.wait_idle(10)


def expected_gaps(days: int) -> set[str]:
    since = utcnow() - timedelta(days=days)
    return set(
        db.session.scalars(
            select(Sale.transaction_id).where(
                Sale.status.in_(("approved", "complete")), Sale.approved_at >= since
            )
        )
    )


def test_history_tracking_is_stored(synced, emu):
    with emu.hotmart() as client:
        items = [i for page in client.sales_pages(page_size=100) for i in page.items]
    tracked = [i for i in items if i["purchase"].get("tracking")]
    assert tracked and len(tracked) < len(items)
    item = tracked[0]
    sale = db.session.scalar(
        select(Sale).where(Sale.transaction_id == item["purchase"]["transaction"])
    )
    wire = item["purchase"]["tracking"]
    assert (sale.src, sale.sck, sale.xcod) == (
        wire["source"],
        wire["source_sck"],
        wire["external_code"],
    )


def test_lists_exactly_the_history_sales_lacking_access_and_sends_once(synced):
    client = synced.test_client()
    Auth(synced, client).operator()
    expected = expected_gaps(30)
    assert expected  # the emulator's recent sales
    body = client.get("/api/reports/reconciliation", query_string={"limit": 200}).get_json()
    assert body["total"] == len(expected)
    assert {i["transaction_id"] for i in body["items"]} == expected
    assert {i["problem"] for i in body["items"]} == {"no_webhook"}
    assert all(isinstance(i["amount_cents"], int) and i["amount_cents"] > 0 for i in body["items"])
    wide = client.get("/api/reports/reconciliation", query_string={"days": 365}).get_json()
    assert wide["total"] == len(expected_gaps(365)) >= body["total"]

    # a webhook for one of them arrives: it gets its link and leaves the report
    first = body["items"][0]
    sale = db.session.scalar(select(Sale).where(Sale.transaction_id == first["transaction_id"]))
    raw, headers, _ = build_event(
        "hotmart",
        "approved",
        secret=HOTTOK,
        transaction=sale.transaction_id,
        email=sale.buyer_email,
        name=sale.buyer_name,
    )
    delivery = synced.test_client().post("/webhook/hotmart", data=raw, headers=headers)
    assert delivery.status_code == 200
    db.session.expire_all()
    assert (sale.src, sale.sck) == ("FB", "HOTMART_PRODUCT_PAGE")  # the webhook's origin
    after = client.get("/api/reports/reconciliation", query_string={"limit": 200})
    assert after.status_code == 200, after.get_data(as_text=True)
    after = after.get_json()
    assert after["total"] == len(expected) - 1

    # its link expires unused: back in the report, now "not_activated"
    db.session.rollback()
    db.session.execute(
        ActivationLink.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    again = client.get("/api/reports/reconciliation", query_string={"limit": 200}).get_json()
    problems = {i["transaction_id"]: i["problem"] for i in again["items"]}
    assert problems[sale.transaction_id] == "not_activated" and again["total"] == len(expected)

    token = {"X-CSRFToken": csrf_token(client, "/relatorios")}
    sent = client.post(
        "/api/reports/reconciliation/send-links", json={"all": True}, headers=token
    ).get_json()
    assert sent["issued"] == len(expected)
    resent = client.post(
        "/api/reports/reconciliation/send-links", json={"all": True}, headers=token
    ).get_json()
    assert resent["issued"] == 0
    db.session.rollback()
    assert client.get("/api/reports/reconciliation").get_json()["total"] == 0
    pending = select(func.count(ActivationLink.id)).where(
        ActivationLink.status == "pending", ActivationLink.expires_at > utcnow()
    )
    assert db.session.scalar(pending) == len(expected)
    activation_mails = select(func.count(OutboxEmail.id)).where(OutboxEmail.kind == "activation")
    assert db.session.scalar(activation_mails) == len(expected) + 1  # + the webhook's own
    assert reconciliation.count_gaps() == 0
