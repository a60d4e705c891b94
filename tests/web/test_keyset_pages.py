"""Lists paged at size: numbered pages first, then cursors ("Próxima"/"Anterior"), the last
page, counts capped when no summary knows the total, and junk cursors never a 500."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app import paging
from app.extensions import db
from app.models import ActivationLink, Sale, WebhookEvent
from app.models.types import utcnow

N = 23


@pytest.fixture
def operator(app, client, auth, monkeypatch):
    monkeypatch.setattr(paging, "MAX_OFFSET_PAGE", 2)
    auth.operator()
    now = utcnow()
    db.session.execute(
        insert(Sale),
        [
            {
                "platform": "hotmart",
                "transaction_id": f"TX{i:03d}",
                "status": "approved",
                "buyer_email": f"b{i}@example.com",
                "amount_cents": 1000,
                "currency": "BRL",
                "is_order_bump": False,
                "is_test": False,
                "source": "webhook",
                # Pairs share a time: the id breaks the tie.
                "approved_at": now - timedelta(hours=i // 2),
                "created_at": now,
                "updated_at": now,
            }
            for i in range(N)
        ],
    )
    sale_ids = db.session.scalars(select(Sale.id).order_by(Sale.transaction_id)).all()
    db.session.execute(
        insert(ActivationLink),
        [
            {
                "token_hash": f"{i:064d}",
                "sale_id": sale_ids[i],
                "buyer_email": f"b{i}@example.com",
                "platform": "hotmart",
                "status": "pending",
                "created_at": now - timedelta(hours=i // 2),
                "expires_at": now + timedelta(days=7),
                "open_count": 0,
            }
            for i in range(N)
        ],
    )
    db.session.execute(
        insert(WebhookEvent),
        [
            {
                "platform": "hotmart",
                "dedupe_key": f"D{i}",
                "transaction_id": f"EV{i:03d}",
                "raw_body": "{}",
                "headers": {},
                "status": "processed",
                "received_at": now - timedelta(hours=i // 2),
                "attempts": 1,
                "duplicates": 0,
            }
            for i in range(N)
        ],
    )
    db.session.commit()
    return client


def _links(page_html: str) -> dict[str, str]:
    found = {}
    for href, label in re.findall(r'<a class="page-link" href="([^"]+)">([^<]+)</a>', page_html):
        found[label] = html.unescape(href)
    return found


def _walk(client, path, per_page, pattern, monkeypatch, module):
    monkeypatch.setattr(module, "PER_PAGE", per_page)
    seen, url, pages = [], path, 0
    while url and url != "#":
        body = client.get(url).get_data(as_text=True)
        seen += re.findall(pattern, body)
        url = _links(body).get("Próxima")
        pages += 1
        assert pages < 50
    return seen, body


@pytest.mark.parametrize(
    "path, pattern, module_name",
    [
        ("/vendas", r"TX\d{3}", "app.sales_pages.routes"),
        ("/ativacoes", r"b(\d+)@example\.com", "app.activations.routes"),
        ("/webhooks", r"EV\d{3}", "app.inbox.routes"),
    ],
)
def test_every_row_once_forward_and_back(operator, monkeypatch, path, pattern, module_name):
    import importlib

    module = importlib.import_module(module_name)
    seen, last_body = _walk(operator, path, 4, pattern, monkeypatch, module)
    unique = list(dict.fromkeys(seen))
    assert len(unique) == N
    # Walk back from the last page with "Anterior": the same rows in reverse page order.
    back, url = [], _links(last_body).get("Anterior")
    while url and url != "#":
        body = operator.get(url).get_data(as_text=True)
        back = list(dict.fromkeys(re.findall(pattern, body))) + back
        url = _links(body).get("Anterior")
    last_rows = list(dict.fromkeys(re.findall(pattern, last_body)))
    assert list(dict.fromkeys(back + last_rows)) == unique
    # "Última": the final rows, in order.
    first = operator.get(path).get_data(as_text=True)
    final = operator.get(_links(first)["Última"]).get_data(as_text=True)
    assert list(dict.fromkeys(re.findall(pattern, final))) == unique[-(N % 4 or 4) :]


def test_a_cursor_url_keeps_showing_the_same_rows(operator, monkeypatch):
    from app.sales_pages import routes

    monkeypatch.setattr(routes, "PER_PAGE", 4)
    body = operator.get("/vendas?page=2").get_data(as_text=True)
    cursor_url = _links(body)["Próxima"]
    assert "apos=" in cursor_url and "page=" not in cursor_url
    before = re.findall(r"TX\d{3}", operator.get(cursor_url).get_data(as_text=True))
    db.session.add(
        Sale(platform="hotmart", transaction_id="TXNEW", status="approved", approved_at=utcnow())
    )
    db.session.commit()
    after = re.findall(r"TX\d{3}", operator.get(cursor_url).get_data(as_text=True))
    assert after == before


@pytest.mark.parametrize(
    "query",
    [
        "apos=%%%",
        "apos=bm90LWpzb24",
        "antes=WzEsMiwzXQ",
        "apos=W251bGwsMV0",
        "apos=W3sidCI6Im5vcGUifSwxXQ",
        "apos=" + "A" * 5000,
        "apos=WyJ4IiwxXQ",  # ["x", 1]: a string where the date goes
        "apos=WzEsMV0",  # [1, 1]: a number where the date goes
        "apos=W3siZCI6IjIwMjYtMDEtMDEifSwxXQ",  # a date where a date and time goes
        # an id of 2**63, one past the largest BIGINT
        "apos=W3sidCI6IjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAifSw5MjIzMzcyMDM2ODU0Nzc1ODA4XQ",
        "fim=abc",
        "page=999999999",
    ],
)
@pytest.mark.parametrize("path", ["/vendas", "/ativacoes", "/webhooks", "/kommo", "/gestao-click"])
def test_malformed_cursors_fall_back_to_the_first_page(operator, path, query):
    response = operator.get(f"{path}?{query}")
    assert response.status_code == 200


def test_counts_are_capped_without_a_summary(operator, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    body = operator.get("/ativacoes").get_data(as_text=True)
    assert "mais de 10 registros" in body
    # /vendas without a search knows its exact total from the summary.
    assert f"{N} registros" in operator.get("/vendas").get_data(as_text=True)
    assert "mais de 10 registros" in operator.get("/vendas?q=example").get_data(as_text=True)


def test_kommo_pages_put_undated_contacts_last(app, client, auth, monkeypatch):
    from app.dashboard import kommo_page
    from app.models import KommoContact

    monkeypatch.setattr(kommo_page, "PER_PAGE", 4)
    auth.operator()
    now = utcnow()
    db.session.execute(
        insert(KommoContact),
        [
            {
                "remote_id": 500 + i,
                "name": f"Pessoa{i:02d}",
                "remote_updated_at": None if i % 3 == 0 else now - timedelta(hours=i // 2),
            }
            for i in range(14)
        ],
    )
    db.session.commit()
    expected = [
        c.name
        for c in db.session.scalars(
            select(KommoContact).order_by(
                KommoContact.remote_updated_at.desc().nulls_last(), KommoContact.id.desc()
            )
        )
    ]
    seen = []
    for page in range(1, 6):
        body = client.get(f"/kommo?page={page}").get_data(as_text=True)
        seen += re.findall(r"Pessoa\d{2}", body)
    assert list(dict.fromkeys(seen)) == expected
