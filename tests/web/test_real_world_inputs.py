"""Real-world shapes (issue 11): envelopes, the platforms' own test tools, name and status
variants, phones, PURCHASE_COMPLETE without an approval, carts without an id."""

import copy
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from app.sources import kiwify
from tests.conftest import WEBHOOK_SECRETS, Auth, load_fixture

KIWIFY_SECRET = WEBHOOK_SECRETS["KIWIFY_WEBHOOK_SECRET"]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Kiwify envelopes --------------------------------------------------------------------------


def _post_kiwify(send_webhook, raw: bytes, query=None):
    return send_webhook.client.post(
        "/webhook/kiwify",
        data=raw,
        headers={"Content-Type": "application/json"},
        query_string=query or {},
    )


def test_kiwify_order_envelope_signed_in_the_query_is_a_sale(send_webhook, smtp_server):
    order = load_fixture("kiwify", "order_approved")
    body = {"order": order, "url": "https://example.com/hooks/kiwify", "signature": "x"}
    response = send_webhook("kiwify", body)
    assert response.get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert (sale.transaction_id, sale.amount_cents) == (order["order_id"], 19700)
    assert len(smtp_server.messages) == 1


def test_kiwify_envelope_signed_in_the_body_over_the_order_as_sent(send_webhook, smtp_server):
    order_text = json.dumps(load_fixture("kiwify", "order_approved"), ensure_ascii=False)
    signature = kiwify.sign(order_text.encode(), KIWIFY_SECRET)
    raw = (
        '{"order": ' + order_text + ', "url": "https://example.com/hook", '
        f'"signature": "{signature}"' + "}"
    ).encode()
    response = _post_kiwify(send_webhook, raw)
    assert response.status_code == 200 and response.get_json() == {"status": "accepted"}
    assert db.session.scalar(select(WebhookEvent)).auth_location == "body:signature"
    assert db.session.scalar(select(Sale)).status == "approved"
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("signature", [None, "0" * 40, "not-hex"])
def test_kiwify_envelope_unsigned_or_badly_signed_is_refused(signature, send_webhook):
    order = load_fixture("kiwify", "order_approved")
    body = {"order": order, "url": "https://example.com/hook"}
    if signature is not None:
        body["signature"] = signature
    response = _post_kiwify(send_webhook, json.dumps(body).encode())
    assert response.status_code == 401
    assert count(WebhookEvent) == 0 and count(Sale) == 0


def test_kiwify_order_field_inside_a_real_order_is_not_unwrapped():
    body = load_fixture("kiwify", "order_approved")
    body["order"] = {"order_id": "something-else"}
    assert kiwify.parse(body).transaction_id == "aac95806-d613-4cc6-80f9-f74882dbbce2"


# --- The platforms' own test deliveries ----------------------------------------------------------


@pytest.mark.parametrize("platform", ["hotmart", "kiwify", "kirvano"])
def test_platform_test_delivery_is_stored_as_a_test_and_nobody_is_emailed(
    platform, send_webhook, smtp_server
):
    response = send_webhook(platform, "platform_test_approved")
    assert response.status_code == 200
    event = db.session.scalar(select(WebhookEvent))
    assert event.test_origin == "platform" and event.status == "processed"
    sale = db.session.scalar(select(Sale))
    assert sale.is_test is True
    assert count(ActivationLink) == 0 and count(OutboxEmail) == 0
    assert smtp_server.messages == []


@pytest.mark.parametrize(
    "platform,fixture",
    [
        ("hotmart", "platform_test_approved"),
        ("kiwify", "platform_test_approved"),
        ("kirvano", "platform_test_approved"),
        ("eduzz", "legacy_platform_test"),
    ],
)
def test_a_re_sent_platform_test_delivery_is_a_duplicate_and_harmless(
    platform, fixture, send_webhook, smtp_server
):
    """The panel's "test" button clicked twice: the same body again is a duplicate; nothing
    more is stored, no link, no e-mail."""
    first = send_webhook(platform, fixture)
    assert first.status_code == 200 and first.get_json()["status"] in ("accepted", "ignored")
    stored = (count(WebhookEvent), count(Sale))
    again = send_webhook(platform, fixture)
    assert again.status_code == 200 and again.get_json() == {"status": "duplicate"}
    assert (count(WebhookEvent), count(Sale)) == stored
    db.session.expire_all()
    event = db.session.scalar(select(WebhookEvent))
    assert event.test_origin == "platform" and event.duplicates == 1
    assert all(sale.is_test for sale in db.session.scalars(select(Sale)))
    assert count(ActivationLink) == 0 and count(OutboxEmail) == 0
    assert smtp_server.messages == []


def test_tests_stay_out_of_totals_and_show_as_tests(send_webhook, webhook_app, smtp_server):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    send_webhook("kirvano", "platform_test_approved")
    send_webhook("hotmart", "platform_test_approved")
    send_webhook("kiwify", "order_approved")  # the only real sale: R$\xa0197,00

    inbox = client.get("/webhooks").get_data(as_text=True)
    assert inbox.count("teste da plataforma") == 2

    sales = client.get("/vendas").get_data(as_text=True)
    assert "R$\xa0197,00" in sales and "D2RP8RQ7" not in sales and "1 venda aprovada" in sales
    with_tests = client.get("/vendas?testes=incluir").get_data(as_text=True)
    assert (
        "D2RP8RQ7" in with_tests
        and "R$\xa0197,00" in with_tests
        and "1 venda aprovada" in with_tests
    )
    only = client.get("/vendas?testes=apenas").get_data(as_text=True)
    assert "D2RP8RQ7" in only and "aac95806" not in only

    overview = client.get("/").get_data(as_text=True)
    assert (
        "R$\xa0197,00" in overview and "R$\xa0297,00" not in overview and "D2RP8RQ7" not in overview
    )


def test_panel_test_sales_are_out_of_totals_and_stats(send_webhook, webhook_app, smtp_server):
    from app.services import overview, stats

    client = send_webhook.client
    Auth(webhook_app, client).operator()
    from tests.conftest import csrf_token

    token = csrf_token(client, "/webhooks")
    client.post(
        "/webhooks/teste",
        data={"platform": "kiwify", "event": "approved", "csrf_token": token},
    )
    sale = db.session.scalar(select(Sale))
    assert sale.is_test and sale.transaction_id.startswith("TESTE-")
    link = db.session.scalar(select(ActivationLink))
    assert link.is_test  # the panel's test still e-mails the typed address
    assert db.session.scalar(select(WebhookEvent)).test_origin == "panel"
    assert overview.build().approved_count == 0
    assert stats.funnel().created == 0
    assert "teste do painel" in client.get("/webhooks").get_data(as_text=True)


# --- Event-name and status variants ------------------------------------------------------------


@pytest.mark.parametrize("name", ["REFUND", "SALE_REFUND"])
def test_kirvano_refund_variants_revoke(name, send_webhook, smtp_server):
    send_webhook("kirvano", "sale_approved")
    body = load_fixture("kirvano", "sale_refunded")
    body["sale_id"] = "ABC12345"
    body["event"] = name
    assert send_webhook("kirvano", body).get_json() == {"status": "accepted"}
    assert db.session.scalar(select(Sale)).status == "refunded"
    assert db.session.scalar(select(ActivationLink)).status == "revoked"


def test_kirvano_subscription_overdue_is_flagged_not_ignored(send_webhook):
    send_webhook("kirvano", "sale_approved")
    body = load_fixture("kirvano", "sale_approved")
    body["event"], body["status"] = "SUBSCRIPTION_OVERDUE", "OVERDUE"
    send_webhook("kirvano", body)
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert (event.event_type, event.kind) == ("SUBSCRIPTION_EXPIRED", "flag")


def _hotmart_money_back(body):
    body["event"] = "PURCHASE_MONEY_BACK"
    body["data"]["purchase"]["status"] = "REFUNDED"


def _kiwify_reimbursed(body):
    body.update(webhook_event_type="order_reimbursed", order_status="refunded")


def _kirvano_reversed(body):
    body.update(event="SALE_REVERSED", status="CHARGEBACK")


@pytest.mark.parametrize(
    "platform,mutate",
    [
        ("hotmart", _hotmart_money_back),
        ("kiwify", _kiwify_reimbursed),
        ("kirvano", _kirvano_reversed),
    ],
)
def test_unknown_event_with_a_refunded_status_revokes(platform, mutate, send_webhook, caplog):
    approvals = {"hotmart": "purchase_approved", "kiwify": "order_approved"}
    send_webhook(platform, approvals.get(platform, "sale_approved"))
    body = load_fixture(platform, approvals.get(platform, "sale_approved"))
    if platform == "hotmart":
        body["id"] = "unknown-refund-event"
        body["creation_date"] += 86_400_000
    mutate(body)
    assert send_webhook(platform, body).get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert sale.status in ("refunded", "chargeback")
    assert db.session.scalar(select(ActivationLink)).status == "revoked"


# --- Phones ------------------------------------------------------------------------------------


def test_phone_numbers_use_the_buyers_country(send_webhook):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["buyer"].update(
        checkout_phone_code="55", checkout_phone="12345678", address={"country_iso": "MX"}
    )
    send_webhook("hotmart", body)
    assert db.session.scalar(select(Sale)).buyer_phone == "+525512345678"

    from app.sources.base import normalize_phone

    assert normalize_phone("+5511999998888") == "+5511999998888"
    assert normalize_phone("5511999998888") == "+5511999998888"  # Kirvano: already 55
    assert normalize_phone("11999998888") == "+5511999998888"
    assert normalize_phone("+1 (415) 555-2671", "BR") == "+14155552671"
    assert normalize_phone("0044 20 7946 0958") == "+442079460958"


# --- PURCHASE_COMPLETE -------------------------------------------------------------------------


def _complete_body():
    body = load_fixture("hotmart", "purchase_approved")
    body["id"] = "complete-event-0001"
    body["event"] = "PURCHASE_COMPLETE"
    body["data"]["purchase"]["status"] = "COMPLETE"
    body["creation_date"] += 8 * 86_400_000
    return body


def test_purchase_complete_without_an_approval_grants(send_webhook, smtp_server):
    assert send_webhook("hotmart", _complete_body()).get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert sale.status == "complete" and sale.amount_cents == 19700
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


def test_purchase_complete_after_an_approval_sends_nothing_even_when_the_link_expired(
    send_webhook, smtp_server
):
    import time_machine

    from app.models.types import utcnow

    send_webhook("hotmart", "purchase_approved")
    assert len(smtp_server.messages) == 1
    with time_machine.travel(utcnow() + __import__("datetime").timedelta(days=9)):
        assert send_webhook("hotmart", _complete_body()).status_code == 200
    assert db.session.scalar(select(Sale)).status == "complete"
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


# --- Abandoned carts ---------------------------------------------------------------------------


def test_kiwify_cart_without_id_keeps_buyer_product_and_link(send_webhook):
    cart = load_fixture("kiwify", "abandoned_cart")
    del cart["id"]
    assert send_webhook("kiwify", cart).get_json() == {"status": "ignored"}
    event = kiwify.parse(copy.deepcopy(cart))
    assert (event.event_type, event.buyer_email, event.product_id) == (
        "abandoned_cart",
        "pedro@example.com",
        "845f2fff-61de-4aee-a201-d502e2f5ca94",
    )
    assert event.checkout_url == "https://pay.kiwify.com.br/AbCdEf1"
    stored = db.session.scalar(select(WebhookEvent))
    assert stored.buyer_email == "pedro@example.com"
    assert stored.dedupe_key.startswith("abandoned_cart:pedro@example.com:845f2fff")
    # Another buyer's cart is another event; the same cart again is a duplicate.
    other = dict(cart, email="ana@example.com")
    assert send_webhook("kiwify", other).get_json() == {"status": "ignored"}
    assert send_webhook("kiwify", cart).get_json() == {"status": "duplicate"}
    assert count(WebhookEvent) == 2


def test_kirvano_cart_without_checkout_id_is_keyed_by_its_fields(send_webhook):
    cart = load_fixture("kirvano", "abandoned_cart")
    del cart["checkout_id"]
    send_webhook("kirvano", cart)
    stored = db.session.scalar(select(WebhookEvent))
    assert stored.dedupe_key.startswith("ABANDONED_CART:pedro@example.com:1c5f17f3")


# --- Kirvano without a token -------------------------------------------------------------------


def test_refused_kirvano_delivery_is_explained_on_the_webhooks_page(send_webhook, webhook_app):
    client = send_webhook.client
    raw = json.dumps(load_fixture("kirvano", "sale_approved")).encode()
    for _ in range(2):  # Kirvano with the token field left empty
        response = client.post(
            "/webhook/kirvano", data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 401
    assert count(WebhookEvent) == 0
    Auth(webhook_app, client).operator()
    page = client.get("/webhooks").get_data(as_text=True)
    assert "2 entregas recusadas" in page
    assert "A Kirvano enviou o webhook sem token" in page and "Configurações → Kirvano" in page


def test_settings_generate_a_kirvano_token_shown_once(app_factory):
    from app.services import settings as settings_service
    from tests.conftest import csrf_token

    app = app_factory()
    with app.app_context():
        client = app.test_client()
        Auth(app, client).operator()
        page = client.get("/configuracoes").get_data(as_text=True)
        assert "http://localhost/webhook/kirvano" in page
        token = csrf_token(client, "/configuracoes")
        answer = client.post("/configuracoes/kirvano/gerar-token", data={"csrf_token": token})
        assert answer.status_code == 200
        saved = settings_service.get("KIRVANO_WEBHOOK_SECRET")
        assert saved and len(saved) >= 40 and saved in answer.get_data(as_text=True)
        # A reload must not post again: the page puts its GET address back in the bar.
        assert 'data-replace-url="/configuracoes#kirvano"' in answer.get_data(as_text=True)
        assert saved not in client.get("/configuracoes").get_data(as_text=True)
        # A delivery carrying the generated token is accepted.
        raw = json.dumps(load_fixture("kirvano", "sale_approved")).encode()
        accepted = client.post(
            "/webhook/kirvano",
            data=raw,
            headers={"Content-Type": "application/json", "x-kirvano-token": saved},
        )
        assert accepted.status_code == 200
        assert (
            client.post("/configuracoes/kiwify/gerar-token", data={"csrf_token": token}).status_code
            == 404
        )


# --- Several products in one purchase ----------------------------------------------------------


def _sales_by_product():
    return {s.product_name: s for s in db.session.scalars(select(Sale).order_by(Sale.id))}


def test_kirvano_order_bump_is_its_own_sale_with_one_link_naming_both(
    send_webhook, webhook_app, smtp_server
):
    from tests.web.test_signup import link_path, submit

    assert send_webhook("kirvano", "sale_approved_order_bump").status_code == 200
    sales = _sales_by_product()
    assert set(sales) == {"Curso Exemplo", "Planilha Bônus"}
    main, bump = sales["Curso Exemplo"], sales["Planilha Bônus"]
    assert (main.transaction_id, main.amount_cents) == ("BMP45678", 9700)
    assert (bump.amount_cents, bump.is_order_bump, bump.parent_transaction_id) == (
        2700,
        True,
        "BMP45678",
    )
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1
    (message,) = smtp_server.messages
    assert "Curso Exemplo e Planilha Bônus" in message["Subject"]

    path = link_path(smtp_server)
    client = send_webhook.client
    form = client.get(path).get_data(as_text=True)
    assert "Curso Exemplo" in form and "Planilha Bônus" in form
    assert 'value="Maria Souza"' in form  # the name typed at checkout comes prefilled
    assert submit(client, path).status_code == 302
    account = client.get("/conta").get_data(as_text=True)
    assert "Curso Exemplo" in account and "Planilha Bônus" in account

    # A refund of the purchase revokes both products.
    assert send_webhook("kirvano", "sale_refunded_order_bump").status_code == 200
    statuses = {name: sale.status for name, sale in _sales_by_product().items()}
    assert statuses == {"Curso Exemplo": "refunded", "Planilha Bônus": "refunded"}
    from app.models import Access

    assert {a.status for a in db.session.scalars(select(Access))} == {"revoked"}


def test_hotmart_order_bump_shares_the_parent_purchase_link(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_approved_order_bump")
    sales = _sales_by_product()
    bump = sales["Planilha Bônus"]
    assert bump.parent_transaction_id == "HP16015479281022" and bump.amount_cents == 2700
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1  # one link per purchase
    from tests.web.test_signup import link_path, submit

    path = link_path(smtp_server)
    form = send_webhook.client.get(path).get_data(as_text=True)
    assert "Curso Exemplo" in form and "Planilha Bônus" in form
    submit(send_webhook.client, path)
    from app.models import Access

    assert db.session.scalar(select(func.count()).select_from(Access)) == 2
    send_webhook("hotmart", "purchase_refunded")  # the main purchase refunded: both go
    assert {s.status for s in _sales_by_product().values()} == {"refunded"}


def test_order_bump_for_an_existing_member_sends_one_notice_naming_both(
    send_webhook, webhook_app, smtp_server
):
    from app.services import accounts

    accounts.create_user("maria@example.com", "senha-segura-123", name="Maria", role="member")
    db.session.commit()
    send_webhook("kirvano", "sale_approved_order_bump")
    from app.models import Access

    assert db.session.scalar(select(func.count()).select_from(Access)) == 2
    assert count(ActivationLink) == 0
    (message,) = smtp_server.messages
    assert "Curso Exemplo e Planilha Bônus" in message["Subject"]


# --- One product identity across sources -------------------------------------------------------


def test_hotmart_rest_and_webhook_sales_of_one_product_share_its_identity(send_webhook):
    from app.models import Product
    from app.services import hotmart as hotmart_service
    from app.services import stats

    send_webhook("hotmart", "purchase_approved")  # the webhook names the product by its ucode
    ucode = "fb056612-bcc6-4217-9e6d-2a5d1110ac2f"
    # A REST history sale read before the catalogue was synced: numeric id only.
    db.session.add(
        Sale(platform="hotmart", transaction_id="HP0000000001", status="approved",
             product_id="4962378", product_name="Curso Exemplo", source="sync")
    )  # fmt: skip
    db.session.add(
        Product(platform="hotmart", remote_id="4962378", ucode=ucode, name="Curso Exemplo")
    )
    db.session.commit()
    assert hotmart_service.unify_product_ids() == 1
    assert {s.product_id for s in db.session.scalars(select(Sale))} == {ucode}
    assert [row["key"] for row in stats.by_product()] == [f"hotmart:{ucode}"]
