"""The buyer's path: e-mailed link → form → account → /conta."""

import re
import threading
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import Access, ActivationLink, User
from app.models.types import utcnow
from tests.conftest import csrf_token, post_password_form

PASSWORD = "senha-nova-123"


def link_path(smtp_server, index=-1) -> str:
    text = smtp_server.text_of(smtp_server.messages[index])
    url = re.search(r"http://localhost(/ativar/[A-Za-z0-9_-]+)", text)
    assert url, text
    return url.group(1)


def submit(client, path, name="Maria Souza", password=PASSWORD, confirm=None):
    return post_password_form(client, path, name, password, confirm)


def test_email_link_get_then_post_creates_member_and_logs_in(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    client = send_webhook.client
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="maria@example.com" readonly' in html
    assert "Curso Exemplo" in html
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "pending" and link.open_count == 1 and link.opened_at is not None
    response = submit(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/conta")
    user = db.session.scalar(select(User))
    assert (user.email, user.name, user.role) == ("maria@example.com", "Maria Souza", "member")
    account = client.get("/conta").get_data(as_text=True)
    assert "Curso Exemplo" in account and "Ativo" in account and "R$" in account
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "used" and link.user_id == user.id


def test_get_alone_never_consumes(send_webhook, smtp_server):
    send_webhook("kiwify", "order_approved")
    path = link_path(smtp_server)
    for _ in range(5):
        assert send_webhook.client.get(path).status_code == 200
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "pending" and link.open_count == 5


def test_used_link_shows_login(send_webhook, smtp_server, webhook_app):
    send_webhook("kirvano", "sale_approved")
    path = link_path(smtp_server)
    submit(send_webhook.client, path)
    other = webhook_app.test_client()
    page = other.get(path)
    assert page.status_code == 200 and "já foi usado" in page.get_data(as_text=True)
    assert "/login" in page.get_data(as_text=True)


def test_unknown_token_is_404(send_webhook):
    page = send_webhook.client.get("/ativar/" + "x" * 43)
    assert page.status_code == 404
    assert "não encontrado" in page.get_data(as_text=True)


def test_weak_password_and_mismatch_are_rejected(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    response = submit(send_webhook.client, path, password="curta")
    assert response.status_code == 422 and "8 caracteres" in response.get_data(as_text=True)
    response = submit(send_webhook.client, path, password="maria@example.com")
    assert "igual ao e-mail" in response.get_data(as_text=True)
    response = submit(send_webhook.client, path, confirm="outra-senha-123")
    assert "não conferem" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert db.session.scalar(select(ActivationLink)).status == "pending"


def test_expired_link_is_410_and_resend_sends_a_fresh_one(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    client = send_webhook.client
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        page = client.get(path)
        assert page.status_code == 410
        assert "expirou" in page.get_data(as_text=True)
        token = csrf_token(client, path)
        response = client.post(path + "/reenviar", data={"csrf_token": token})
        assert response.status_code == 200
        assert "Novo link enviado" in response.get_data(as_text=True)
    assert len(smtp_server.messages) == 2
    new_path = link_path(smtp_server)
    assert new_path != path
    assert client.get(path).status_code == 410  # the old one stays dead
    assert "substituído" in client.get(path).get_data(as_text=True)
    assert submit(client, new_path).status_code == 302


def test_cleanup_marks_expired_links(send_webhook, smtp_server, webhook_app):
    send_webhook("hotmart", "purchase_approved")
    runner = webhook_app.test_cli_runner()
    assert "links expirados: 0" in runner.invoke(args=["activation", "cleanup"]).output
    with time_machine.travel(utcnow() + timedelta(days=8)):
        result = runner.invoke(args=["activation", "cleanup"])
    assert "links expirados: 1" in result.output
    assert db.session.scalar(select(ActivationLink)).status == "expired"


def test_refund_revokes_member_access_and_a_later_approval_does_not_restore(
    send_webhook, smtp_server
):
    import copy
    import json

    from tests.conftest import load_fixture

    send_webhook("hotmart", "purchase_approved")
    submit(send_webhook.client, link_path(smtp_server))
    assert db.session.scalar(select(Access)).status == "active"
    send_webhook("hotmart", "purchase_refunded")
    access = db.session.scalar(select(Access))
    assert access.status == "revoked" and access.revoked_reason == "refunded"
    assert "Revogado" in send_webhook.client.get("/conta").get_data(as_text=True)
    later = copy.deepcopy(load_fixture("hotmart", "purchase_approved"))
    later["id"] = "re-approval-0001"
    later["creation_date"] = later["creation_date"] + 10 * 86_400_000
    later["data"]["purchase"]["approved_date"] += 10 * 86_400_000
    response = send_webhook("hotmart", json.loads(json.dumps(later)))
    assert response.get_json() == {"status": "ignored"}
    # Refunds are final (no platform documents a reversal): access stays revoked.
    assert db.session.scalar(select(Access)).status == "revoked"
    assert "Revogado" in send_webhook.client.get("/conta").get_data(as_text=True)


def test_revoked_link_after_refund_cannot_be_resent(send_webhook, smtp_server):
    send_webhook("kiwify", "order_approved")
    path = link_path(smtp_server)
    send_webhook("kiwify", "order_refunded")
    page = send_webhook.client.get(path)
    assert page.status_code == 410
    assert "Reenviar" not in page.get_data(as_text=True)


def test_concurrent_redemption_creates_exactly_one_account(send_webhook, smtp_server, webhook_app):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    clients = [webhook_app.test_client() for _ in range(4)]
    tokens = [csrf_token(c, path) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def post(client, token):
        barrier.wait()
        response = client.post(
            path,
            data={
                "name": "Maria",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "csrf_token": token,
            },
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 1
    assert sorted(statuses).count(302) == 1, statuses
    assert all(s in (200, 302, 422) for s in statuses), statuses


def test_one_account_covers_every_purchase_of_the_email(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("kiwify", "order_approved")  # same buyer e-mail, other platform
    first = link_path(smtp_server, 0)
    second = link_path(smtp_server, 1)
    submit(send_webhook.client, first)
    assert db.session.scalar(select(func.count(Access.id))) == 2
    assert set(db.session.scalars(select(ActivationLink.status))) == {"used"}
    # the buyer (signed in by the first link) opening the second: sent to the account
    reopened = send_webhook.client.get(second)
    assert reopened.status_code == 302 and reopened.headers["Location"].endswith("/conta")


def test_name_with_html_is_escaped_on_pages(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    submit(send_webhook.client, path, name="<img src=x onerror=alert(1)>")
    page = send_webhook.client.get("/conta").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
