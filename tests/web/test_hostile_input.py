"""Hostile values answer a clear 4xx or are stored safely, never a 500 (issue 10).

NUL (refused by PostgreSQL text columns), lone surrogates (not encodable) and numbers past the
32/64-bit columns, through webhooks, forms, query strings, URL ids and JSON bodies.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivationLink, Sale, User, WebhookEvent
from tests.conftest import Auth, csrf_token, load_fixture

NUL = "Ma\u0000ria"
SURROGATES = ("Ma\ud800ria", "\udfff")
HUGE_INTS = (2**31, 2**63, 10**30)


def _set(body: dict, path: tuple[str, ...], value) -> dict:
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return body


def _last_event() -> WebhookEvent:
    db.session.rollback()
    return db.session.scalar(select(WebhookEvent).order_by(WebhookEvent.id.desc()))


# -- webhooks --------------------------------------------------------------------------------

FIELDS = {
    "hotmart": (
        "purchase_approved",
        [("data", "buyer", "name"), ("data", "purchase", "transaction"), ("id",)],
    ),
    "kiwify": (
        "order_approved",
        [("Customer", "full_name"), ("order_id",), ("webhook_event_type",)],
    ),
    "kirvano": ("sale_approved", [("customer", "name"), ("sale_id",), ("event",)]),
}


@pytest.mark.parametrize("platform", sorted(FIELDS))
@pytest.mark.parametrize("value", (NUL, *SURROGATES))
def test_nul_and_surrogates_beside_a_body_credential_are_stored(send_webhook, platform, value):
    """The credential redaction re-serializes the body: a lone surrogate must survive it."""
    fixture, paths = FIELDS[platform]
    for path in paths:
        body = _set(load_fixture(platform, fixture), path, value)
        body["hottok"] = body["token"] = "credential-in-the-body"
        response = send_webhook.raw(platform, json.dumps(body).encode())
        assert response.status_code in (200, 422), response.get_data(as_text=True)
        event = _last_event()
        assert "credential-in-the-body" not in event.raw_body
        assert json.loads(event.raw_body)  # still JSON, surrogates kept escaped
        if response.status_code == 200 and response.json["status"] == "accepted":
            assert event.status == "processed", event.last_error


@pytest.mark.parametrize(
    "platform,fixture,path",
    [
        ("hotmart", "purchase_approved_renewal", ("data", "purchase", "recurrence_number")),
        ("kirvano", "subscription_renewed", ("plan", "charge_number")),
        ("hotmart", "purchase_approved", ("data", "purchase", "price", "value")),
        ("hotmart", "purchase_approved", ("creation_date",)),
        ("kiwify", "order_approved", ("Commissions", "charge_amount")),
        ("kirvano", "sale_approved", ("total_price",)),
    ],
)
@pytest.mark.parametrize("value", HUGE_INTS)
def test_numbers_past_the_columns_are_processed_not_failed_forever(
    send_webhook, platform, fixture, path, value
):
    body = _set(load_fixture(platform, fixture), path, value)
    response = send_webhook.raw(platform, json.dumps(body).encode())
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    event = _last_event()
    assert event is not None and json.loads(event.raw_body)
    if response.status_code == 200 and response.json["status"] == "accepted":
        assert event.status == "processed", event.last_error


def test_recurrence_number_past_int32_is_kept_as_unknown(send_webhook):
    body = load_fixture("hotmart", "purchase_approved_renewal")
    body["data"]["purchase"]["recurrence_number"] = 2**31
    response = send_webhook.raw("hotmart", json.dumps(body).encode())
    assert response.status_code == 200 and response.json["status"] == "accepted"
    assert _last_event().status == "processed"
    sale = db.session.scalar(select(Sale))
    assert sale is not None and sale.recurrence_number is None


def test_column_guard_cleans_text_and_out_of_range_integers(app):
    sale = Sale(
        platform="hotmart",
        transaction_id="HP\x00-1",
        status="approved",
        buyer_name="Ana\ud800",
        recurrence_number=2**31,
        amount_cents=2**63,
    )
    db.session.add(sale)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Sale, sale.id)
    assert stored.transaction_id == "HP-1"
    assert stored.buyer_name == "Ana\ufffd"
    assert stored.recurrence_number is None and stored.amount_cents is None


# -- forms, query strings, ids, JSON ---------------------------------------------------------


def _post_form(client, path, data, page=None):
    data = {**data, "csrf_token": csrf_token(client, page or path)}
    return client.post(path, data=data)


@pytest.mark.parametrize("value", (NUL, "\x00"))
def test_nul_in_public_forms_is_400(app, client, value):
    Auth(app, client).create()
    for path, data in (
        ("/login", {"email": f"operador{value}@example.com", "password": "x"}),
        ("/login", {"email": "operador@example.com", "password": value}),
        ("/esqueci-senha", {"email": f"a{value}@example.com"}),
    ):
        response = _post_form(client, path, data)
        assert response.status_code == 400, (path, response.status_code)
        assert "caracteres inválidos" in response.get_data(as_text=True)


def test_nul_in_setup_form_is_400(client):
    response = _post_form(
        client,
        "/setup",
        {"name": NUL, "email": "a@example.com", "password": "x" * 12, "password_confirm": "x" * 12},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(User)) is None


def test_nul_in_signup_name_is_400_and_link_stays_pending(send_webhook, smtp_server):
    from tests.web.test_signup import link_path

    send_webhook("hotmart", "purchase_approved")
    path = link_path(smtp_server)
    client = send_webhook.client
    response = _post_form(
        client,
        path,
        {"name": NUL, "password": "senha-nova-123", "password_confirm": "senha-nova-123"},
    )
    assert response.status_code == 400
    link = db.session.scalar(select(ActivationLink))
    assert link.status == "pending"
    assert client.get(path + "%00").status_code in (400, 404)


def test_nul_in_member_profile_is_400(app, client):
    Auth(app, client).member()
    response = _post_form(client, "/conta/perfil", {"name": NUL}, page="/conta")
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.role == "member")).name == "Bia"


@pytest.mark.parametrize("value", ("%00", "a%00b", "%ED%A0%80"))
def test_nul_in_operator_searches_and_export_is_400(app, client, value):
    Auth(app, client).operator()
    for path in ("/ativacoes", "/vendas", "/webhooks", "/ativacoes/exportar.csv", "/relatorios"):
        response = client.get(f"{path}?q={value}")
        if value == "%ED%A0%80":  # invalid UTF-8 is decoded to U+FFFD: a plain search
            assert response.status_code == 200, path
        else:
            assert response.status_code == 400, path


def test_csv_export_is_complete_for_a_searched_term(send_webhook, smtp_server, app):
    send_webhook("hotmart", "purchase_approved")
    client = app.test_client()
    Auth(app, client).operator()
    response = client.get("/ativacoes/exportar.csv?q=maria")
    lines = response.get_data(as_text=True).strip().splitlines()
    assert response.status_code == 200 and len(lines) == 2


@pytest.mark.parametrize("big", ("2147483648", "9223372036854775808", "99999999999999999999"))
def test_ids_past_the_columns_are_404(app, client, big):
    Auth(app, client).operator()
    token = csrf_token(client, "/ativacoes")
    for path in (
        f"/vendas/{big}",
        f"/webhooks/{big}",
        f"/sincronizacoes/{big}/progresso",
        f"/api/sync-runs/{big}",
    ):
        assert client.get(path).status_code == 404, path
    for path in (f"/ativacoes/{big}/revogar", f"/webhooks/{big}/reprocessar"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    response = client.post(f"/api/sync-runs/{big}/cancel", headers={"X-CSRFToken": token})
    assert response.status_code == 404


def test_remote_64_bit_ids_still_route(app, client):
    Auth(app, client).operator()
    response = client.get(f"/api/kommo/contacts/{2**40}")
    assert response.status_code == 404 and response.json["success"] is False
    assert client.get(f"/api/kommo/deals/{2**63}").status_code == 404


@pytest.mark.parametrize(
    "payload",
    (
        '{"full": "a\\u0000b"}',
        '{"\\ud800": true}',
        "[" * 100_000 + "]" * 100_000,
    ),
)
def test_hostile_json_api_bodies_are_400(app, client, payload):
    Auth(app, client).operator()
    token = csrf_token(client, "/kommo")
    response = client.post(
        "/api/kommo/sync",
        data=payload,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["success"] is False


def test_nul_in_a_webhook_signature_is_a_bad_signature(send_webhook):
    raw = json.dumps(load_fixture("kiwify", "order_approved")).encode()
    response = send_webhook.client.post(
        "/webhook/kiwify?signature=%00", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401 and response.json["success"] is False
