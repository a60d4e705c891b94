"""Header sorts of /vendas, /ativacoes and /webhooks: whitelisted keys, both directions,
filters kept, every row once across numbered and keyset pages, junk never a 500."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from app import paging
from app.extensions import db
from app.models import ActivationLink, Sale, WebhookEvent
from app.models.types import utcnow

N = 17
PLATFORMS = ("hotmart", "kiwify", "kirvano")
STATUSES = ("approved", "refunded", "pending")


def _amount(i):
    return None if i % 5 == 0 else (i * 37) % 11 * 100  # repeats and gaps: ties and NULLs


@pytest.fixture
def operator(app, client, auth, monkeypatch):
    monkeypatch.setattr(paging, "MAX_OFFSET_PAGE", 2)
    auth.operator()
    now = utcnow()
    db.session.execute(
        insert(Sale),
        [
            {
                "platform": PLATFORMS[i % 3],
                "transaction_id": f"TX{i:03d}",
                "status": STATUSES[i % 3],
                "buyer_email": f"b{i}@example.com",
                "amount_cents": _amount(i),
                "currency": "BRL",
                "is_order_bump": False,
                "is_test": False,
                "source": "webhook",
                "approved_at": now - timedelta(hours=i),
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
                "buyer_email": f"c{(i * 7) % N:02d}@example.com",
                "platform": "hotmart",
                "status": "pending",
                "created_at": now - timedelta(hours=i),
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
                "platform": PLATFORMS[i % 3],
                "dedupe_key": f"D{i}",
                "transaction_id": f"EV{i:03d}",
                "raw_body": "{}",
                "headers": {},
                "status": ("processed", "failed")[i % 2],
                "received_at": now - timedelta(hours=i),
                "attempts": 1,
                "duplicates": 0,
            }
            for i in range(N)
        ],
    )
    db.session.commit()
    return client


def _next(body):
    for href, label in re.findall(r'<a class="page-link" href="([^"]+)">([^<]+)</a>', body):
        if label == "Próxima" and href != "#":
            return html.unescape(href)
    return None


def _walk(client, url, pattern):
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        seen += re.findall(pattern, body)
        url = _next(body)
        pages += 1
        assert pages < 40
    return list(dict.fromkeys(seen)), body


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sales_by_amount_every_row_once_in_order(operator, monkeypatch, direction):
    from app.sales_pages import routes

    monkeypatch.setattr(routes, "PER_PAGE", 3)
    seen, _ = _walk(operator, f"/vendas?ordem=valor&dir={direction}", r"TX\d{3}")
    assert len(seen) == N  # keyset pages past page 2: sales without an amount included
    amounts = [_amount(int(tx[2:])) or 0 for tx in seen]
    assert amounts == sorted(amounts, reverse=direction == "desc")


def test_sort_keeps_filters_and_shows_the_arrow(operator, monkeypatch):
    from app.sales_pages import routes

    monkeypatch.setattr(routes, "PER_PAGE", 3)
    body = operator.get("/vendas?platform=kiwify&ordem=valor&dir=asc").get_data(as_text=True)
    header = re.search(r'<th[^>]*data-sort-key="valor"[^>]*>.*?</th>', body, re.S)[0]
    assert 'aria-sort="ascending"' in header and "▲" in header
    flip = html.unescape(re.search(r'href="([^"]+)"', header)[1])
    assert "dir=desc" in flip and "platform=kiwify" in flip
    # Pages keep both the filter and the sort.
    assert "platform=kiwify" in _next(body) and "ordem=valor" in _next(body)
    seen, _ = _walk(operator, "/vendas?platform=kiwify&ordem=valor&dir=asc", r"TX\d{3}")
    assert {int(tx[2:]) % 3 for tx in seen} == {1}


@pytest.mark.parametrize(
    "path, key, pattern, value",
    [
        ("/vendas", "origem", r"TX(\d{3})", lambda i: PLATFORMS[i % 3]),
        ("/vendas", "status", r"TX(\d{3})", lambda i: STATUSES[i % 3]),
        ("/vendas", "data", r"TX(\d{3})", lambda i: -i),
        ("/ativacoes", "comprador", r"c(\d{2})@example", lambda i: i),
        ("/webhooks", "plataforma", r"EV(\d{3})", lambda i: PLATFORMS[i % 3]),
        ("/webhooks", "status", r"EV(\d{3})", lambda i: ("processed", "failed")[i % 2]),
        ("/webhooks", "recebido", r"EV(\d{3})", lambda i: -i),
    ],
)
def test_each_sort_key_orders_every_page(operator, monkeypatch, path, key, pattern, value):
    import importlib

    module = importlib.import_module(
        {"/vendas": "app.sales_pages.routes", "/ativacoes": "app.activations.routes"}.get(
            path, "app.inbox.routes"
        )
    )
    monkeypatch.setattr(module, "PER_PAGE", 4)
    for direction in ("asc", "desc"):
        seen, _ = _walk(operator, f"{path}?ordem={key}&dir={direction}", pattern)
        assert len(seen) == N
        values = [value(int(s)) for s in seen]
        assert values == sorted(values, reverse=direction == "desc"), (key, direction)


@pytest.mark.parametrize("path", ["/vendas", "/ativacoes", "/webhooks"])
@pytest.mark.parametrize(
    "query",
    [
        "ordem=amount_cents&dir=asc",
        "ordem=id;drop table sales&dir=desc",
        "ordem=valor&dir=sideways",
        "ordem[]=x",
        "dir=" + "a" * 5000,
        "ordem=valor&dir=asc&apos=bm90LWEtY3Vyc29y",
        "ordem=status&apos=W3sidCI6IjIwMjYtMTItMDFUMDA6MDA6MDArMDA6MDAifSwxXQ",
    ],
)
def test_bad_sort_values_fall_back_never_500(operator, path, query):
    response = operator.get(f"{path}?{query}")
    assert response.status_code == 200
