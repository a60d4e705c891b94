"""``flask sales backfill-order-dates``: old sales get their order date back from the stored
webhooks (the other products of a purchase from the main transaction's), synced sales are
left for a full sync, and the daily summaries follow each sale to its order day."""

from datetime import UTC, datetime

from sqlalchemy import update

from app.extensions import db
from app.models import Sale
from app.services import order_dates
from tests.conftest import load_fixture
from tests.services.test_summaries import assert_summaries_match


def _forget_order_dates():
    """As rows written before the column existed."""
    db.session.execute(update(Sale).values(ordered_at=None))
    db.session.commit()
    db.session.expire_all()


def test_backfill_from_stored_webhooks(webhook_app, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    kirvano = load_fixture("kirvano", "sale_approved")
    bump = dict(kirvano["products"][0], id="bump-1", name="Bônus", price="R$ 10,00")
    kirvano["products"].append(dict(bump, is_order_bump=True))
    send_webhook("kirvano", kirvano)
    synced = Sale(
        platform="hotmart",
        transaction_id="HP-SYNC-1",
        status="approved",
        source="sync",
        amount_cents=1000,
        approved_at=datetime(2026, 5, 1, 12, tzinfo=UTC),
    )
    db.session.add(synced)
    db.session.commit()
    before = {s.transaction_id: s.ordered_at for s in db.session.query(Sale)}
    webhook_sales = {tx: when for tx, when in before.items() if tx != "HP-SYNC-1"}
    assert webhook_sales and all(webhook_sales.values())
    assert len(webhook_sales) >= 3  # the Kirvano purchase has several products
    _forget_order_dates()

    result = order_dates.backfill(batch=2)  # several batches

    assert result.filled == len(webhook_sales)
    assert result.without_payload == 1
    after = {s.transaction_id: s.ordered_at for s in db.session.query(Sale)}
    assert after == before
    # Hotmart's order_date (ms epoch), not its approval time.
    hotmart = db.session.query(Sale).filter_by(platform="hotmart", source="webhook").one()
    assert hotmart.ordered_at == datetime.fromtimestamp(1763247700, UTC)
    assert hotmart.ordered_at != hotmart.approved_at
    assert_summaries_match()
    # Idempotent: a second run finds nothing new.
    again = order_dates.backfill()
    assert (again.filled, again.without_payload) == (0, 1)


def test_backfill_command(webhook_app, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    _forget_order_dates()
    out = webhook_app.test_cli_runner().invoke(args=["sales", "backfill-order-dates"])
    assert out.exit_code == 0, out.output
    assert "Data do pedido preenchida em 1 venda a partir dos webhooks." in out.output
    assert db.session.query(Sale).one().ordered_at is not None


def test_a_payload_without_order_date_leaves_the_sale_dated_by_approval(webhook_app, send_webhook):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["purchase"].pop("order_date")
    send_webhook("hotmart", body)
    sale = db.session.query(Sale).one()
    assert sale.ordered_at is None
    result = order_dates.backfill()
    assert (result.filled, result.without_payload) == (0, 1)
    assert sale.listed_at == sale.approved_at
