"""Syncs, webhooks and signups writing at the same time never lose a record (issue 10).

On SQLite every writer shares one database lock: the three Hotmart syncs started one after the
other from the page, webhooks arriving and buyers signing up meanwhile must all be stored, none
may fail with ``database is locked``. The same tests run on PostgreSQL with ``--postgres``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import Product, Sale, Subscription, User, WebhookEvent
from app.services import activation, sync
from emulator.webhooks import build_event
from tests.clients.conftest import LiveEmulator
from tests.conftest import count_rows, csrf_token
from tests.integrations.test_hotmart_integration import HOTTOK, expected_sales, hotmart_config

PRODUCTS = 40
SALES = 300
SUBSCRIPTIONS = 150
JOIN = 120  # seconds: a generous bound for a hung thread, never a speed assertion


def _count(model, *where) -> int:
    db.session.rollback()  # a fresh snapshot
    return count_rows(model, *where)


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    return start_emulator(
        products=PRODUCTS,
        sales=SALES,
        subscriptions=SUBSCRIPTIONS,
        hotmart_rate_limit=0,
        now=datetime.now(UTC).replace(microsecond=0),
    )


@pytest.fixture
def hm_app(app_factory, emu):
    # small pages: many short write transactions interleaving with each other
    app = app_factory(
        **hotmart_config(emu, HOTMART_PAGE_SIZE=20, HOTMART_PRODUCTS_PAGE_SIZE=3),
        SYNC_PROGRESS_INTERVAL=0.0,
    )
    with app.app_context():
        yield app
        sync.wait_idle(JOIN)


def _in_threads(app, jobs: list) -> list:
    """Run each job in its own thread and app context (like separate workers), all at once."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def runner(index, job):
        with app.app_context():
            try:
                barrier.wait(JOIN)
                results[index] = job()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN)
    assert not any(t.is_alive() for t in threads), "a concurrent job hung"
    assert not errors, errors
    return results


def _run(resource: str, full: bool = False):
    def job():
        run = sync.run_sync("hotmart", resource, full=full)
        return (run.status, run.error, run.created_count, run.failed_count)

    return job


def _webhooks(app, count: int):
    def job():
        client = app.test_client()
        statuses = []
        for i in range(count):
            body, headers, _ = build_event(
                "hotmart",
                "approved",
                secret=HOTTOK,
                transaction=f"HPCONC{i:05d}",
                email=f"comprador{i}@example.com",
            )
            response = client.post("/webhook/hotmart", data=body, headers=headers)
            statuses.append(response.status_code)
        return statuses

    return job


def test_three_hotmart_syncs_and_webhooks_at_once_store_every_record(hm_app, emu):
    expected = sum(expected_sales(emu).values())
    webhooks = 25
    results = _in_threads(
        hm_app,
        [
            _run("products"),
            _run("sales", full=True),
            _run("subscriptions"),
            _webhooks(hm_app, webhooks),
        ],
    )
    products, sales, subscriptions, statuses = results
    assert products == ("succeeded", None, PRODUCTS, 0)
    assert sales == ("succeeded", None, expected, 0)
    assert subscriptions == ("succeeded", None, SUBSCRIPTIONS, 0)
    assert statuses == [200] * webhooks
    assert _count(Product) == PRODUCTS
    assert _count(Subscription) == SUBSCRIPTIONS
    assert _count(Sale, Sale.source == "sync") == expected
    assert _count(Sale, Sale.source == "webhook") == webhooks
    assert _count(WebhookEvent, WebhookEvent.status == "processed") == webhooks


def test_signups_beside_a_sync_all_succeed(hm_app, emu):
    buyers = 6
    tokens = []
    for i in range(buyers):
        sale = Sale(
            platform="hotmart",
            transaction_id=f"HPSIGN{i}",
            status="approved",
            source="webhook",
            buyer_email=f"cadastro{i}@example.com",
            buyer_name="Cadastro",
            product_id="P1",
            product_name="Curso",
        )
        db.session.add(sale)
        db.session.flush()
        tokens.append(activation.issue_for_sale(sale).token)
    db.session.commit()
    expected = sum(expected_sales(emu).values())

    def signup(token):
        def job():
            client = hm_app.test_client()
            path = f"/ativar/{token}"
            response = client.post(
                path,
                data={
                    "name": "Comprador",
                    "password": "senha-nova-123",
                    "password_confirm": "senha-nova-123",
                    "csrf_token": csrf_token(client, path),
                },
            )
            return response.status_code

        return job

    results = _in_threads(hm_app, [_run("sales", full=True), *(signup(t) for t in tokens)])
    assert results[0] == ("succeeded", None, expected, 0)
    assert results[1:] == [302] * buyers
    assert _count(User, User.role == "member") == buyers


def test_the_outbox_sender_beside_a_sync_sends_everything(app_factory, emu, smtp_server):
    from app import events
    from app.models import OutboxEmail
    from app.services import outbox

    app = app_factory(
        **hotmart_config(emu, HOTMART_PAGE_SIZE=20),
        SYNC_PROGRESS_INTERVAL=0.0,
        **smtp_server.config(),
    )
    emails = 12
    with app.app_context():
        for i in range(emails):
            outbox.queue(
                "purchase_added",
                to=f"comprador{i}@example.com",
                subject="Compra adicionada",
                context={"name": "Comprador", "product": "Curso", "login_url": "/login"},
            )
        db.session.info.pop(events.OUTBOX_QUEUED)  # no kick at commit: sent beside the sync
        db.session.commit()
        expected = sum(expected_sales(emu).values())

        def send_one_by_one():
            sent = 0
            for _ in range(emails):
                sent += outbox.send_pending(limit=1)["sent"]
            return sent

        sale_run, sent = _in_threads(app, [_run("sales", full=True), send_one_by_one])
        assert sale_run == ("succeeded", None, expected, 0)
        assert sent == emails
        assert _count(OutboxEmail, OutboxEmail.status == "sent") == emails
        assert len(smtp_server.messages) == emails
        sync.wait_idle(JOIN)
