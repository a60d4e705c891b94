"""Issue 10: a queued CRM push whose sale was refunded before it went out is cancelled in the
claiming transaction (``app.services.automation_stale``), never sent: no won lead in Kommo, no
venda in Gestão Click, and the refund step that follows has nothing to undo (cancelled too).
A push that reached the API before the refund is followed by its refund step as before."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import AutomationDelivery, RateBudgetSlot, Sale
from app.models.automation import DELIVERY_CANCELLED, DELIVERY_PENDING, DELIVERY_SENT
from app.models.types import utcnow
from app.services import automation_sender
from app.services.automation_stale import MSG_REFUNDED
from app.services.gestao_click_push import MSG_NO_VENDA
from app.services.kommo_push import MSG_NO_LEAD
from tests.clients.conftest import LiveEmulator, start_emulator  # noqa: F401 - fixture
from tests.conftest import Auth, WebhookSender
from tests.integrations import test_gestao_click_push as gc
from tests.integrations import test_kommo_push as kommo


@pytest.fixture
def kommo_emu(start_emulator) -> LiveEmulator:  # noqa: F811
    return start_emulator(contacts=5, leads=5, kommo_rate_limit=0)


@pytest.fixture
def gc_emu(start_emulator) -> LiveEmulator:  # noqa: F811
    gc.usage_counter.reset()
    return start_emulator(gc_sales=5, gc_clients=5, gc_products=10, gc_rate_limit=0)


def _all_due() -> None:
    """The deferred rows and the account's paused budget: due now (instead of waiting)."""
    db.session.execute(update(AutomationDelivery).values(next_attempt_at=utcnow()))
    db.session.execute(update(RateBudgetSlot).values(paused_until=0, next_slot=0))
    db.session.commit()


def test_a_won_lead_queued_before_a_refund_is_never_sent_to_kommo(app_factory, kommo_emu):
    app = app_factory(**kommo.push_config(kommo_emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        # Kommo answers 429 to the lead: the won step waits in the outbox, nothing made yet.
        kommo_emu.fault(
            api="kommo", path="/api/v4/leads/complex", method="POST", status=429, count=1
        )
        body = kommo.approved(email="ana.stale@example.com")
        assert hook("hotmart", body).status_code == 200
        [won] = kommo.deliveries()
        assert won.status == DELIVERY_PENDING and won.remote_lead_id is None
        refused = kommo.writes(kommo_emu)  # the 429 answered to the lead, nothing made
        tx = body["data"]["purchase"]["transaction"]
        assert hook("hotmart", kommo.refunded(tx, "ana.stale@example.com")).status_code == 200
        _all_due()
        counts = automation_sender.send_pending()
        won, lost = kommo.deliveries()
        assert (won.step, won.status, won.last_error) == (
            "contact_lead",
            DELIVERY_CANCELLED,
            MSG_REFUNDED,
        )
        assert (lost.step, lost.status, lost.last_error) == (
            "lost",
            DELIVERY_CANCELLED,
            MSG_NO_LEAD,
        )
        assert counts["cancelled"] == 2 and counts["sent"] == 0
        # Kommo never heard of the sale: no contact, no lead, no note.
        assert kommo.contacts_of(kommo_emu, "ana.stale@example.com") == []
        assert kommo.writes(kommo_emu) == refused
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Venda reembolsada antes do envio" in page


def test_a_won_lead_sent_before_the_refund_is_moved_to_lost(app_factory, kommo_emu):
    app = app_factory(**kommo.push_config(kommo_emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        body = kommo.approved(email="rui.stale@example.com")
        assert hook("hotmart", body).status_code == 200
        tx = body["data"]["purchase"]["transaction"]
        assert hook("hotmart", kommo.refunded(tx, "rui.stale@example.com")).status_code == 200
        won, lost = kommo.deliveries()
        assert (won.status, lost.status) == (DELIVERY_SENT, DELIVERY_SENT)
        lead = kommo.kommo_get(kommo_emu, f"/leads/{won.remote_lead_id}")
        assert lead["status_id"] == 143  # the CRM shows the sale, lost


def test_a_venda_queued_before_a_refund_is_never_sent_to_gestao_click(app_factory, gc_emu):
    app = app_factory(**gc.push_config(gc_emu, GESTAOCLICK_REFUND_SITUACAO_ID="3153"))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        gc_emu.fault(api="gestaoclick", path="/clientes", method="POST", status=429, count=1)
        body = gc.approved(email="gil.stale@example.com")
        assert hook("hotmart", body).status_code == 200
        [venda] = gc.deliveries()
        assert venda.status == DELIVERY_PENDING and venda.remote_lead_id is None
        refused = gc.writes(gc_emu)  # the 429 answered to the cliente, nothing made
        tx = body["data"]["purchase"]["transaction"]
        assert hook("hotmart", gc.refunded(tx, "gil.stale@example.com")).status_code == 200
        _all_due()
        automation_sender.send_pending()
        venda, refund = gc.deliveries()
        assert (venda.step, venda.status, venda.last_error) == (
            "gc_venda",
            DELIVERY_CANCELLED,
            MSG_REFUNDED,
        )
        assert (refund.step, refund.status, refund.last_error) == (
            "gc_refund",
            DELIVERY_CANCELLED,
            MSG_NO_VENDA,
        )
        assert gc.clientes_of(gc_emu, "gil.stale@example.com") == []
        assert gc.writes(gc_emu) == refused


def test_a_lead_made_by_a_timed_out_try_is_moved_to_lost_not_left_won(app_factory, kommo_emu):
    """The first try's leads/complex is applied by Kommo but its answer times out; the sale is
    refunded before the retry. The retry may not be cancelled as "nothing was sent": it finds
    the lead, and the refund step moves it to lost."""
    from flask import current_app

    app = app_factory(**kommo.push_config(kommo_emu))
    with app.app_context():
        current_app.config["KOMMO_TIMEOUT"] = "2"
        current_app.extensions.pop("vendas_settings_cache", None)
        hook = WebhookSender(app.test_client())
        kommo_emu.fault(
            api="kommo", path="/api/v4/leads/complex", method="POST", latency_ms=2500, count=1
        )
        body = kommo.approved(email="teo.stale@example.com")
        assert hook("hotmart", body).status_code == 200
        [won] = kommo.deliveries()
        assert won.status == DELIVERY_PENDING and won.attempts == 1
        kommo.wait_for(lambda: len(kommo.contacts_of(kommo_emu, "teo.stale@example.com")) == 1)
        tx = body["data"]["purchase"]["transaction"]
        assert hook("hotmart", kommo.refunded(tx, "teo.stale@example.com")).status_code == 200
        _all_due()
        automation_sender.send_pending()
        _all_due()
        automation_sender.send_pending()
        won, lost = kommo.deliveries()
        assert (won.status, lost.status) == (DELIVERY_SENT, DELIVERY_SENT)
        lead = kommo.kommo_get(kommo_emu, f"/leads/{won.remote_lead_id}")
        assert lead["status_id"] == 143  # lost, as the refund says: not won


def test_a_subscription_cancelled_after_its_paid_charge_still_sends_the_won_lead(
    app_factory, kommo_emu
):
    app = app_factory(**kommo.push_config(kommo_emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        kommo_emu.fault(
            api="kommo", path="/api/v4/leads/complex", method="POST", status=429, count=1
        )
        body = kommo.approved(email="ivo.stale@example.com")
        assert hook("hotmart", body).status_code == 200
        [won] = kommo.deliveries()
        db.session.execute(
            update(Sale).where(Sale.id == won.sale_id).values(status="canceled")
        )  # the charge was paid; the subscription ends later
        db.session.commit()
        _all_due()
        automation_sender.send_pending()
        won = kommo.deliveries()[0]
        assert won.status == DELIVERY_SENT and won.remote_lead_id is not None


def test_a_broken_stale_check_does_not_hold_the_queue(app_factory, kommo_emu, monkeypatch):
    from app.services import automation_stale

    def broken(_d):
        raise RuntimeError("check failed")

    monkeypatch.setitem(automation_stale.CHECKS, "kommo", broken)
    app = app_factory(**kommo.push_config(kommo_emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        for n in range(2):
            assert hook("hotmart", kommo.approved(email=f"q{n}.stale@example.com")).status_code
        rows = kommo.deliveries()
        assert len(rows) == 2 and all(r.status == DELIVERY_SENT for r in rows)
