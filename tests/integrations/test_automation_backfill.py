"""Backfill: the sales made before the push was on, sent to Kommo and Gestão Click.

The dry run on /automacoes and ``flask automations backfill --dry-run`` count (N to send, M
already there) and write nothing; confirming queues each sale and step once — a second run, a
live push of the same sale, the CLI after the page: never a second row, contact, lead, cliente
or venda; test, refunded and out-of-period sales stay out; rows queued in bulk are spread
under the rate budgets and delivered by the outbox against the emulator over HTTP.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AuditEntry, AutomationBackfill, AutomationDelivery, Sale
from app.models.automation import DELIVERY_SENT
from app.models.types import utcnow
from app.services import automation_backfill as backfill
from app.services import automation_sender, sync
from app.services import settings as settings_service
from tests.conftest import Auth, WebhookSender, csrf_token
from tests.integrations import test_gestao_click_push as gc
from tests.integrations import test_kommo_push as kp

API = kp.API


@pytest.fixture
def emu(start_emulator):
    gc.usage_counter.reset()
    return start_emulator(
        contacts=10, leads=10, kommo_rate_limit=0, gc_sales=5, gc_clients=5, gc_rate_limit=0
    )


def both_config(emu, **overrides) -> dict:
    config = {**kp.push_config(emu), **gc.push_config(emu)}
    config.update(KOMMO_PUSH_SALES="false", GESTAOCLICK_PUSH_SALES="false")
    config.update(overrides)
    return config


def switch_on(*keys: str) -> None:
    for key in keys:
        settings_service.set_value(key, "true")
    db.session.commit()


def sales_before_the_switch(app, n: int = 3) -> list[Sale]:
    """``n`` approved sales, a refunded one and a test one, made with every push off."""
    hook = WebhookSender(app.test_client())
    for i in range(n):
        body = kp.approved(
            email=f"old{i}.push@example.com",
            checkout_phone=f"9{i}1112222",
            document=f"2223334440{i}",  # buyers of their own (one CPF is one buyer)
        )
        assert hook("hotmart", body).status_code == 200
    gone = kp.approved(email="gone.push@example.com")
    hook("hotmart", gone)
    hook("hotmart", kp.refunded(gone["data"]["purchase"]["transaction"], "gone.push@example.com"))
    test = kp.approved(email="teste.push@example.com")
    hook("hotmart", test)
    db.session.execute(
        update(Sale).where(Sale.buyer_email == "teste.push@example.com").values(is_test=True)
    )
    recent()
    assert kp.deliveries() == []
    return list(db.session.scalars(select(Sale).order_by(Sale.id)))


def recent() -> None:
    """The fixture's order dates are years old: the sales are from yesterday here."""
    yesterday = utcnow() - timedelta(days=1)
    db.session.execute(update(Sale).values(ordered_at=yesterday, approved_at=yesterday))
    db.session.commit()


def kommo_leads(emu) -> dict:
    return emu.app.extensions["kommo_store"].leads


def test_page_counts_first_then_queues_each_sale_once(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app)
        switch_on("KOMMO_PUSH_SALES")
        # one sale after the switch: pushed live, so "already there" for the backfill
        live = WebhookSender(app.test_client())(
            "hotmart", kp.approved(email="live@example.com", checkout_phone="977776666")
        )
        assert live.status_code == 200 and len(kp.deliveries(status=DELIVERY_SENT)) == 1
        recent()
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "Enviar vendas anteriores" in page and 'name="periodo"' in page
        assert 'value="kommo"' in page and 'value="gestao_click"' not in page  # GC is off

        preview = client.get("/automacoes/vendas-anteriores?periodo=30&destino=kommo")
        text = preview.get_data(as_text=True)
        assert preview.status_code == 200
        assert "3 vendas serão enviadas ao Kommo; 1 já está lá (ou na fila)." in text
        assert len(kp.deliveries()) == 1 and len(kommo_leads(emu)) == 1  # the dry run wrote nothing

        token = csrf_token(client, "/automacoes")
        assert (
            client.post("/automacoes/vendas-anteriores", data={"periodo": "30"}).status_code == 400
        )
        resp = client.post(
            "/automacoes/vendas-anteriores",
            data={"csrf_token": token, "periodo": "30", "destino": "kommo"},
            follow_redirects=True,
        )
        assert "O envio das vendas anteriores começou" in resp.get_data(as_text=True)
        assert sync.wait_idle(60)  # queued in the background pool, off the request
        page = client.get("/automacoes").get_data(as_text=True)
        assert "— 3 vendas enviadas: 3 para o Kommo." in page and "alert-success" in page
        rows = kp.deliveries()
        assert len(rows) == 4 and all(r.status == DELIVERY_SENT for r in rows), [
            r.last_error for r in rows
        ]
        assert {r.buyer_email for r in rows} == {
            "live@example.com",
            "old0.push@example.com",
            "old1.push@example.com",
            "old2.push@example.com",
        }
        assert len(kommo_leads(emu)) == 4
        for i in range(3):
            assert len(kp.contacts_of(emu, f"old{i}.push@example.com")) == 1

        # again: nothing to send, nothing written
        again = client.get("/automacoes/vendas-anteriores?periodo=tudo&destino=kommo")
        assert "Nenhuma venda a enviar ao Kommo; 4 já estão lá (ou na fila)." in again.get_data(
            as_text=True
        )
        resp = client.post(
            "/automacoes/vendas-anteriores",
            data={"csrf_token": token, "periodo": "tudo", "destino": "kommo"},
            follow_redirects=True,
        )
        assert sync.wait_idle(60)
        page = client.get("/automacoes").get_data(as_text=True)
        assert "nenhuma venda a enviar — todas já estavam lá." in page
        assert len(kp.deliveries()) == 4 and len(kommo_leads(emu)) == 4
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "automation.backfill")
        ).first()
        assert entry is not None and entry.actor_email == "operador@example.com"


def test_bad_choices_are_a_readable_400(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        resp = client.get("/automacoes/vendas-anteriores?periodo=7&destino=kommo")
        assert resp.status_code == 400 and "Escolha um período" in resp.get_data(as_text=True)
        resp = client.get("/automacoes/vendas-anteriores?periodo=30&destino=kommo")
        assert resp.status_code == 400
        page = resp.get_data(as_text=True)
        assert "está desligado: ligue-o" in page and "KOMMO_PUSH_SALES" not in page
        resp = client.get("/automacoes/vendas-anteriores?periodo=30")
        assert resp.status_code == 400 and "Escolha para onde enviar" in resp.get_data(as_text=True)
        token = csrf_token(client, "/automacoes")
        resp = client.post(
            "/automacoes/vendas-anteriores",
            data={"csrf_token": token, "periodo": "30", "destino": "kommo"},
            follow_redirects=True,
        )
        assert "está desligado" in resp.get_data(as_text=True) and kp.deliveries() == []
        anonymous = app.test_client()
        assert anonymous.get("/automacoes/vendas-anteriores?periodo=30").status_code == 302


def test_the_period_leaves_older_sales_out(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales = [
            s for s in sales_before_the_switch(app) if s.status == "approved" and not s.is_test
        ]
        old = sales[0]
        long_ago = utcnow() - timedelta(days=100)
        db.session.execute(
            update(Sale).where(Sale.id == old.id).values(ordered_at=long_ago, approved_at=long_ago)
        )
        db.session.commit()
        switch_on("KOMMO_PUSH_SALES")
        [p90] = backfill.plan(backfill.since_of("90"), ("kommo",))
        [every] = backfill.plan(backfill.since_of("tudo"), ("kommo",))
        assert (p90.to_send, every.to_send) == (2, 3)
        assert backfill.queue(backfill.since_of("90"), ("kommo",)) == {"kommo": 2}
        assert old.id not in {r.sale_id for r in kp.deliveries()}
        assert backfill.queue(None, ("kommo",)) == {"kommo": 1}  # then the older one, once
        assert len({r.sale_id for r in kp.deliveries()}) == 3 == len(kp.deliveries())


def test_cli_dry_run_then_gestao_click_only(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app, n=2)
        run = app.test_cli_runner().invoke
        off = run(args=["automations", "backfill", "--since", "2020-01-01", "--gestao-click"])
        assert off.exit_code != 0 and "GESTAOCLICK_PUSH_SALES" in off.output
        switch_on("KOMMO_PUSH_SALES", "GESTAOCLICK_PUSH_SALES")
        bad = run(args=["automations", "backfill", "--since", "31/01/2026"])
        assert bad.exit_code != 0 and "Data inválida em --since" in bad.output
        neither = run(args=["automations", "backfill"])
        assert neither.exit_code != 0 and "--since AAAA-MM-DD ou --all" in neither.output

        dry = run(args=["automations", "backfill", "--since", "2020-01-01", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "2 vendas serão enviadas ao Kommo." in dry.output
        assert "2 vendas serão enviadas ao Gestão Click." in dry.output
        assert "Simulação" in dry.output and kp.deliveries() == []

        result = run(args=["automations", "backfill", "--all", "--gestao-click"])
        assert result.exit_code == 0, result.output
        assert "Gestão Click: 2 vendas colocadas na fila." in result.output
        rows = kp.deliveries()
        assert {(r.target, r.step, r.status) for r in rows} == {
            ("gestao_click", "gc_venda", DELIVERY_SENT)
        }
        for row in rows:
            venda = gc.gc_get(emu, f"/vendas/{row.remote_lead_id}")["data"]
            assert venda["valor_total"] == "197.00"
        assert gc.writes(emu).get(gc.CREATE_VENDA) == 2
        # the page's backfill after the CLI's: Kommo still to do, Gestão Click done
        plans = {p.target: p for p in backfill.plan(None, ("kommo", "gestao_click"))}
        assert (plans["kommo"].to_send, plans["gestao_click"].to_send) == (2, 0)
        assert plans["gestao_click"].already == 2


def test_rows_queued_in_bulk_are_spread_under_the_rate_budget(app_factory, emu):
    app = app_factory(
        **both_config(emu, KOMMO_THROTTLE_PER_SECOND="5", GESTAOCLICK_THROTTLE_PER_SECOND="2")
    )
    with app.app_context():
        sales_before_the_switch(app, n=3)
        switch_on("KOMMO_PUSH_SALES", "GESTAOCLICK_PUSH_SALES")
        # Kommo: 4 requests a sale at half of 5/s; Gestão Click: its 30,000 a day bind first
        assert backfill.spacing("kommo") == pytest.approx(1.6)
        assert backfill.spacing("gestao_click") == pytest.approx(6 * 86_400 / 15_000)
        app.config["AUTOMATIONS_IN_BACKGROUND"] = True  # queued, not sent, for the dates below
        from app.services import automation_sender

        automation_sender.kick.queued_runs.add(id(app))  # the kick finds a run already queued
        try:
            assert backfill.queue(None, ("gestao_click",)) == {"gestao_click": 3}
        finally:
            automation_sender.kick.queued_runs.discard(id(app))
        due = [r.next_attempt_at for r in kp.deliveries()]
        gaps = [(b - a).total_seconds() for a, b in zip(due, due[1:], strict=False)]
        assert gaps == [pytest.approx(34.56, abs=0.01)] * 2
        [plan] = backfill.plan(None, ("gestao_click",))
        assert plan.to_send == 0 and plan.already == 3
        assert db.session.scalar(select(func.count()).select_from(AutomationDelivery)) == 3


def test_two_senders_of_backfilled_sales_of_one_cpf_make_one_cliente(app_factory, emu):
    """Backfilled rows carry the buyer's document like live ones (``buyer_columns``), so the
    Gestão Click sender's one-document-at-a-time lookup sees them: two buyers of one CPF
    (two e-mails), sent by two senders at once, still make one cliente."""
    app = app_factory(**both_config(emu))
    with app.app_context():
        hook = WebhookSender(app.test_client())
        for n in range(3):  # one CPF (the fixture's), three e-mails
            assert hook("hotmart", gc.approved(email=f"cpf{n}.old@example.com")).status_code == 200
        recent()
        switch_on("GESTAOCLICK_PUSH_SALES")
        app.config["AUTOMATIONS_IN_BACKGROUND"] = True  # queued here, sent by the threads
        automation_sender.kick.queued_runs.add(id(app))  # the kick finds a run already queued
        try:
            assert backfill.queue(None, ("gestao_click",)) == {"gestao_click": 3}
        finally:
            automation_sender.kick.queued_runs.discard(id(app))
        rows = kp.deliveries()
        assert {r.buyer_document for r in rows} == {"00000000191"}
        assert {r.buyer_email for r in rows} == {f"cpf{n}.old@example.com" for n in range(3)}

    def run():
        with app.app_context():
            try:
                automation_sender.send_pending()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # generous: a loaded machine is slow, a finished thread returns at once
    with app.app_context():
        for _ in range(3):  # a row that waited for the other's cliente goes on the next run
            gc.due_now()
            automation_sender.send_pending()
        rows = kp.deliveries()
        assert {r.status for r in rows} == {DELIVERY_SENT}, [r.last_error for r in rows]
        assert len({r.remote_contact_id for r in rows}) == 1
        assert gc.writes(emu).get(gc.CREATE_CLIENTE) == 1
        assert gc.writes(emu).get(gc.CREATE_VENDA) == 3


# ------------------------------------------------------------------------------ in the background


def confirm(client, period="tudo", target="kommo"):
    token = csrf_token(client, "/automacoes")
    return client.post(
        "/automacoes/vendas-anteriores",
        data={"csrf_token": token, "periodo": period, "destino": target},
        follow_redirects=True,
    )


@contextmanager
def pool_busy():
    """Every thread of the background pool taken (by long syncs, say) until the block ends."""
    from app.services.sync import pool

    gate = threading.Event()
    executor = pool._pool(pool.DEFAULT_WORKERS)
    futures = [executor.submit(gate.wait, 60) for _ in range(executor._max_workers)]
    try:
        yield
    finally:
        gate.set()
        for f in futures:
            f.result(60)


def test_the_queueing_runs_off_the_request_and_the_page_follows_it(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app)
        switch_on("KOMMO_PUSH_SALES")
        client = app.test_client()
        Auth(app, client).operator()
        with pool_busy():
            resp = confirm(client)
            assert resp.status_code == 200
            assert "O envio das vendas anteriores começou" in resp.get_data(as_text=True)
            assert kp.deliveries() == []  # the request queued nothing itself
            [run] = db.session.scalars(select(AutomationBackfill)).all()
            assert (run.status, run.active, run.target_list) == ("queued", "active", ("kommo",))
            page = client.get("/automacoes").get_data(as_text=True)
            assert "O envio das vendas anteriores (todas as vendas) vai começar" in page
            # a second click while it waits starts nothing more
            again = confirm(client).get_data(as_text=True)
            assert "já está em andamento (0 vendas na fila até agora)" in again
            assert db.session.scalar(select(func.count()).select_from(AutomationBackfill)) == 1
        assert sync.wait_idle(60)
        db.session.expire_all()
        run = db.session.get(AutomationBackfill, run.id)
        assert (run.status, run.active, run.counts) == ("done", None, {"kommo": 3})
        assert run.started_at is not None and run.finished_at is not None
        assert len(kp.deliveries(status=DELIVERY_SENT)) == 3
        page = client.get("/automacoes").get_data(as_text=True)
        assert "— 3 vendas enviadas: 3 para o Kommo." in page and "alert-success" in page
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "automation.backfill")
        ).one()
        assert entry.actor_email == "operador@example.com"
        assert entry.details["counts"] == {"kommo": 3}


def test_a_running_backfill_shows_its_count_and_a_second_click_waits_for_it(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app)
        switch_on("KOMMO_PUSH_SALES", "GESTAOCLICK_PUSH_SALES")
        going = AutomationBackfill(  # another process's, half way
            status="running",
            active="active",
            targets="kommo,gestao_click",
            counts={"kommo": 1500, "gestao_click": 500},
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        db.session.add(going)
        db.session.commit()
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert (
            # no rows of its own here: at least the largest target's count of sales
            "Enviando as vendas anteriores (todas as vendas): 1.500 vendas entraram na fila "
            "até agora — 1.500 para o Kommo e 500 para o Gestão Click."
        ) in page
        text = confirm(client).get_data(as_text=True)
        assert "já está em andamento (2.000 vendas na fila até agora)" in text
        assert sync.wait_idle(60)
        assert db.session.scalar(select(func.count()).select_from(AutomationBackfill)) == 1
        assert kp.deliveries() == []

        # its process died: no heartbeat for longer than STALE_AFTER → the next click runs
        long_ago = utcnow() - backfill.STALE_AFTER - timedelta(minutes=1)
        db.session.execute(update(AutomationBackfill).values(heartbeat_at=long_ago))
        db.session.commit()
        assert "começou" in confirm(client).get_data(as_text=True)
        assert sync.wait_idle(60)
        db.session.expire_all()
        old, new = db.session.scalars(select(AutomationBackfill).order_by("id")).all()
        assert (old.status, old.active) == ("failed", None) and "interrompido" in old.error
        assert (new.status, new.counts) == ("done", {"kommo": 3})
        page = client.get("/automacoes").get_data(as_text=True)
        assert "— 3 vendas enviadas: 3 para o Kommo." in page and "alert-success" in page


def test_a_backfill_whose_target_was_switched_off_meanwhile_fails_readably(app_factory, emu):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app, n=1)
        run = AutomationBackfill(status="queued", active="active", targets="kommo", counts={})
        db.session.add(run)
        db.session.commit()
        backfill.execute(run.id)  # the pool's call; the switch is off
        db.session.expire_all()
        run = db.session.get(AutomationBackfill, run.id)
        assert (run.status, run.active) == ("failed", None)
        assert "está desligado" in run.error and kp.deliveries() == []
        level, text = backfill.status_text(run)
        assert level == "warning" and "parou: O envio de vendas ao Kommo está desligado" in text
        assert "Nenhuma venda tinha entrado na fila; confirme de novo" in text
        backfill.execute(run.id)  # not queued any more: nothing happens
        assert kp.deliveries() == []


def test_a_backfill_whose_process_died_is_said_so_and_released_by_the_scheduler(app_factory, emu):
    from app.services import jobs

    app = app_factory(**both_config(emu))
    with app.app_context():
        long_ago = utcnow() - backfill.STALE_AFTER - timedelta(minutes=1)
        dead = AutomationBackfill(  # a deploy restarted the server half way
            status="running",
            active="active",
            targets="kommo",
            counts={"kommo": 40},
            started_at=long_ago,
            heartbeat_at=long_ago,
        )
        db.session.add(dead)
        db.session.commit()
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/automacoes").get_data(as_text=True)
        assert "parece ter parado" in page and "40 vendas entraram na fila até agora" in page
        assert "Atualize a página para acompanhar" not in page

        assert jobs._stale_runs().endswith("envios de vendas anteriores: 1")
        db.session.expire_all()
        dead = db.session.get(AutomationBackfill, dead.id)
        assert (dead.status, dead.active) == ("failed", None) and "interrompido" in dead.error


def test_an_unexpected_error_shows_a_sentence_not_the_exception(app_factory, emu, monkeypatch):
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app, n=1)
        switch_on("KOMMO_PUSH_SALES")
        run = AutomationBackfill(status="queued", active="active", targets="kommo", counts={})
        db.session.add(run)
        db.session.commit()

        def broken(*args, **kwargs):
            raise RuntimeError("INSERT INTO automation_deliveries … buyer@example.com")

        monkeypatch.setattr(backfill, "queue", broken)
        backfill.execute(run.id)
        db.session.expire_all()
        run = db.session.get(AutomationBackfill, run.id)
        assert (run.status, run.active, run.error) == ("failed", None, backfill.UNEXPECTED_ERROR)
        level, text = backfill.status_text(run)
        assert level == "warning" and "registro do servidor" in text
        assert "INSERT" not in text and "buyer@example.com" not in text


def test_the_status_counts_sales_once_and_is_green_only_once_they_went_out(app_factory, emu):
    """Two sales to two places are two sales; blue while they leave, green once sent."""
    app = app_factory(**both_config(emu))
    with app.app_context():
        sales_before_the_switch(app, n=2)
        switch_on("KOMMO_PUSH_SALES", "GESTAOCLICK_PUSH_SALES")
        run = AutomationBackfill(
            status="running", active="active", targets="kommo,gestao_click", started_at=utcnow()
        )
        db.session.add(run)
        db.session.commit()
        app.config["AUTOMATIONS_IN_BACKGROUND"] = True  # queued, not sent yet
        automation_sender.kick.queued_runs.add(id(app))
        try:
            counts = backfill.queue(None, ("kommo", "gestao_click"))
        finally:
            automation_sender.kick.queued_runs.discard(id(app))
        assert counts == {"kommo": 2, "gestao_click": 2}
        run.status, run.active, run.counts, run.finished_at = "done", None, counts, utcnow()
        db.session.commit()
        level, text = backfill.status_text(run)
        assert (level, text) == (
            "info",
            "Vendas anteriores (todas as vendas) — 2 vendas entraram na fila: 2 para o Kommo e "
            "2 para o Gestão Click. Acompanhe em Envios, abaixo.",
        )
        db.session.execute(update(AutomationDelivery).values(status=DELIVERY_SENT))
        db.session.commit()
        level, text = backfill.status_text(run)
        assert level == "success"
        assert text.endswith("— 2 vendas enviadas: 2 para o Kommo e 2 para o Gestão Click.")
