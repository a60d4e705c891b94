"""Reconciliation (SPEC §11): approved sales whose buyer has no access and no pending link,
classified no_webhook / not_activated, and the bulk "Enviar links" that issues each link once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Access, ActivationLink, AuditEntry, OutboxEmail, Sale, User, WebhookEvent
from app.models.types import utcnow
from app.services import accounts, reconciliation, reconciliation_watch
from tests.conftest import Auth, csrf_token

API = "/api/reports/reconciliation"
SEND = "/api/reports/reconciliation/send-links"


def make_sale(tx: str, *, status="approved", days_ago=1.0, platform="hotmart", **extra) -> Sale:
    now = utcnow()
    sale = Sale(
        platform=platform,
        transaction_id=tx,
        status=status,
        source=extra.pop("source", "sync"),
        buyer_email=extra.pop("buyer_email", f"{tx.lower()}@example.com"),
        buyer_name="Comprador",
        product_id="P1",
        product_name=extra.pop("product_name", "Curso Exemplo"),
        amount_cents=extra.pop("amount_cents", 19700),
        currency="BRL",
        approved_at=now - timedelta(days=days_ago),
        status_at=now - timedelta(days=days_ago),
        **extra,
    )
    db.session.add(sale)
    db.session.flush()
    return sale


def webhook_for(sale: Sale, status="processed") -> None:
    db.session.add(
        WebhookEvent(
            platform=sale.platform,
            dedupe_key=f"PURCHASE_APPROVED:{sale.transaction_id}",
            event_type="PURCHASE_APPROVED",
            kind="grant",
            transaction_id=sale.transaction_id,
            raw_body="{}",
            status=status,
            sale_id=sale.id if status != "failed" else None,
        )
    )


def link_for(sale: Sale, *, status="pending", expires_in_days=5.0) -> ActivationLink:
    link = ActivationLink(
        token_hash=f"{sale.id:064d}",
        sale_id=sale.id,
        buyer_email=sale.buyer_email,
        platform=sale.platform,
        product_name=sale.product_name,
        status=status,
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    db.session.add(link)
    db.session.flush()
    return link


@pytest.fixture
def operator(app, client):
    Auth(app, client).operator()
    return client


@pytest.fixture
def scenario(app):
    """One sale per case; returns the transaction ids expected in the 30-day report."""
    make_sale("NOWEBHOOK1", amount_cents=4990)
    not_activated = make_sale("NOTACT1", source="webhook")
    webhook_for(not_activated)
    expired = make_sale("EXPIRED1", source="webhook", status="complete")
    webhook_for(expired)
    link_for(expired, status="expired", expires_in_days=-1)
    stale_pending = make_sale("STALEPEND1")  # pending but past expiry: no usable link
    link_for(stale_pending, expires_in_days=-0.5)
    failed = make_sale("FAILED1")
    webhook_for(failed, status="failed")

    pending = make_sale("PENDING1", source="webhook")
    webhook_for(pending)
    link_for(pending)
    with_access = make_sale("ACCESS1")
    member = accounts.create_user("access1@example.com", "senha-segura-123", role="member")
    db.session.add(Access(user_id=member.id, sale_id=with_access.id))
    make_sale("REFUND1", status="refunded")
    make_sale("CHARGE1", status="chargeback")
    make_sale("PENDPAY1", status="pending")
    make_sale("TEST1", is_test=True)
    make_sale("OLD1", days_ago=45)
    make_sale("BUMP1", parent_transaction_id="NOWEBHOOK1")
    db.session.commit()
    return {
        "NOWEBHOOK1": "no_webhook",
        "NOTACT1": "not_activated",
        "EXPIRED1": "not_activated",
        "STALEPEND1": "no_webhook",
        "FAILED1": "not_activated",
    }


def test_report_lists_exactly_the_gaps_with_the_spec_shape(operator, scenario):
    response = operator.get(API)
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True
    assert body["total"] == len(scenario) == len(body["items"])
    assert {i["transaction_id"]: i["problem"] for i in body["items"]} == scenario
    item = next(i for i in body["items"] if i["transaction_id"] == "NOWEBHOOK1")
    assert {
        "platform",
        "transaction_id",
        "buyer_email",
        "product_name",
        "amount_cents",
        "approved_at",
        "problem",
    } <= set(item)
    assert item["amount_cents"] == 4990 and isinstance(item["amount_cents"], int)
    assert item["platform"] == "hotmart" and item["buyer_email"] == "nowebhook1@example.com"
    assert item["product_name"] == "Curso Exemplo" and item["approved_at"]
    details = {i["transaction_id"]: i for i in body["items"]}
    assert details["EXPIRED1"]["last_link_status"] == "expired"
    assert details["FAILED1"]["webhook_failed"] is True
    assert details["NOTACT1"]["last_link_status"] is None
    # newest approval first
    dates = [i["approved_at"] for i in body["items"]]
    assert dates == sorted(dates, reverse=True)


def test_window_and_paging(operator, scenario):
    wide = operator.get(API, query_string={"days": 60}).get_json()
    assert "OLD1" in {i["transaction_id"] for i in wide["items"]}
    assert wide["total"] == len(scenario) + 1
    first = operator.get(API, query_string={"limit": 2, "page": 1}).get_json()
    second = operator.get(API, query_string={"limit": 2, "page": 3}).get_json()
    assert first["total"] == second["total"] == len(scenario)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert operator.get(API, query_string={"days": "x"}).status_code == 400
    assert operator.get(API, query_string={"days": 0}).status_code == 400
    assert operator.get(API, query_string={"platform": "nope"}).status_code == 400
    kiwify = operator.get(API, query_string={"platform": "kiwify"}).get_json()
    assert kiwify["total"] == 0 and kiwify["items"] == []


def test_login_and_operator_role_required(app, client, scenario):
    auth = Auth(app, client)
    auth.create()  # setup done: an operator exists
    assert client.get(API).status_code in (302, 401)
    assert client.post(SEND, json={"all": True}).status_code in (302, 400, 401)
    auth.create(email="membro@example.com", role="member", name="Bia")
    assert auth.login(email="membro@example.com").status_code == 302
    assert client.get(API).status_code == 403
    token = csrf_token(client, "/conta")
    response = client.post(SEND, json={"all": True}, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(ActivationLink.id))) == 3  # the scenario's own


def _headers(client) -> dict:
    return {"X-CSRFToken": csrf_token(client, "/relatorios")}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        [],
        {},
        {"all": "yes"},
        {"transaction_ids": "NOWEBHOOK1"},
        {"transaction_ids": []},
        {"transaction_ids": [123]},
        {"transaction_ids": ["  "]},
        {"all": True, "days": "30"},
    ],
)
def test_bad_body_is_400_with_a_message(operator, scenario, body):
    headers = _headers(operator)
    if isinstance(body, str):
        response = operator.post(
            SEND, data=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = operator.post(SEND, json=body, headers=headers)
    assert response.status_code == 400
    error = response.get_json()
    assert error["success"] is False and error["error"]["message"]
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


def test_send_links_by_id_issues_once_and_logs(operator, scenario):
    headers = _headers(operator)
    body = {"transaction_ids": ["NOWEBHOOK1", "PENDING1", "REFUND1", "TEST1", "UNKNOWN"]}
    response = operator.post(SEND, json=body, headers=headers)
    assert response.status_code == 200
    result = response.get_json()
    assert result["success"] is True and result["issued"] == 1
    db.session.rollback()
    sale = db.session.scalar(select(Sale).where(Sale.transaction_id == "NOWEBHOOK1"))
    links = db.session.scalars(select(ActivationLink).where(ActivationLink.sale_id == sale.id))
    assert [link.status for link in links] == ["pending"]
    emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "activation"))
    assert [e.to_email for e in emails] == ["nowebhook1@example.com"]
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "reconciliation.link_sent")
    ).all()
    assert [(e.target_type, e.target_id) for e in entries] == [("sale", str(sale.id))]
    assert entries[0].actor_email == "operador@example.com"
    # the gap is closed: a second request issues nothing
    again = operator.post(SEND, json={"transaction_ids": ["NOWEBHOOK1"]}, headers=headers)
    assert again.get_json()["issued"] == 0
    report = operator.get(API).get_json()
    assert "NOWEBHOOK1" not in {i["transaction_id"] for i in report["items"]}
    assert report["total"] == len(scenario) - 1


def test_send_all_then_nothing_left(operator, scenario):
    headers = _headers(operator)
    response = operator.post(SEND, json={"all": True}, headers=headers)
    assert response.get_json()["issued"] == len(scenario)
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == len(scenario)
    assert operator.get(API).get_json()["total"] == 0
    assert operator.post(SEND, json={"all": True}, headers=headers).get_json()["issued"] == 0
    # refunded, test and pending-payment sales never got a link
    for tx in ("REFUND1", "CHARGE1", "TEST1", "PENDPAY1"):
        sale = db.session.scalar(select(Sale).where(Sale.transaction_id == tx))
        assert (
            db.session.scalar(
                select(func.count(ActivationLink.id)).where(ActivationLink.sale_id == sale.id)
            )
            == 0
        )


def test_existing_member_gets_the_purchase_attached(operator, app):
    sale = make_sale("MEMBER1", buyer_email="bia@example.com")
    accounts.create_user("bia@example.com", "senha-segura-123", role="member", name="Bia")
    db.session.commit()
    result = operator.post(
        SEND, json={"transaction_ids": ["MEMBER1"]}, headers=_headers(operator)
    ).get_json()
    assert result["issued"] == 1 and result["attached"] == 1
    db.session.rollback()
    user = db.session.scalar(select(User).where(User.email == "bia@example.com"))
    access = db.session.scalar(select(Access).where(Access.sale_id == sale.id))
    assert access.user_id == user.id and access.status == "active"
    kinds = list(db.session.scalars(select(OutboxEmail.kind)))
    assert kinds == ["purchase_added"]


def test_two_concurrent_requests_issue_one_link(app_factory):
    app = app_factory()
    with app.app_context():
        make_sale("RACE1")
        db.session.commit()
        clients = [app.test_client() for _ in range(3)]
        for index, c in enumerate(clients):
            auth = Auth(app, c)
            if index == 0:
                auth.create()
            assert auth.login().status_code == 302
        tokens = [csrf_token(c, "/relatorios") for c in clients]
        barrier = threading.Barrier(len(clients))
        results: list = []

        def post(c, token):
            barrier.wait()
            response = c.post(SEND, json={"all": True}, headers={"X-CSRFToken": token})
            results.append((response.status_code, response.get_json()))

        threads = [threading.Thread(target=post, args=p) for p in zip(clients, tokens, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        db.session.rollback()
        assert [status for status, _ in results] == [200] * len(clients)
        assert sum(body["issued"] for _, body in results) == 1
        assert db.session.scalar(select(func.count(ActivationLink.id))) == 1
        assert db.session.scalar(select(func.count(OutboxEmail.id))) == 1
        audit_count = select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "reconciliation.link_sent"
        )
        assert db.session.scalar(audit_count) == 1


def test_service_counts_match_the_list(app, scenario):
    assert reconciliation.count_gaps() == len(scenario)
    assert reconciliation.count_gaps(days=60) == len(scenario) + 1
    gaps, total = reconciliation.page(reconciliation.DEFAULT_DAYS, 1, 50)
    assert total == len(scenario)
    assert {gap.sale.transaction_id: gap.problem for gap in gaps} == scenario


def test_pages_merge_both_approved_statuses_newest_approval_first(app):
    """The page walks one index range per approved status and merges them: every page of
    every size lists the gaps in approval order (ties by id), across statuses, none twice."""
    hours = [5, 1, 30, 2, 2, 70, 9, 0.5, 48, 2]  # three ties at 2 h, across both statuses
    now = utcnow()
    for n, hours_ago in enumerate(hours):
        sale = make_sale(f"MIX{n}", status=("approved", "complete")[n % 3 == 0])
        sale.approved_at = now - timedelta(hours=hours_ago)
    make_sale("MIXREFUND", status="refunded", days_ago=0.1)
    make_sale("MIXOLD", status="complete", days_ago=40)
    db.session.commit()
    expected = [
        sale.transaction_id
        for sale in sorted(
            db.session.scalars(select(Sale).where(Sale.transaction_id.like("MIX_"))),
            key=lambda sale: (sale.approved_at, sale.id),
            reverse=True,
        )
    ]
    assert len(expected) == len(hours)
    for limit in (1, 3, 4, 10):
        walked = []
        for page_no in range(1, len(hours) // limit + 3):
            gaps, total = reconciliation.page(reconciliation.DEFAULT_DAYS, page_no, limit)
            assert total == len(hours)
            walked += [gap.sale.transaction_id for gap in gaps]
        assert walked == expected
    assert reconciliation.gap_ids(limit=4) == [
        db.session.scalar(select(Sale.id).where(Sale.transaction_id == tx)) for tx in expected[:4]
    ]


# ------------------------------------------------------------------------- /relatorios section


def test_reports_page_lists_the_gaps_with_bulk_send_forms(operator, scenario):
    html = operator.get("/relatorios").get_data(as_text=True)
    assert 'id="vendas-sem-acesso"' in html and "Vendas sem acesso" in html
    assert "Enviar links para todos (5)" in html
    assert "nowebhook1@example.com" in html and "Webhook nunca recebido" in html
    assert "link expirou sem uso" in html and "webhook com falha" in html
    assert "refund1@example.com" not in html and "test1@example.com" not in html
    assert html.count('name="csrf_token"') >= 2 and "data-confirm=" in html
    assert "Ver webhooks com falha" in html
    assert " style=" not in html.split('id="vendas-sem-acesso"')[1]


def test_reports_page_bulk_send_all_and_selected(operator, scenario):
    token = csrf_token(operator, "/relatorios")
    response = operator.post(
        "/relatorios/vendas-sem-acesso",
        data={"csrf_token": token, "transaction_ids": ["NOTACT1", "PENDING1"], "dias": "30"},
    )
    assert response.status_code == 302 and "#vendas-sem-acesso" in response.headers["Location"]
    page = operator.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 comprador vai receber o acesso por e-mail (na fila de envio)" in page
    assert "1 venda ignorada" in page
    response = operator.post(
        "/relatorios/vendas-sem-acesso",
        data={"csrf_token": token, "all": "1"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "4 compradores vão receber o acesso por e-mail" in page
    assert "Tudo certo" in page
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 5
    response = operator.post(
        "/relatorios/vendas-sem-acesso", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Selecione ao menos uma venda" in response.get_data(as_text=True)


def test_reports_form_requires_csrf(operator, scenario):
    response = operator.post("/relatorios/vendas-sem-acesso", data={"all": "1"})
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0


# --------------------------------------------------------------- scheduled check and overview


def test_scheduled_check_shows_the_banner_and_finds_new_gaps(operator, scenario):
    from app.services import jobs

    assert "data-reconciliation-gaps" not in operator.get("/").get_data(as_text=True)
    assert jobs.execute(jobs.find("reconciliation_check")) == "ok"
    snap = reconciliation_watch.snapshot()
    assert (snap["count"], snap["new"]) == (5, 5)
    html = operator.get("/").get_data(as_text=True)
    assert "5 compradores pagaram e não receberam acesso" in html
    assert "#vendas-sem-acesso" in html
    make_sale("LATER1")
    db.session.commit()
    assert jobs.execute(jobs.find("reconciliation_check")) == "ok"
    snap = reconciliation_watch.snapshot()
    assert (snap["count"], snap["new"]) == (6, 1)
    assert "1 novo desde a verificação anterior" in operator.get("/").get_data(as_text=True)
    # no SMTP configured: nobody is e-mailed
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 0
    # sending the links clears the banner at once
    operator.post(SEND, json={"all": True}, headers=_headers(operator))
    db.session.rollback()
    assert reconciliation_watch.snapshot()["count"] == 0
    assert "data-reconciliation-gaps" not in operator.get("/").get_data(as_text=True)


def test_scheduled_check_emails_the_operators_when_smtp_is_set(app_factory, smtp_server):
    from app.services import jobs

    app = app_factory(**smtp_server.config())
    with app.app_context():
        accounts.create_user("operador@example.com", "senha-segura-123", name="Ana", role="admin")
        make_sale("ALERT1")
        db.session.commit()
        assert jobs.execute(jobs.find("reconciliation_check")) == "ok"
        mails = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "reconciliation_alert")
        ).all()
        assert [m.to_email for m in mails] == ["operador@example.com"]
        assert "1 novo comprador pagou" in mails[0].subject
        assert "/relatorios#vendas-sem-acesso" in mails[0].body_text
        # the same gap is not news the next time
        assert jobs.execute(jobs.find("reconciliation_check")) == "ok"
        assert (
            db.session.scalar(
                select(func.count(OutboxEmail.id)).where(OutboxEmail.kind == "reconciliation_alert")
            )
            == 1
        )
