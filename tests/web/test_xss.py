"""XSS through every buyer/product field onto the operator pages, the e-mails and the CSV
export (formula-safe), fed through the real webhook receivers (issue 10)."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.activations.routes import _csv_cell
from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from tests.conftest import Auth, load_fixture

SCRIPT = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg/onload=alert(2)>"
# What a valid e-mail local part may carry (quotes, ampersand, braces, equals, slash).
EMAIL = "o'neil&{x}=y/z@example.com"
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(1)")
RAW_MARKERS = ("<script>alert", "<img src=x", "<svg/onload", "o'neil&{x}")


def _set(body, path, value):
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


HOSTILE = {
    "hotmart": (
        "purchase_approved",
        {
            ("data", "buyer", "name"): SCRIPT,
            ("data", "buyer", "email"): EMAIL,
            ("data", "product", "name"): IMG,
            ("data", "product", "ucode"): SVG,
            ("data", "purchase", "transaction"): "HP" + SVG,
            ("data", "purchase", "offer", "code"): SCRIPT,
            ("data", "purchase", "payment", "type"): IMG,
            ("data", "buyer", "document"): SVG,
        },
    ),
    "kiwify": (
        "order_approved",
        {
            ("Customer", "full_name"): IMG,
            ("Customer", "email"): "kiwi" + EMAIL,
            ("Product", "product_name"): SCRIPT,
            ("Product", "product_id"): SVG,
            ("order_id",): "K" + IMG,
            ("payment_method",): SVG,
            ("Subscription", "plan", "name"): SCRIPT,
        },
    ),
    "kirvano": (
        "sale_approved",
        {
            ("customer", "name"): SVG,
            ("customer", "email"): "kirv" + EMAIL,
            ("products", 0, "name"): SCRIPT,
            ("products", 0, "id"): IMG,
            ("sale_id",): "S" + SCRIPT,
            ("plan", "name"): IMG,
            ("payment", "method"): SCRIPT,
        },
    ),
}


@pytest.fixture
def hostile_sales(send_webhook, webhook_app):
    for platform, (fixture, fields) in HOSTILE.items():
        body = load_fixture(platform, fixture)
        for path, value in fields.items():
            _set(body, path, value)
        response = send_webhook(platform, body)
        assert response.status_code == 200 and response.json["status"] == "accepted", (
            platform,
            response.get_data(as_text=True),
        )
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(ActivationLink.id))) == 3
    return webhook_app


def _assert_escaped(html: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, (where, marker)


def test_operator_pages_escape_every_buyer_and_product_field(hostile_sales):
    client = hostile_sales.test_client()
    Auth(hostile_sales, client).operator()
    sale_ids = db.session.scalars(select(Sale.id)).all()
    event_ids = db.session.scalars(select(WebhookEvent.id)).all()
    pages = ["/", "/vendas", "/ativacoes", "/webhooks", "/relatorios", "/sincronizacoes"]
    pages += [f"/vendas/{i}" for i in sale_ids] + [f"/webhooks/{i}" for i in event_ids]
    pages += ["/vendas?q=%3Cscript%3E", "/ativacoes?q=o%27neil", "/webhooks?q=%3Cimg"]
    seen = ""
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        _assert_escaped(html, path)
        seen += html
    # The values are shown (escaped), not merely absent.
    assert "&lt;script&gt;alert(" in seen
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "o&#39;neil&amp;{x}=y/z@example.com" in seen


def test_member_area_escapes_product_fields(hostile_sales, smtp_server):
    import re

    client = hostile_sales.test_client()
    message = next(m for m in smtp_server.messages if "maria" not in m["To"])
    path = re.search(r"http://localhost(/ativar/[A-Za-z0-9_-]+)", smtp_server.text_of(message))
    page = client.get(path.group(1))
    assert page.status_code == 200
    _assert_escaped(page.get_data(as_text=True), "signup form")


def test_emails_escape_buyer_and_product_fields(hostile_sales, smtp_server):
    db.session.rollback()
    emails = db.session.scalars(select(OutboxEmail)).all()
    assert len(emails) == 3
    for email in emails:
        _assert_escaped(email.body_html, f"e-mail {email.id}")
        assert "\n" not in email.subject and "\r" not in email.subject
    assert len(smtp_server.messages) == 3
    for message in smtp_server.messages:
        _assert_escaped(smtp_server.html_of(message), message["To"])


def test_csv_export_escapes_nothing_but_neutralises_formulas(send_webhook, webhook_app):
    for index, formula in enumerate(FORMULAS):
        body = load_fixture("hotmart", "purchase_approved")
        body["id"] = f"evt-{index}"
        body["data"]["purchase"]["transaction"] = f"HP-F{index}"
        body["data"]["buyer"]["name"] = formula
        body["data"]["product"]["name"] = formula
        body["data"]["buyer"]["email"] = f"buyer{index}@example.com"
        assert send_webhook("hotmart", body).status_code == 200
    body = load_fixture("kiwify", "order_approved")
    body["Customer"]["email"] = "-1+1@example.com"  # a formula as an e-mail local part
    body["Customer"]["full_name"] = SCRIPT
    body["Product"]["product_name"] = IMG
    assert send_webhook("kiwify", body).status_code == 200

    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    response = client.get("/ativacoes/exportar.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == len(FORMULAS) + 1
    for row in rows:
        for column, cell in row.items():
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (column, cell)
    names = {row["nome"] for row in rows}
    assert {"'" + f for f in FORMULAS} <= names
    assert "'-1+1@example.com" in {row["email"] for row in rows}
    assert SCRIPT in names  # a CSV is data, not HTML: kept verbatim, opened as text


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("  =1+1", "'  =1+1"),
        ("Maria", "Maria"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cell_neutralises_formula_starts(value, expected):
    assert _csv_cell(value) == expected


def test_csv_export_of_hostile_json_is_valid(send_webhook, webhook_app):
    body = load_fixture("kirvano", "sale_approved")
    body["customer"]["name"] = 'a;b"c\nd'
    assert send_webhook("kirvano", body).status_code == 200
    client = webhook_app.test_client()
    Auth(webhook_app, client).operator()
    text = client.get("/ativacoes/exportar.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 and rows[0]["nome"].startswith('a;b"c')
    assert json.dumps(rows)  # parseable, one row


def test_later_operator_pages_escape_buyer_and_product_fields(hostile_sales):
    """/clientes, /assinaturas, /acessos, /automacoes, /kommo, /gestao-click, /hotmart and
    /auditoria with markup in the synced rows, the automation outbox and the audit log too."""
    from app.models import AutomationDelivery
    from app.services import audit
    from tests import seeds

    db.session.add_all(
        [
            seeds.hotmart_product(name=SCRIPT, remote_id="4962378"),
            seeds.hotmart_subscription(product_name=IMG, subscriber_code="SUB" + SVG),
            seeds.kommo_contact(name=SCRIPT, email=EMAIL),
            seeds.kommo_lead(name=IMG),
            seeds.gc_sale(cliente_nome=SVG, codigo="PED" + SCRIPT),
            seeds.gc_client(nome=IMG),
            seeds.gc_product(nome=SCRIPT),
            AutomationDelivery(
                target="kommo",
                step="contact_lead",
                dedupe_key="kommo:contact_lead:xss",
                buyer_email=EMAIL,
                payload={"buyer_email": EMAIL, "buyer_name": SCRIPT, "product_name": IMG},
                status="failed",
                last_error=SVG,
            ),
        ]
    )
    db.session.commit()
    client = hostile_sales.test_client()
    Auth(hostile_sales, client).operator()
    audit.record(
        audit.AUTOMATION_RETRIED,
        target_type="automation_delivery",
        target_id=IMG,
        details={"target": SCRIPT, "step": SVG, "count": 1},
    )
    db.session.commit()
    pages = ["/clientes?q=script", f"/clientes/email:{quote(EMAIL)}", "/assinaturas", "/acessos",
             "/automacoes", "/kommo", "/kommo?aba=contatos", "/gestao-click",
             "/gestao-click?aba=clientes", "/gestao-click?aba=produtos", "/hotmart",
             "/auditoria"]  # fmt: skip
    seen = ""
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        _assert_escaped(html, path)
        assert "alert(" in html, f"{path} shows none of the hostile values"  # shown, escaped
        seen += html
    assert "&lt;script&gt;alert(" in seen
    assert "&lt;img src=x onerror=alert(1)&gt;" in seen
    assert "&#39;&gt;&lt;svg/onload=alert(2)&gt;" in seen
