"""Real-world shapes (issue 11): envelopes, the platforms' own test tools, name and status
variants, phones, PURCHASE_COMPLETE without an approval, carts without an id."""

import copy
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from app.sources import kiwify
from tests.conftest import WEBHOOK_FIXTURES, WEBHOOK_SECRETS, Auth, load_fixture

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


def _envelope_text() -> str:
    """The envelope fixture exactly as stored (its spacing is what a signature covers)."""
    with open(f"{WEBHOOK_FIXTURES}/kiwify/order_approved_envelope.json", encoding="utf-8") as fh:
        return fh.read()


def test_kiwify_order_envelope_signed_in_the_query_is_a_sale(send_webhook, smtp_server):
    response = send_webhook("kiwify", "order_approved_envelope")
    assert response.get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert (sale.transaction_id, sale.amount_cents) == (
        "aac95806-d613-4cc6-80f9-f74882dbbce2",
        19700,
    )
    assert len(smtp_server.messages) == 1


def test_kiwify_envelope_signed_in_the_body_over_the_order_as_sent(send_webhook, smtp_server):
    document = _envelope_text()
    placeholder = load_fixture("kiwify", "order_approved_envelope")["signature"]
    order_text = kiwify.top_level_members(document)["order"]
    signature = kiwify.sign(order_text.encode(), KIWIFY_SECRET)
    response = _post_kiwify(send_webhook, document.replace(placeholder, signature).encode())
    assert response.status_code == 200 and response.get_json() == {"status": "accepted"}
    assert db.session.scalar(select(WebhookEvent)).auth_location == "body:signature"
    assert db.session.scalar(select(Sale)).status == "approved"
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("signature", [None, "0" * 40, "not-hex"])
def test_kiwify_envelope_unsigned_or_badly_signed_is_refused(signature, send_webhook):
    body = load_fixture("kiwify", "order_approved_envelope")  # its signature signs nothing
    if signature is None:
        del body["signature"]
    else:
        body["signature"] = signature
    for raw in (json.dumps(body).encode(), _envelope_text().encode()):
        response = _post_kiwify(send_webhook, raw)
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


def _kiwify_test_without_its_email():
    body = load_fixture("kiwify", "platform_test_approved")
    body["Customer"]["email"] = "vendedor@example.com"  # the seller typed their own address
    return body


def test_kiwify_test_delivery_is_recognised_by_its_example_product_too():
    body = _kiwify_test_without_its_email()
    assert kiwify.parse(copy.deepcopy(body)).test_origin == "platform"  # the nil product id
    body["Product"]["product_id"] = "845f2fff-61de-4aee-a201-d502e2f5ca94"
    # "Example product" sold by "Example store": both names of the test tool.
    assert kiwify.parse(copy.deepcopy(body)).test_origin == "platform"


@pytest.mark.parametrize(
    "product_name,store_name",
    [
        ("Example product", "Loja da Maria"),  # a real product merely named like the test's
        ("Example product masterclass", "Example store"),  # a longer name
        ("Curso Exemplo", "Example store"),
    ],
)
def test_a_real_kiwify_sale_named_example_is_a_sale(product_name, store_name):
    body = _kiwify_test_without_its_email()
    body["Product"] = {"product_id": "845f2fff-61de-4aee-a201-d502e2f5ca94",
                       "product_name": product_name}  # fmt: skip
    body["Commissions"]["commissioned_stores"][0]["custom_name"] = store_name
    assert kiwify.parse(body).test_origin is None


# Every platform's own test delivery (and a refund the Kirvano tool sends), then one real sale.
TEST_DELIVERIES = [
    ("hotmart", "platform_test_approved"),  # product id 0, "Produto test postback2", R$ 1.500
    ("kiwify", "platform_test_approved"),  # johndoe@example.com, "Example product", R$ 100
    ("kirvano", "platform_test_approved"),  # sale D2RP8RQ7, exemplo@email.com, R$ 297
    ("kirvano", "platform_test_refunded"),  # the same test sale, refunded
    ("eduzz", "legacy_platform_test"),  # "Teste Webhook", webhook@eduzz.com, R$ 50
]
TEST_BUYERS = (
    "testecomprador271101postman15@example.com",
    "johndoe@example.com",
    "exemplo@email.com",
    "webhook@eduzz.com",
)
TEST_PRODUCTS = ("Produto test postback2", "Example product", "Produto Exemplo", "Nome do produto")
TEST_AMOUNTS = ("R$\xa01.500,00", "R$\xa0100,00", "R$\xa0297,00", "R$\xa050,00")
# Two real ranges (each ends the day before "now", so it is closed) that hold them all: the
# Hotmart and Eduzz tools date their deliveries 2017 and 2019, the Kiwify and Kirvano ones
# 2026 (listed_at, the day every report counts a sale on). The real sale is in the second.
RANGES = [
    (datetime(2021, 6, 1, 15, 0, tzinfo=UTC), "2016-06-03", "2021-05-31"),
    (datetime(2026, 7, 20, 15, 0, tzinfo=UTC), "2021-07-21", "2026-07-19"),
]


def _sales_rows(body):
    return [(i.get("product_name"), i["amount_cents"], i["sales"]) for i in body["items"]]


def test_every_platforms_test_delivery_stays_out_of_every_report(
    send_webhook, webhook_app, smtp_server
):
    """Each platform's own test tool, through the real endpoint, then one real Kiwify sale
    (R$ 197,00): /relatorios and every /api/reports/* count the real sale only."""
    from app.models import KommoContact, KommoLead
    from app.services import cross_reports

    for platform, fixture in TEST_DELIVERIES:
        assert send_webhook(platform, fixture).status_code == 200
    assert send_webhook("kiwify", "order_approved").get_json() == {"status": "accepted"}
    sales = db.session.scalars(select(Sale)).all()
    assert sorted(s.is_test for s in sales) == [False] + [True] * 4
    assert {s.buyer_email for s in sales if s.is_test} == set(TEST_BUYERS)
    assert [m["To"] for m in smtp_server.messages] == ["maria@example.com"]
    # Kommo knows the real buyer and the Kirvano test buyer (a real mail domain), each with
    # a won deal: the test buyer's deal is "won without a sale" (her only sale is a test).
    db.session.add_all(
        [
            KommoContact(remote_id=1, name="Maria", responsible_user_id=100,
                         email="maria@example.com"),
            KommoContact(remote_id=2, name="Teste", responsible_user_id=200,
                         email="exemplo@email.com"),
        ]
    )  # fmt: skip
    for remote_id, contact_id, owner in ((11, 1, 100), (12, 2, 200)):
        db.session.add(
            KommoLead(remote_id=remote_id, name=f"Negócio {remote_id}", contact_id=contact_id,
                      responsible_user_id=owner, is_won=True, price=300,
                      closed_at=datetime(2026, 7, 10, 15, 0, tzinfo=UTC))
        )  # fmt: skip
    db.session.commit()

    client = send_webhook.client
    auth = Auth(webhook_app, client)
    auth.create()
    for now, start, end in RANGES:
        with time_machine.travel(now, tick=False):
            assert auth.login().status_code == 302
            period = {"periodo": "personalizado", "de": start, "ate": end}
            since = datetime.fromisoformat(f"{start}T03:00:00+00:00")  # São Paulo midnight
            until = datetime.fromisoformat(f"{end}T03:00:00+00:00") + timedelta(days=1)
            assert any(s.is_test and since <= s.listed_at < until for s in sales)
            real = now.year == 2026
            bodies = {}
            for name in cross_reports.API_NAMES:
                response = client.get(f"/api/reports/{name}", query_string=period)
                assert response.status_code == 200, response.get_data(as_text=True)
                bodies[name] = response.get_json()
                dumped = json.dumps(bodies[name], ensure_ascii=False)
                assert not any(product in dumped for product in TEST_PRODUCTS), name
                assert not any(f'"{s.transaction_id}"' in dumped for s in sales if s.is_test)
            totals = {name: body["total"] for name, body in bodies.items()}
            if not real:
                assert set(totals.values()) == {0}, totals
            else:
                assert totals == {
                    "not-in-crm": 0,  # the Kiwify test buyer is not in Kommo: not counted
                    "won-without-sale": 1,
                    "revenue-by-responsible": 1,
                    "by-utm": 1,
                    "by-product": 1,
                    "refunds": 1,
                }
                (won,) = bodies["won-without-sale"]["items"]
                assert (won["contact_email"], won["lead_id"]) == ("exemplo@email.com", 12)
                (owner,) = bodies["revenue-by-responsible"]["items"]
                assert (owner["responsible_user_id"], owner["amount_cents"]) == (100, 19700)
                assert [(i["source"], i["amount_cents"], i["sales"]) for i in bodies["by-utm"][
                    "items"
                ]] == [("FB", 19700, 1)]  # fmt: skip
                assert _sales_rows(bodies["by-product"]) == [("Curso Exemplo", 19700, 1)]
                (month,) = bodies["refunds"]["items"]  # the Kirvano test refund is not one
                assert (month["platform"], month["paid"], month["refunded"]) == ("kiwify", 1, 0)

            page = client.get("/relatorios", query_string=period).get_data(as_text=True)
            assert not any(product in page for product in TEST_PRODUCTS)
            assert not any(amount in page for amount in TEST_AMOUNTS)
            assert "Nenhum reembolso ou chargeback neste período" in page
            assert ("R$\xa0197,00" in page) is real


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


@pytest.mark.parametrize(
    "fixture,status",
    [("refund", "refunded"), ("sale_refund", "refunded"), ("chargeback", "chargeback")],
)  # the event names REFUND, SALE_REFUND, CHARGEBACK
def test_kirvano_refund_variants_revoke(fixture, status, send_webhook, smtp_server):
    send_webhook("kirvano", "sale_approved")
    assert send_webhook("kirvano", fixture).get_json() == {"status": "accepted"}
    assert db.session.scalar(select(Sale)).status == status
    assert db.session.scalar(select(ActivationLink)).status == "revoked"


def test_kirvano_subscription_overdue_is_flagged_not_ignored(send_webhook):
    send_webhook("kirvano", "sale_approved")
    assert send_webhook("kirvano", "subscription_overdue").get_json() == {"status": "accepted"}
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert (event.event_type, event.kind) == ("SUBSCRIPTION_EXPIRED", "flag")


APPROVALS = {"hotmart": "purchase_approved", "kiwify": "order_approved", "kirvano": "sale_approved"}
UNKNOWN_REFUNDS = {
    "hotmart": "purchase_money_back_unknown_event",  # PURCHASE_MONEY_BACK, status REFUNDED
    "kiwify": "order_reimbursed_unknown_event",  # order_reimbursed, order_status refunded
    "kirvano": "sale_reversed_unknown_event",  # SALE_REVERSED, status CHARGEBACK
}


@pytest.mark.parametrize("platform", sorted(UNKNOWN_REFUNDS))
def test_unknown_event_with_a_refunded_status_revokes(platform, send_webhook, caplog):
    send_webhook(platform, APPROVALS[platform])
    with caplog.at_level("WARNING"):
        answer = send_webhook(platform, UNKNOWN_REFUNDS[platform])
    assert answer.get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert sale.status in ("refunded", "chargeback")
    assert db.session.scalar(select(ActivationLink)).status == "revoked"
    stored = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    expected = f"unknown {platform} webhook event {stored.event_type!r} (status {sale.status!r})"
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(line.startswith(expected) for line in logged), logged


REFUNDS = {"kiwify": "order_refunded", "kirvano": "sale_refunded"}


@pytest.mark.parametrize("platform", sorted(REFUNDS))
def test_an_unknown_event_after_a_refund_keeps_the_refund(platform, send_webhook, smtp_server):
    """The platform's ``unknown_event`` fixture names the refunded sale with a paid status
    (Kiwify ``order_delivered`` / ``paid``, Kirvano ``SUBSCRIPTION_PLAN_CHANGED`` /
    ``APPROVED``): stored and ignored, never a second grant."""
    send_webhook(platform, APPROVALS[platform])
    assert send_webhook(platform, REFUNDS[platform]).get_json() == {"status": "accepted"}
    assert send_webhook(platform, "unknown_event").get_json() == {"status": "ignored"}
    assert db.session.scalar(select(Sale)).status == "refunded"
    assert [link.status for link in db.session.scalars(select(ActivationLink))] == ["revoked"]
    assert len(smtp_server.messages) == 1  # the first approval's link only


def test_an_unknown_eduzz_event_is_ignored_whatever_its_status_says(
    send_webhook, smtp_server, caplog
):
    """The exception, on purpose: SPEC §13 ("an unknown ``myeduzz.*`` event → 200
    ``ignored``") and PLATFORMS-WRITES.md §5.1 ("drive logic from ``event``, not from
    ``data.status``", whose spelling differs between Eduzz's own documents). The fixture's
    ``myeduzz.invoice_brand_new`` carries ``data.status: "refunded"`` for a paid invoice."""
    send_webhook("eduzz", "invoice_paid")
    with caplog.at_level("WARNING"):
        assert send_webhook("eduzz", "unknown_event").get_json() == {"status": "ignored"}
    assert db.session.scalar(select(Sale)).status == "approved"
    assert db.session.scalar(select(ActivationLink)).status == "pending"
    logged = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "unknown eduzz webhook event 'myeduzz.invoice_brand_new': handled as info" in logged


# --- Phones ------------------------------------------------------------------------------------


def test_phone_numbers_use_the_buyers_country(send_webhook):
    """Hotmart: the country is only in ``purchase.checkout_country`` (no buyer address)."""
    assert send_webhook("hotmart", "purchase_approved_mexico").status_code == 200
    sale = db.session.scalar(select(Sale))
    assert (sale.buyer_email, sale.buyer_phone) == ("sofia@example.com", "+525512345678")


def test_hotmart_buyer_address_country_comes_before_the_checkout_country():
    from app.sources import hotmart

    body = load_fixture("hotmart", "purchase_approved_mexico")
    body["data"]["buyer"]["address"] = {"country_iso": "BR"}
    assert hotmart.parse(body).buyer_phone == "+555512345678"
    del body["data"]["buyer"]["address"]
    body["data"]["purchase"]["checkout_country"] = "MX"  # a plain code
    assert hotmart.parse(body).buyer_phone == "+525512345678"


@pytest.mark.parametrize(
    "platform,fixture",
    [
        ("kiwify", "order_approved_mexico"),  # Customer.mobile "+525512345678"
        ("kirvano", "sale_approved_mexico"),  # phone_number "5215512345678": no "+", old "1"
        ("eduzz", "invoice_paid_mexico"),  # cellphone "52 55 1234 5678", address.country MX
    ],
)
def test_a_mexican_buyer_never_gets_plus_55(platform, fixture, send_webhook, smtp_server):
    assert send_webhook(platform, fixture).get_json() == {"status": "accepted"}
    sale = db.session.scalar(select(Sale))
    assert (sale.buyer_email, sale.buyer_phone) == ("sofia@example.com", "+525512345678")
    assert smtp_server.messages[-1]["To"] == "sofia@example.com"


@pytest.mark.parametrize(
    "raw,country,expected",
    [
        ("+5511999998888", None, "+5511999998888"),
        ("5511999998888", None, "+5511999998888"),  # Kirvano: already 55, never 5555
        ("11999998888", None, "+5511999998888"),
        ("(11) 3333-4444", None, "+551133334444"),
        ("+1 (415) 555-2671", "BR", "+14155552671"),
        ("0044 20 7946 0958", None, "+442079460958"),
        ("525512345678", None, "+525512345678"),  # Mexico without "+": not a BR number
        ("5215512345678", None, "+525512345678"),  # the former Mexican mobile "1"
        ("14155552671", None, "+5514155552671"),  # 11 digits: a BR length, read as BR
        ("14155552671", "US", "+14155552671"),  # …unless the buyer is in the US
        ("(47) 8809-0439", None, "+554788090439"),  # old BR mobile (no 9): never Norway's +47
        ("6591557191", None, "+556591557191"),  # …nor Singapore's +65
        ("554788090439", None, "+554788090439"),
        ("5512345678", "MX", "+525512345678"),  # a national number in the buyer's country
        ("525512345678", "MX", "+525512345678"),  # …already with its own code
        ("12345", None, "12345"),  # not a number anywhere: the digits
    ],
)
def test_normalize_phone_shapes(raw, country, expected):
    from app.sources.contact import normalize_phone

    assert normalize_phone(raw, country) == expected


def test_ten_digit_brazilian_numbers_always_stay_brazilian():
    """Every area code with landline and old-mobile shapes (8 digits, no ninth): however the
    library judges their validity, none is taken for another country's number."""
    from app.sources.contact import normalize_phone

    areas = [
        *range(11, 20), 21, 22, 24, 27, 28, *range(31, 36), 37, 38, *range(41, 50), 51,
        *range(53, 56), *range(61, 70), 71, *range(73, 76), 77, 79, *range(81, 90),
        *range(91, 100),
    ]  # fmt: skip
    for area in areas:  # every Brazilian area code (DDD)
        for first in "2345789":
            digits = f"{area}{first}8090439"
            assert normalize_phone(digits) == "+55" + digits, digits


# --- PURCHASE_COMPLETE -------------------------------------------------------------------------


def test_purchase_complete_without_an_approval_grants(send_webhook, smtp_server):
    assert send_webhook("hotmart", "purchase_complete").get_json() == {"status": "accepted"}
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
        assert send_webhook("hotmart", "purchase_complete").status_code == 200
    assert db.session.scalar(select(Sale)).status == "complete"
    assert count(ActivationLink) == 1 and len(smtp_server.messages) == 1


# --- Abandoned carts ---------------------------------------------------------------------------


def test_kiwify_cart_without_id_keeps_buyer_product_and_link(send_webhook):
    cart = load_fixture("kiwify", "abandoned_cart_without_id")
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
    assert send_webhook("kirvano", "abandoned_cart_without_checkout_id").status_code == 200
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


def _signup_and_account(send_webhook, smtp_server, name="Maria Souza"):
    from tests.web.test_signup import link_path, submit

    client = send_webhook.client
    assert submit(client, link_path(smtp_server), name=name).status_code == 302
    return client.get("/conta").get_data(as_text=True)


def _account_rows(page: str) -> dict[str, str]:
    """/conta "Minhas compras": product → the access badge of its row."""
    rows = {}
    for row in page.split("<tr>")[2:]:
        product = re.search(r'data-label="Produto">([^<]+)<', row).group(1).strip()
        rows[product] = "Ativo" if ">Ativo<" in row else "Revogado" if ">Revogado<" in row else "?"
    return rows


def test_hotmart_order_bump_both_products_on_conta_after_signup(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_approved_order_bump")
    account = _signup_and_account(send_webhook, smtp_server)
    assert _account_rows(account) == {"Curso Exemplo": "Ativo", "Planilha Bônus": "Ativo"}


def test_hotmart_order_bump_arriving_before_its_parent_shares_one_link(send_webhook, smtp_server):
    """Hotmart sends one transaction per product, in any order. The one e-mail goes with the
    first approval and names what was known then (the bump); the parent reuses its link, and
    the signup page and /conta list both products."""
    assert send_webhook("hotmart", "purchase_approved_order_bump").status_code == 200
    assert send_webhook("hotmart", "purchase_approved").status_code == 200
    assert [m["Subject"] for m in smtp_server.messages] == ["Ative seu acesso: Planilha Bônus"]
    assert count(ActivationLink) == 1
    from tests.web.test_signup import link_path

    form = send_webhook.client.get(link_path(smtp_server)).get_data(as_text=True)
    assert "Curso Exemplo" in form and "Planilha Bônus" in form
    account = _signup_and_account(send_webhook, smtp_server)
    assert _account_rows(account) == {"Planilha Bônus": "Ativo", "Curso Exemplo": "Ativo"}


def test_hotmart_refund_of_the_bump_alone_revokes_only_the_bump(send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_approved_order_bump")
    _signup_and_account(send_webhook, smtp_server)
    answer = send_webhook("hotmart", "purchase_refunded_order_bump")
    assert answer.get_json() == {"status": "accepted"}
    statuses = {name: sale.status for name, sale in _sales_by_product().items()}
    assert statuses == {"Curso Exemplo": "approved", "Planilha Bônus": "refunded"}
    account = send_webhook.client.get("/conta").get_data(as_text=True)
    assert _account_rows(account) == {"Curso Exemplo": "Ativo", "Planilha Bônus": "Revogado"}


def test_hotmart_bump_refunded_before_signup_keeps_the_link_for_the_parent(
    send_webhook, smtp_server
):
    """The link went out with the bump (it came first); the bump alone is refunded before the
    buyer signs up: the link stays valid for the main product, which is still paid."""
    send_webhook("hotmart", "purchase_approved_order_bump")
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_refunded_order_bump")
    link = db.session.scalar(select(ActivationLink))
    assert (link.status, link.product_name) == ("pending", "Curso Exemplo")
    account = _signup_and_account(send_webhook, smtp_server)
    assert _account_rows(account) == {"Curso Exemplo": "Ativo"}
    # The main purchase refunded: its whole purchase goes.
    send_webhook("hotmart", "purchase_refunded")
    account = send_webhook.client.get("/conta").get_data(as_text=True)
    assert _account_rows(account) == {"Curso Exemplo": "Revogado"}


def test_eduzz_refund_of_a_purchase_with_a_bump_revokes_both(send_webhook, smtp_server):
    send_webhook("eduzz", "invoice_paid_order_bump")
    account = _signup_and_account(send_webhook, smtp_server, name="Alice")
    assert _account_rows(account) == {"Widget X": "Ativo", "Bônus Y": "Ativo"}
    answer = send_webhook("eduzz", "invoice_refunded_order_bump")
    assert answer.get_json() == {"status": "accepted"}
    assert {s.status for s in _sales_by_product().values()} == {"refunded"}
    account = send_webhook.client.get("/conta").get_data(as_text=True)
    assert _account_rows(account) == {"Widget X": "Revogado", "Bônus Y": "Revogado"}
