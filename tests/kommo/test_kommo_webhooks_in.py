"""POST /webhook/kommo/<token>: Kommo's form-encoded deliveries update the local copy.

No Kommo API configured here, so the delivered fields are applied (the re-read path is in
test_kommo_webhook_register.py, against the emulator over HTTP).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import KommoContact, KommoLead, WebhookEvent
from tests.conftest import Auth

TOKEN = "kommo-webhook-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "amoCRM-Webhooks/3.0"}
ACCOUNT = [
    ("account[subdomain]", "vendashub"),
    ("account[id]", "32720107"),
    ("account[_links][self]", "https://vendashub.kommo.com"),
]


def form(*pairs: tuple[str, str]) -> bytes:
    return urlencode([*ACCOUNT, *pairs]).encode()


def lead_pairs(action: str, lead_id: int, i: int = 0, **fields) -> list[tuple[str, str]]:
    base = {
        "id": lead_id,
        "name": "Curso - Ana",
        "status_id": 142,
        "price": 997,
        "responsible_user_id": 10000698,
        "pipeline_id": 9621010,
        "date_create": 1748268669,
        "last_modified": 1748268700,
        "created_at": 1748268669,
        "updated_at": 1748268700,
        **fields,
    }
    return [(f"leads[{action}][{i}][{k}]", str(v)) for k, v in base.items()]


def contact_pairs(action: str, contact_id: int, email: str, phone: str = "+5511999990000"):
    p = f"contacts[{action}][0]"
    return [
        (f"{p}[id]", str(contact_id)),
        (f"{p}[name]", "Ana Souza"),
        (f"{p}[responsible_user_id]", "10000698"),
        (f"{p}[date_create]", "1748289231"),
        (f"{p}[last_modified]", "1748292937"),
        (f"{p}[custom_fields][1][id]", "735649"),
        (f"{p}[custom_fields][1][name]", "Telefone"),
        (f"{p}[custom_fields][1][values][0][value]", phone),
        (f"{p}[custom_fields][1][values][0][enum]", "718321"),
        (f"{p}[custom_fields][1][code]", "PHONE"),
        (f"{p}[custom_fields][2][id]", "735651"),
        (f"{p}[custom_fields][2][name]", "Email"),
        (f"{p}[custom_fields][2][values][0][value]", email),
        (f"{p}[custom_fields][2][values][0][enum]", "718333"),
        (f"{p}[custom_fields][2][code]", "EMAIL"),
        (f"{p}[created_at]", "1748289231"),
        (f"{p}[updated_at]", "1748292937"),
        (f"{p}[type]", "contact"),
    ]


@pytest.fixture
def kapp(app_factory):
    app = app_factory(KOMMO_WEBHOOK_SECRET=TOKEN)
    with app.app_context():
        yield app


@pytest.fixture
def post(kapp):
    client = kapp.test_client()

    def send(body: bytes, token: str = TOKEN, headers=None):
        return client.post(f"/webhook/kommo/{token}", data=body, headers=headers or FORM)

    return send


def lead(remote_id: int) -> KommoLead | None:
    db.session.expire_all()
    return db.session.scalar(select(KommoLead).where(KommoLead.remote_id == remote_id))


def contact(remote_id: int) -> KommoContact | None:
    db.session.expire_all()
    return db.session.scalar(select(KommoContact).where(KommoContact.remote_id == remote_id))


def test_lead_add_creates_the_local_lead(post):
    resp = post(form(*lead_pairs("add", 32966269, status_id=76789230)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    row = lead(32966269)
    assert row is not None
    assert (row.name, row.price, row.status_id, row.pipeline_id) == (
        "Curso - Ana",
        997,
        76789230,
        9621010,
    )
    assert row.remote_updated_at == datetime.fromtimestamp(1748268700, UTC)
    assert not row.is_won
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    assert event.status == "processed" and event.kind == "crm"
    assert event.event_type == "leads.add"
    assert event.transaction_id == "lead:32966269"
    assert "leads%5Badd%5D" in event.raw_body  # the raw delivery is kept as received


def test_status_change_moves_an_existing_lead_and_keeps_its_contact(post):
    db.session.add(
        KommoLead(
            remote_id=10701093,
            name="Seminário",
            status_id=20067736,
            pipeline_id=9217056,
            status_name="Em negociação",
            pipeline_name="Funil",
            contact_id=555,
            remote_updated_at=datetime.fromtimestamp(1539782000, UTC),
        )
    )
    db.session.add(
        KommoLead(
            remote_id=1,
            name="outro",
            status_id=142,
            pipeline_id=9217056,
            status_name="Venda ganha",
            pipeline_name="Funil",
        )
    )
    db.session.commit()
    body = form(
        *lead_pairs(
            "status",
            10701093,
            name="Seminário",
            status_id=142,
            old_status_id=20067736,
            pipeline_id=9217056,
            last_modified=1539782664,
            updated_at=1615985846,
        )
    )
    assert post(body).status_code == 200
    row = lead(10701093)
    assert row.status_id == 142 and row.is_won
    assert row.status_name == "Venda ganha"  # named from the local copy of that status
    assert row.contact_id == 555  # a delivery never carries contacts: kept


def test_batched_delivery_updates_every_lead(post):
    body = form(
        *lead_pairs("status", 501, 0, status_id=143),
        *lead_pairs("status", 502, 1, status_id=142, name="Segundo"),
    )
    assert post(body).status_code == 200
    assert lead(501).is_lost and lead(502).is_won and lead(502).name == "Segundo"


def test_lead_update_and_delete(post):
    assert post(form(*lead_pairs("add", 900, price=100))).status_code == 200
    assert post(form(*lead_pairs("update", 900, price=250, updated_at=1748269000))).status_code
    assert lead(900).price == 250
    body = form(
        ("leads[delete][0][id]", "900"),
        ("leads[delete][0][status_id]", "142"),
        ("leads[delete][0][pipeline_id]", "9621010"),
    )
    assert post(body).status_code == 200
    assert lead(900) is None


def test_an_older_delivery_never_overwrites_a_newer_copy(post):
    assert post(form(*lead_pairs("update", 901, price=300, updated_at=1748269999))).status_code
    assert post(form(*lead_pairs("update", 901, price=1, updated_at=1748260000))).status_code
    assert lead(901).price == 300


def test_contact_add_update_delete(post):
    assert post(form(*contact_pairs("add", 37054081, "ana@example.com"))).status_code == 200
    row = contact(37054081)
    assert (row.name, row.email, row.phone) == ("Ana Souza", "ana@example.com", "+5511999990000")
    body = form(*contact_pairs("update", 37054081, "Ana.Nova@Example.com", "+5511888887777"))
    assert post(body).status_code == 200
    row = contact(37054081)
    assert row.email == "ana.nova@example.com" and row.phone == "+5511888887777"
    assert post(form(("contacts[delete][0][id]", "37054081"))).status_code == 200
    assert contact(37054081) is None


def test_a_company_is_not_kept_as_a_contact(post):
    body = form(
        ("contacts[add][0][id]", "77"),
        ("contacts[add][0][name]", "ACME"),
        ("contacts[add][0][type]", "company"),
    )
    resp = post(body)
    assert resp.status_code == 200 and resp.get_json()["status"] == "ignored"
    assert contact(77) is None


def test_wrong_or_missing_token_is_401_and_nothing_is_stored(post):
    body = form(*lead_pairs("add", 1234))
    for token in ("wrong-token", "x", TOKEN + "x"):
        resp = post(body, token=token)
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == "unauthorized"
    assert lead(1234) is None
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_no_secret_configured_is_a_clear_401(app_factory):
    app = app_factory()
    with app.app_context():
        resp = app.test_client().post(
            f"/webhook/kommo/{TOKEN}", data=form(*lead_pairs("add", 1)), headers=FORM
        )
        assert resp.status_code == 401
        assert "KOMMO_WEBHOOK_SECRET" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"leads": {"add": []}}',
        b"\xff\xfe not utf-8",
        b"",
        b"hello=world",
        b"a[=1&&&",
        b"leads" + b"[x]" * 1000 + b"=1",  # nested past any Kommo key: no RecursionError
    ],
)
def test_malformed_bodies_are_4xx_and_stored_for_reading(post, body):
    resp = post(body)
    assert 400 <= resp.status_code < 500, resp.status_code
    assert resp.get_json()["error"]["message"]
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    assert event is not None and event.status == "failed" and event.kind is None
    assert event.last_error


def test_a_malformed_delivery_is_readable_in_the_inbox(kapp, post):
    assert post(b"leads[add][0][id]=1&garbage").status_code == 400
    client = kapp.test_client()
    Auth(kapp, client).operator()
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    page = client.get(f"/webhooks/{event.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "garbage" in html and "formulário" in html


def test_the_same_delivery_twice_is_one_event(post):
    headers = {**FORM, "X-Amocrm-Requestid": "249d486e-b53a-465a-8fe2-f6cd830ad18a"}
    body = form(*lead_pairs("add", 950))
    assert post(body, headers=headers).get_json()["status"] == "accepted"
    assert post(body, headers=headers).get_json()["status"] == "duplicate"
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_background_worker_applies_a_stored_delivery(app_factory):
    from app import worker

    app = app_factory(KOMMO_WEBHOOK_SECRET=TOKEN, WEBHOOK_PROCESS_INLINE=False, WORKER_THREADS=0)
    with app.app_context():
        resp = app.test_client().post(
            f"/webhook/kommo/{TOKEN}", data=form(*lead_pairs("add", 960)), headers=FORM
        )
        assert resp.status_code == 200 and resp.get_json()["status"] == "accepted"
        assert lead(960) is None  # stored and answered; not applied yet
        assert worker.drain() >= 1
        assert lead(960) is not None


def test_inbox_and_kommo_page_show_the_change(kapp, post):
    assert post(form(*lead_pairs("add", 970, name="Lead do webhook"))).status_code == 200
    client = kapp.test_client()
    Auth(kapp, client).operator()
    inbox = client.get("/webhooks?platform=kommo").get_data(as_text=True)
    # the event code (leads.add) only on the event's page, under "Detalhes técnicos"
    assert "Kommo" in inbox and "Alteração no CRM" in inbox
    page = client.get("/kommo?aba=negocios").get_data(as_text=True)
    assert "Lead do webhook" in page
    assert "Registrar webhook no Kommo" in page
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.platform == "kommo"))
    detail = client.get(f"/webhooks/{event.id}").get_data(as_text=True)
    assert "leads[add][0][name] = Lead do webhook" in detail  # the form, decoded for reading
    replay = client.post(
        f"/webhooks/{event.id}/reprocessar",
        data={"csrf_token": _csrf(client, f"/webhooks/{event.id}")},
    )
    assert replay.status_code == 302
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).status == "processed"


def _csrf(client, path):
    from tests.conftest import csrf_token

    return csrf_token(client, path)


def test_the_secret_is_a_masked_field_on_the_settings_page(kapp):
    client = kapp.test_client()
    Auth(kapp, client).operator()
    page = client.get("/configuracoes").get_data(as_text=True)
    assert "KOMMO_WEBHOOK_SECRET" in page and "Token do webhook (entrada)" in page
    assert TOKEN not in page
    from app.services import settings as settings_service

    group, field = settings_service.FIELDS["KOMMO_WEBHOOK_SECRET"]
    assert group.platform == "kommo" and field.secret


def test_a_key_too_long_for_an_integer_is_a_readable_4xx_not_a_500(post):
    """``leads[add][<4,400 digits>][id]``: Python refuses to read so long a number (the
    4,300-digit limit); such a key is a name, not a list index."""
    body = form(("leads[add][" + "9" * 4400 + "][id]", "1"))
    resp = post(body)
    assert resp.status_code < 500
    assert db.session.scalar(select(func.count(WebhookEvent.id))) <= 1
