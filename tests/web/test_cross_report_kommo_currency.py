"""Kommo lead prices are in the Kommo account's currency (``GET /api/v4/account``
``currency``, stored on each lead at sync): "Ganhos no Kommo sem venda" puts only reais in its
R$ column and shows any other currency apart, unconverted, with a note saying so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from app.extensions import db
from app.models import KommoContact, KommoLead
from tests.conftest import Auth
from tests.web.test_cross_reports import NOON, RANGE, _csv, api


def won(remote_id: int, contact_id: int, price: int | None, currency: str | None) -> None:
    db.session.add(
        KommoLead(
            remote_id=remote_id,
            name=f"Negócio {remote_id}",
            contact_id=contact_id,
            responsible_user_id=300,
            is_won=True,
            closed_at=NOON,
            price=price,
            currency=currency,
            last_sync_at=NOON,
        )
    )


@pytest.fixture
def operator(app, client):
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        Auth(app, client).operator()
        db.session.add(KommoContact(remote_id=1, name="Zé", email="ze@x.com"))
        won(21, 1, 1500, "USD")  # an account in dollars
        won(22, 1, 700, "BRL")
        won(23, 1, None, "USD")  # no price at all
        db.session.commit()
        yield client


def test_other_currencies_are_never_added_as_reais(operator):
    items = {i["lead_id"]: i for i in api(operator, "won-without-sale")["items"]}
    assert (items[21]["price_cents"], items[21]["currency"]) == (None, "USD")
    assert items[21]["price_other"] == "US$\xa01.500,00"
    assert (items[22]["price_cents"], items[22]["price_other"]) == (70000, None)
    assert (items[23]["price_cents"], items[23]["price_other"]) == (None, None)


def test_a_lead_synced_before_its_currency_was_stored_takes_the_accounts(operator):
    won(24, 1, 300, None)  # the latest synced lead says the account is in USD
    db.session.commit()
    items = {i["lead_id"]: i for i in api(operator, "won-without-sale")["items"]}
    assert (items[24]["price_cents"], items[24]["currency"]) == (None, "USD")


def test_page_and_csv_show_the_other_currency_apart(operator):
    response = operator.get("/relatorios/cruzados/ganho-sem-venda", query_string=RANGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Outra moeda" in html and "US$\xa01.500,00" in html
    assert "R$\xa01.500,00" not in html and "R$\xa0700,00" in html
    assert "sem conversão para reais" in html
    rows = _csv(operator, "ganho-sem-venda")
    header = rows[0]
    money, other = header.index("Valor no Kommo"), header.index("Outra moeda")
    by_lead = {row[0]: row for row in rows[1:]}
    assert by_lead["Negócio 21"][money] == "" and by_lead["Negócio 21"][other] == "US$\xa01.500,00"
    assert by_lead["Negócio 22"][money] == "700,00"
