"""No English on any page, and no raw codes in the main text (issue #17, "Plain Portuguese").

Every GET page of the app's url_map is rendered with realistic data (webhooks of every
platform through the real endpoints, synced Hotmart/Kommo/Gestão Click records, a sync run
with failures, a buyer who signed up through the activation link) as the operator, as the
buyer (/conta) and anonymously (login, set-up, sign-up, password reset, the error pages and
the forms' validation messages). A new page is scanned automatically; a new page that needs
an id must be added to ``PARAMETERS`` (the test says so).

Each page's visible text (tests/plain_text.py) must hold no common English interface word and
no plural in parentheses ("venda(s)");
event codes (PURCHASE_APPROVED, order_approved) and server variable names (KOMMO_PUSH_SALES)
may only appear inside a "Detalhes técnicos" disclosure.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.inbox.guides import GUIDES
from app.models import (
    AccessItem,
    AccessRule,
    ActivationLink,
    AuditEntry,
    AutomationDelivery,
    GcClient,
    IntegrationCheck,
    OutboxEmail,
    Product,
    Sale,
    SyncRun,
    WebhookEvent,
    WebhookRejection,
)
from app.models.sync import SyncFailure
from app.models.types import utcnow
from app.registry import INTEGRATIONS
from app.services import audit
from app.services import settings as settings_service
from tests import seeds
from tests.conftest import WEBHOOK_SECRETS, Auth, WebhookSender, csrf_token, post_password_form
from tests.plain_text import english, parenthesised_plurals, raw_codes, visible

PASSWORD = "senha-nova-123"
BUYER_EMAIL = seeds.BUYER_EMAIL

# Endpoints that are not pages a person reads.
SKIPPED_BLUEPRINTS = {"api", "webhooks", "health", "cli"}
SKIPPED_ENDPOINTS = {"static"}
# Pages that answer a query (a bare GET is a 400 explaining what is missing): scanned with
# the queries below, both the refused one and the answered ones.
QUERY_PAGES = {
    "automations.backfill_preview": [
        "/automacoes/vendas-anteriores",
        "/automacoes/vendas-anteriores?periodo=30&destino=kommo",
        "/automacoes/vendas-anteriores?periodo=tudo&destino=kommo&destino=gestao_click",
    ],
}
# Seen anonymously (tokens from the seeded e-mails), not as the operator.
ANONYMOUS_ENDPOINTS = {"signup.activate", "auth.reset_password", "team.accept"}

WEBHOOKS = [
    ("hotmart", "purchase_approved"),
    ("hotmart", "purchase_approved_order_bump"),
    ("hotmart", "purchase_billet_printed"),
    ("hotmart", "purchase_out_of_shopping_cart"),
    ("hotmart", "subscription_cancellation"),
    ("hotmart", "unknown_event"),
    ("kiwify", "order_approved"),
    ("kiwify", "pix_created"),
    ("kiwify", "order_rejected"),
    ("kiwify", "abandoned_cart"),
    ("kirvano", "sale_approved"),
    ("kirvano", "sale_refunded"),
    ("kirvano", "subscription_renewed"),
    ("eduzz", "invoice_paid"),
    ("eduzz", "invoice_opened"),
    ("eduzz", "ping"),
    ("kiwify", "chargeback"),
]


def _seed(app, smtp_server) -> dict:
    """Every list and detail with something in it; returns the ids the pages need."""
    sender = WebhookSender(app.test_client())
    for platform, name in WEBHOOKS:
        response = sender(platform, name)
        assert response.status_code < 300, (platform, name, response.status_code)
    now = utcnow()
    settings_service.set_value("HOTMART_CLIENT_ID", "client-id-0123456789")
    settings_service.set_value("HOTMART_CLIENT_SECRET", "client-secret-0123456789")
    settings_service.set_value("KOMMO_API_URL", "http://127.0.0.1:9")  # nothing listens
    settings_service.set_value("KOMMO_JWT_TOKEN", "kommo-token-0123456789")
    product = seeds.hotmart_product(
        ucode="fb056612-bcc6-4217-9e6d-2a5d1110ac2f",
        is_subscription=False,
        warranty_period=7,
        last_sync_at=now,
    )
    run = seeds.failed_sync_run(trigger="manual", failed_count=2, created_count=3)
    db.session.add_all(
        [
            product,
            Product(platform="hotmart", remote_id="5000001", name="Clube", status="PAUSED"),
            seeds.hotmart_subscription(
                plan_name="Mensal",
                buyer_email=BUYER_EMAIL,
                buyer_name="Maria Souza",
                price_cents=4_990,
                currency="BRL",
            ),
            seeds.hotmart_subscription(
                subscriber_code="SUB0002",
                buyer_email="joao@example.com",
                status="CANCELLED_BY_CUSTOMER",
            ),
            seeds.kommo_contact(email=BUYER_EMAIL, phone="+5511999998888"),
            seeds.kommo_lead(price=1500, is_won=True, status_name="Ganho"),
            seeds.gc_sale(),
            seeds.gc_client(email=BUYER_EMAIL, ativo=True),
            seeds.gc_product(ativo=True, valor_venda_cents=5_990),
            run,
            SyncRun(
                source="kommo",
                resource="contacts",
                status="succeeded",
                trigger="scheduled",
                created_count=1,
                started_at=now - timedelta(hours=2),
                finished_at=now - timedelta(hours=2) + timedelta(seconds=40),
            ),
            SyncRun(source="gestao_click", resource="sales", status="running", started_at=now),
            IntegrationCheck(
                platform="kommo",
                ok=False,
                kind="test",
                code="unauthorized",
                message="O Kommo recusou o token (401): gere um novo token de longa duração.",
            ),  # fmt: skip
            WebhookRejection(
                platform="kiwify",
                count=2,
                last_reason="assinatura inválida",
                last_header_names="content-type",
            ),  # fmt: skip
            AutomationDelivery(
                target="kommo",
                step="kommo_lead",
                dedupe_key="kommo:lead:1",
                buyer_email=BUYER_EMAIL,
                status="failed",
                attempts=5,
                last_error="O Kommo respondeu 400: campo obrigatório ausente.",
            ),  # fmt: skip
            OutboxEmail(
                kind="activation",
                to_email="falhou@example.com",
                subject="Seu acesso",
                body_text="-",
                body_html="-",
                status="failed",
                attempts=5,
                last_error="Conexão recusada pelo servidor de e-mail.",
            ),  # fmt: skip
        ]
    )
    db.session.flush()
    db.session.add(
        SyncFailure(run_id=run.id, resource="sales", remote_id="HP123", error="Valor inválido.")
    )
    item = AccessItem(kind="url", title="Área de membros", url="https://membros.example.com/curso")
    db.session.add(item)
    db.session.flush()
    rule = AccessRule(
        platform="hotmart",
        product_id="4962378",
        product_name="Curso Exemplo",
        offer_code="",
        priority=0,
        items=[item],
    )
    db.session.add(rule)
    db.session.add(
        AuditEntry(
            actor_email="operador@example.com",
            action=audit.SETTINGS_CHANGED,
            details={"group": "Hotmart", "fields": ["Client ID"], "keys": ["HOTMART_CLIENT_ID"]},
        )
    )
    db.session.commit()

    # The buyer signs up through the activation link of the first approved purchase.
    links = re.findall(r"http://localhost(/ativar/[A-Za-z0-9_-]+)", _mail_texts(smtp_server))
    assert len(links) >= 3
    buyer = app.test_client()
    used = next(p for p in links if _link_of(p).buyer_email == BUYER_EMAIL)
    response = post_password_form(buyer, used, "Maria Souza", PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    pending = [p for p in links if _link_of(p).status == "pending"]
    return {
        "buyer": buyer,
        "used_link": used,
        "pending_link": pending[0],
        "item": item.id,
        "rule": rule.id,
        "run": run.id,
    }


def _mail_texts(smtp_server) -> str:
    return "\n".join(smtp_server.text_of(m) for m in smtp_server.messages)


def _link_of(path: str) -> ActivationLink:
    from app import crypto

    token = path.rsplit("/", 1)[1]
    return db.session.scalar(
        select(ActivationLink).where(ActivationLink.token_hash == crypto.token_hash(token))
    )


# Pages whose address needs a value: each gives the paths to scan from the seeded data.
PARAMETERS = {
    "access.edit_item": lambda ids: [f"/acessos/itens/{ids['item']}"],
    "access.edit_rule": lambda ids: [f"/acessos/regras/{ids['rule']}"],
    "inbox.help_page": lambda ids: [f"/ajuda/{slug}" for slug in GUIDES],
    "customers.detail": lambda ids: [
        f"/clientes/email:{BUYER_EMAIL}",
        *(f"/clientes/gc:{c}" for c in db.session.scalars(select(GcClient.id).limit(1))),
    ],
    "dashboard.sync_run_detail": lambda ids: [
        f"/sincronizacoes/{r}" for r in db.session.scalars(select(SyncRun.id))
    ],
    "dashboard.sync_progress": lambda ids: [
        f"/sincronizacoes/{r}/progresso" for r in db.session.scalars(select(SyncRun.id))
    ],
    "sales.detail": lambda ids: [f"/vendas/{s}" for s in db.session.scalars(select(Sale.id))],
    "inbox.detail": lambda ids: [
        f"/webhooks/{e}" for e in db.session.scalars(select(WebhookEvent.id))
    ],
    "reports.cross_report": lambda ids: [f"/relatorios/cruzados/{s}" for s in _cross_slugs()],
}

# Lists seen with a filter or a tab (the default view of each is scanned by the url_map).
VARIANTS = [
    "/vendas?status=refunded",
    "/vendas?q=nada-encontrado",
    "/ativacoes?status=used",
    "/webhooks?status=failed",
    "/sincronizacoes?status=failed",
    "/clientes?q=maria",
    "/clientes?q=ninguem-com-este-nome",
    "/relatorios?periodo=12m",
    "/?periodo=7d",
    "/configuracoes?secao=hotmart",
]


def _cross_slugs():
    from app.services.cross_reports import REPORTS

    return list(REPORTS)


def _operator_paths(app, ids) -> list[str]:
    paths, missing = [], []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if "GET" not in rule.methods or rule.rule.endswith(".csv"):
            continue
        if endpoint in SKIPPED_ENDPOINTS or endpoint in QUERY_PAGES:
            continue
        if endpoint.split(".", 1)[0] in SKIPPED_BLUEPRINTS:
            continue
        if endpoint in ANONYMOUS_ENDPOINTS or endpoint in ("auth.login", "auth.setup"):
            continue
        if rule.arguments:
            if endpoint not in PARAMETERS:
                missing.append(endpoint)
                continue
            paths.extend(PARAMETERS[endpoint](ids))
        else:
            paths.append(rule.rule)
    assert not missing, f"add these pages to PARAMETERS (ids from the seed): {missing}"
    with app.test_request_context():
        tabs = [
            url_for(integ.page.endpoint, aba=key)
            for integ in INTEGRATIONS
            if integ.page
            for key, _, _ in integ.page.tabs
        ]
    return paths + tabs + VARIANTS


def _findings(path: str, html: str) -> list[str]:
    text = visible(html)
    found = []
    words = english(text.main_text)
    if words:
        found.append(f"{path}: English {words}")
    codes = raw_codes(text.main_text + " " + text.code_text)
    if codes:
        found.append(f"{path}: codes {codes}")
    plurals = parenthesised_plurals(text.main_text)
    if plurals:
        found.append(f"{path}: plural in parentheses {plurals}")
    return found


def _scan(client, paths, allowed=(200,)) -> list[str]:
    found = []
    for path in paths:
        response = client.get(path)
        assert response.status_code in allowed, (path, response.status_code)
        if response.mimetype == "text/html" and not 300 <= response.status_code < 400:
            found.extend(_findings(path, response.get_data(as_text=True)))
    return found


@pytest.fixture
def seeded(app_factory, smtp_server):
    app = app_factory(**WEBHOOK_SECRETS, **smtp_server.config())
    with app.app_context():
        operator = app.test_client()
        Auth(app, operator).operator()
        ids = _seed(app, smtp_server)
        yield app, operator, ids


def test_operator_pages_are_in_portuguese(seeded):
    app, operator, ids = seeded
    paths = _operator_paths(app, ids)
    assert len(paths) > 60
    found = _scan(operator, paths, allowed=(200,))
    for query_paths in QUERY_PAGES.values():
        found += _scan(operator, query_paths, allowed=(200, 400))
    assert not found, "\n".join(found)


def test_buyer_pages_are_in_portuguese(seeded):
    app, _, ids = seeded
    buyer = ids["buyer"]
    found = _scan(buyer, ["/conta", "/ajuda"], allowed=(200, 403))
    found += _scan(buyer, ["/vendas"], allowed=(403,))  # the 403 page a buyer can reach
    # The profile and password forms with their validation messages.
    token = csrf_token(buyer, "/conta")
    for path, data in (
        ("/conta/perfil", {"name": ""}),
        ("/conta/senha", {"current_password": "", "password": "", "password_confirm": ""}),
        ("/conta/senha", {"current_password": "errada", "password": "1", "password_confirm": "2"}),
    ):
        response = buyer.post(path, data={**data, "csrf_token": token}, follow_redirects=True)
        assert response.status_code in (200, 400, 422), (path, response.status_code)
        html = response.get_data(as_text=True)
        assert "Informe" in html or "não conferem" in html, path  # the messages did render
        found += _findings(f"POST {path}", html)
    assert not found, "\n".join(found)


def test_anonymous_pages_and_form_errors_are_in_portuguese(app_factory, smtp_server):
    app = app_factory(**WEBHOOK_SECRETS, **smtp_server.config())

    @app.get("/_falha-de-teste")
    def _boom():
        raise RuntimeError("boom")  # an unexpected error: the 500 page

    with app.app_context():
        anonymous = app.test_client()
        found = _scan(anonymous, ["/setup"])
        token = csrf_token(anonymous, "/setup")
        for data in (
            {},
            {"name": "Ana" * 50, "email": "x", "password": "1", "password_confirm": "2"},
        ):
            response = anonymous.post("/setup", data={**data, "csrf_token": token})
            html = response.get_data(as_text=True)
            assert "invalid-feedback" in html  # the messages did render
            found += _findings("POST /setup", html)
        operator = app.test_client()
        Auth(app, operator).operator()
        ids = _seed(app, smtp_server)
        anonymous = app.test_client()
        found += _scan(anonymous, ["/login", "/esqueci-senha", "/nao-existe"], allowed=(200, 404))
        response = anonymous.get("/vendas", follow_redirects=True)  # the login page, its message
        assert response.request.path == "/login"
        found += _findings("/vendas → /login", response.get_data(as_text=True))
        found += _scan(anonymous, [ids["pending_link"], "/ativar/nao-existe"], allowed=(200, 404))
        found += _scan(anonymous, [ids["used_link"]], allowed=(200, 409, 410))
        found += _scan(anonymous, ["/redefinir-senha/nao-existe"], allowed=(410,))
        # An operator invite: its sign-up form, the form sent wrong, an unknown link.
        from app.models import User
        from app.services import team

        owner = db.session.scalar(select(User).where(User.role == "admin"))
        invite = team.invite("convidada@example.com", "operator", by=owner).url
        db.session.commit()
        invite_path = "/convite/" + invite.rsplit("/", 1)[1]
        found += _scan(anonymous, [invite_path])
        found += _scan(anonymous, ["/convite/nao-existe"], allowed=(404,))
        response = anonymous.post(
            invite_path, data={"password": "1", "csrf_token": csrf_token(anonymous, invite_path)}
        )
        found += _findings("POST invite", response.get_data(as_text=True))
        found += _scan(operator, ["/_falha-de-teste"], allowed=(500,))
        # Forms sent empty or wrong: the validation messages.
        token = csrf_token(anonymous, "/login")
        for path, data in (
            ("/login", {}),
            ("/login", {"email": "operador@example.com", "password": "errada"}),
            ("/esqueci-senha", {"email": ""}),
            (ids["pending_link"], {}),
            (ids["pending_link"], {"name": "Ana", "password": "1", "password_confirm": "2"}),
        ):
            response = anonymous.post(path, data={**data, "csrf_token": token})
            found += _findings(f"POST {path}", response.get_data(as_text=True))
        response = anonymous.post("/login", data={"email": "a@example.com"})  # no CSRF: 400
        assert response.status_code == 400
        found += _findings("POST /login without CSRF", response.get_data(as_text=True))
        # A reset link from the e-mail, its form sent empty.
        anonymous.post(
            "/esqueci-senha", data={"email": "operador@example.com", "csrf_token": token}
        )
        reset = re.findall(
            r"http://localhost(/redefinir-senha/[A-Za-z0-9_-]+)", _mail_texts(smtp_server)
        )
        assert reset
        found += _scan(anonymous, [reset[-1]])
        response = anonymous.post(reset[-1], data={"csrf_token": token})
        found += _findings("POST reset", response.get_data(as_text=True))
        # Too many requests: the 429 page.
        for _ in range(10):
            response = anonymous.post(
                "/esqueci-senha", data={"email": "x@example.com", "csrf_token": token}
            )
            if response.status_code == 429:
                break
        assert response.status_code == 429
        found += _findings("429", response.get_data(as_text=True))
        # The operator's own forms sent wrong.
        token = csrf_token(operator, "/acessos")
        for path, data in (
            ("/acessos/itens", {"kind": "url", "title": "", "url": "não é endereço"}),
            ("/acessos/regras", {"platform": "", "product_id": ""}),
            ("/configuracoes/hotmart", {"HOTMART_ENV": "outro"}),
            ("/configuracoes/email", {"SMTP_PORT": "porta"}),
        ):
            response = operator.post(
                path, data={**data, "csrf_token": token}, follow_redirects=True
            )
            assert response.status_code < 500, (path, response.status_code)
            found += _findings(f"POST {path}", response.get_data(as_text=True))
    assert not found, "\n".join(found)


def test_the_reader_sees_what_a_person_sees():
    html = """<html><head><title>Save</title><style>.x{}</style></head><body>
      <script>var cancel = 1;</script>
      <p title="Delete">Vendas <span translate="no">Click here</span></p>
      <input placeholder="Search" type="search"><input type="submit" value="Submit">
      <img alt="Loading"><button aria-label="Close">×</button>
      <p>Evento <code>PURCHASE_APPROVED</code></p>
      <details><summary>Detalhes técnicos</summary><code>KOMMO_PUSH_SALES</code> the</details>
      <details><summary>Mais</summary>order_approved</details>
    </body></html>"""
    text = visible(html)
    assert [w.split("'")[1] for w in english(text.main_text)] == [
        "Close", "Delete", "Loading", "Save", "Search", "Submit",
    ]  # fmt: skip
    assert [c.split("'")[1] for c in raw_codes(text.main_text + " " + text.code_text)] == [
        "PURCHASE_APPROVED", "order_approved",
    ]  # fmt: skip
    assert "KOMMO_PUSH_SALES" in " ".join(text.technical)
    assert english("Hotmart, Gestão Click e o token do webhook: E-mail via SMTP") == []
    assert english("maria@example.com https://painel.example.com/the/help") == []
