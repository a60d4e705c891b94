"""Cross reports of /relatorios (issue 16): each report's numbers on a small known dataset
(matching by e-mail and phone through customer_keys, test sales left out, the date range's
edges in São Paulo time), the JSON API's shape, the CSV's formula safety and login."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine

from app.extensions import db
from app.formatting import platform_label
from app.models import KommoContact, KommoLead, Sale
from tests.conftest import Auth

DAY = "2026-11-10"  # the report range: this one São Paulo day (UTC-3)
RANGE = {"periodo": "personalizado", "de": DAY, "ate": DAY}
NOON = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
FIRST_MINUTE = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)  # 00:00 in São Paulo
LAST_MINUTE = datetime(2026, 11, 11, 2, 59, 59, tzinfo=UTC)  # 23:59:59 in São Paulo
BEFORE = datetime(2026, 11, 10, 2, 59, 59, tzinfo=UTC)  # 23:59:59 of the day before
AFTER = datetime(2026, 11, 11, 3, 0, tzinfo=UTC)  # 00:00 of the day after


def sale(tx, email, cents, *, status="approved", at=NOON, platform="hotmart", **extra):
    extra.setdefault("product_name", "Curso A")
    extra.setdefault("payment_method", "pix")
    db.session.add(
        Sale(
            platform=platform,
            transaction_id=tx,
            status=status,
            buyer_email=email,
            amount_cents=cents,
            currency="BRL",
            ordered_at=at,
            approved_at=at if status != "pending" else None,
            status_at=at,
            **extra,
        )
    )


def contact(remote_id, responsible=None, **fields):
    db.session.add(
        KommoContact(
            remote_id=remote_id,
            name=f"Contato {remote_id}",
            responsible_user_id=responsible,
            **fields,
        )
    )


def lead(remote_id, contact_id, responsible, *, won=True, closed=NOON, price=100):
    db.session.add(
        KommoLead(
            remote_id=remote_id,
            name=f"Negócio {remote_id}",
            contact_id=contact_id,
            responsible_user_id=responsible,
            is_won=won,
            closed_at=closed,
            price=price,
        )
    )


@pytest.fixture
def operator(app, client):
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        Auth(app, client).operator()
        # Kommo: Ana by e-mail (contact owner 100, her won lead's owner 200); Carlos's
        # contact has only a phone; Zé and the test buyer's contact bought nothing real.
        contact(1, 100, email="Ana@Example.com")
        contact(2, 900, phone="+55 11 98888-7777")
        contact(3, 300, email="zé@x.com")
        contact(4, 300, email="teste@x.com")
        lead(11, 1, 200)
        lead(12, 2, 300)
        lead(13, 3, 300, closed=datetime(2026, 11, 10, 16, 0, tzinfo=UTC), price=500)
        lead(14, 4, 300, closed=datetime(2026, 11, 10, 15, 30, tzinfo=UTC))
        lead(15, 999, None, closed=datetime(2026, 11, 10, 14, 0, tzinfo=UTC))  # no contact
        lead(16, 3, 300, won=False)  # open: never a won lead
        lead(17, 3, 300, closed=BEFORE)  # won the day before
        sale("S1", "ANA@example.com", 10000, utm_source="google", utm_campaign="bf")
        sale(
            "S2",
            "carlos@x.com",
            5000,
            platform="kiwify",
            buyer_phone="(11) 98888-7777",
            src="insta",
            product_name="Curso B",
            payment_method="credit_card",
        )
        sale("S3", "dani@x.com", 3000, buyer_document="123.456.789-09")
        sale("S4", "Dani@x.com", 2000)
        sale("S5", "teste@x.com", 99900, is_test=True, utm_source="google")
        sale(
            "S6",
            "carlos2@x.com",
            7000,
            status="refunded",
            platform="kiwify",
            utm_source="google",
            utm_campaign="bf",
        )
        sale("S7", "eve@x.com", 4000, status="chargeback")
        sale("S8", "frank@x.com", 1000, status="pending", utm_source="google", utm_campaign="bf")
        sale("S9", "gina@x.com", 100, at=FIRST_MINUTE)
        sale("S10", "hugo@x.com", 100, at=BEFORE)
        sale("S11", "ivan@x.com", 200, at=LAST_MINUTE)
        sale("S12", "joao@x.com", 100, at=AFTER)
        db.session.commit()
        yield client


def api(client, name, **args):
    response = client.get(f"/api/reports/{name}", query_string={**RANGE, **args})
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["success"] is True and isinstance(body["items"], list)
    assert isinstance(body["total"], int) and body["period"]["start"] == DAY
    return body


def test_one_matched_sale_puts_the_buyer_in_the_crm(operator):
    # Carlos's first sale carries the phone of a Kommo contact; his second carries none: he
    # is in the CRM (one person), and the chart counts him once, in "No CRM".
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        sale("S13", "carlos@x.com", 800, platform="kiwify")
        db.session.commit()
        body = api(operator, "not-in-crm")
    assert "carlos@x.com" not in [i["buyer_email"] for i in body["items"]]
    chart = body["chart"]
    kiwify = chart["labels"].index("Kiwify")
    by_label = {d["label"]: d["data"][kiwify] for d in chart["datasets"]}
    assert by_label == {"Fora do CRM": 0, "No CRM": 1}


def test_bought_but_not_in_the_crm(operator):
    body = api(operator, "not-in-crm")
    # Ana (e-mail, any case) and Carlos (phone only) are Kommo contacts; Dani's two sales are
    # one buyer; the first and last São Paulo minute count, the minutes around them do not;
    # the test sale never counts.
    assert [(i["buyer_email"], i["sales"], i["amount_cents"]) for i in body["items"]] == [
        ("ivan@x.com", 1, 200),
        ("dani@x.com", 2, 5000),
        ("gina@x.com", 1, 100),
    ]
    assert body["total"] == 3
    assert body["items"][1]["customer_key"] == "email:dani@x.com"
    chart = body["chart"]
    assert chart["labels"] == ["Hotmart", "Kiwify"]
    assert [ds["data"] for ds in chart["datasets"]] == [[3, 0], [1, 1]]  # out / in the CRM


def test_won_in_kommo_without_a_sale(operator):
    body = api(operator, "won-without-sale")
    # Ana's and Carlos's (phone) leads have sales; Zé's has none, the test buyer's only a
    # test sale, lead 15 no contact at all. Open leads and the day before are left out.
    assert [i["lead_id"] for i in body["items"]] == [13, 14, 15]
    assert (
        body["items"][0]["price_cents"] == 50000
        and body["items"][0]["responsible"] == "Usuário 300"
    )
    assert body["total"] == 3


def test_revenue_per_kommo_responsible(operator):
    items = api(operator, "revenue-by-responsible")["items"]
    # Ana's sale goes to her won lead's owner (200, not the contact's 100), Carlos's (by
    # phone) to 300; the rest is outside the CRM. Approved only, tests out.
    assert [(i["responsible"], i["sales"], i["amount_cents"]) for i in items] == [
        ("Usuário 200", 1, 10000),
        ("Fora do CRM", 4, 5300),
        ("Usuário 300", 1, 5000),
    ]
    assert items[0]["share"] == pytest.approx(10000 / 20300)
    assert items[1]["average_cents"] == 1325


def test_revenue_and_conversion_per_utm_origin(operator):
    items = api(operator, "by-utm")["items"]
    rows = [
        (i["source"], i["campaign"], i["sales"], i["approved"], i["amount_cents"]) for i in items
    ]
    assert rows == [
        ("google", "bf", 3, 1, 10000),  # approved, refunded, pending; the test sale left out
        (None, None, 5, 4, 5300),  # S3, S4, S7 (chargeback), S9, S11
        ("insta", None, 1, 1, 5000),  # Hotmart/Kiwify src when there is no utm_source
    ]
    assert items[0]["conversion"] == pytest.approx(1 / 3)


def test_revenue_per_platform_product_and_payment(operator):
    items = api(operator, "by-product")["items"]
    assert [
        (i["platform"], i["product_name"], i["payment_method"], i["sales"], i["amount_cents"])
        for i in items
    ] == [("hotmart", "Curso A", "pix", 5, 15300), ("kiwify", "Curso B", "credit_card", 1, 5000)]
    assert items[1]["payment_label"] == "Cartão de crédito"
    chart = api(operator, "by-product")["chart"]
    assert chart["labels"] == ["Hotmart", "Kiwify"]


def test_refund_and_chargeback_rates(operator):
    items = {i["platform"]: i for i in api(operator, "refunds")["items"]}
    assert set(items) == {"hotmart", "kiwify"}
    hotmart, kiwify = items["hotmart"], items["kiwify"]
    assert (hotmart["month"], hotmart["paid"], hotmart["chargeback"]) == ("2026-11", 6, 1)
    assert hotmart["chargeback_rate"] == pytest.approx(1 / 6) and hotmart["lost_cents"] == 4000
    assert (kiwify["paid"], kiwify["refunded"], kiwify["refund_rate"]) == (2, 1, 0.5)
    assert kiwify["lost_cents"] == 7000


def test_paging_of_the_api_and_the_full_page(operator):
    first = api(operator, "not-in-crm", limit=2)
    second = api(operator, "not-in-crm", limit=2, page=2)
    assert [i["buyer_email"] for i in first["items"] + second["items"]] == [
        "ivan@x.com",
        "dani@x.com",
        "gina@x.com",
    ]
    assert first["total"] == second["total"] == 3 and first["pagination"]["pageCount"] == 2
    assert operator.get("/api/reports/not-in-crm", query_string={"limit": "x"}).status_code == 400
    page = operator.get("/relatorios/cruzados/comprou-fora-do-crm", query_string=RANGE)
    assert page.status_code == 200
    assert "dani@x.com" in page.text and "R$\xa050,00" in page.text
    assert operator.get("/relatorios/cruzados/nada").status_code == 404


def test_relatorios_shows_every_cross_report(operator):
    page = operator.get("/relatorios", query_string=RANGE).text
    for title in (
        "Compraram, mas não estão no CRM",
        "Ganhos no Kommo sem venda",
        "Receita por responsável no Kommo",
        "Receita e conversão por origem (UTM)",
        "Receita por plataforma, produto e forma de pagamento",
        "Taxa de reembolsos e chargebacks",
    ):
        assert title in page
    assert "R$\xa0100,00" in page  # Ana's sale under Usuário 200


def _csv(client, slug):
    response = client.get(f"/relatorios/cruzados/{slug}.csv", query_string=RANGE)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";"))


def test_csv_has_the_table_in_reais(operator):
    rows = _csv(operator, "receita-por-responsavel")
    assert rows[0] == ["Responsável", "Vendas", "Receita", "Ticket médio", "Parte da receita"]
    assert rows[1] == ["Usuário 200", "1", "100,00", "100,00", "49,3"]


def test_csv_neutralizes_formulas(operator):
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        for i, value in enumerate(('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx")):
            sale(f"F{i}", f"f{i}@x.com", 10 + i, utm_source=value)
        db.session.commit()
    sources = [row[0] for row in _csv(operator, "por-origem")[1:]]
    for value in ('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert "'" + value in sources
    assert not any(s[:1] in ("=", "+", "-", "@", "\t", "\r") for s in sources)


def test_login_and_operator_required(app, client):
    auth = Auth(app, client)
    auth.create()
    for path in (
        "/api/reports/not-in-crm",
        "/api/reports/not-in-crm?after=lixo",
        "/api/reports/won-without-sale?before=lixo&limit=3",
        "/relatorios/cruzados/reembolsos",
        "/relatorios/cruzados/reembolsos.csv",
    ):
        assert client.get(path).status_code in (302, 401)
    auth.create(email="membro@example.com", role="member", name="Bia")
    assert auth.login(email="membro@example.com").status_code == 302
    assert client.get("/api/reports/refunds").status_code == 403
    assert client.get("/relatorios/cruzados/reembolsos.csv").status_code == 403


def test_a_contact_without_leads_gives_its_own_responsible(operator):
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        contact(5, 555, email="lia@x.com")
        contact(6, None, email="rui@x.com")
        sale("L1", "lia@x.com", 700)
        sale("R1", "rui@x.com", 800)
        db.session.commit()
    items = {i["responsible"]: i for i in api(operator, "revenue-by-responsible")["items"]}
    assert items["Usuário 555"]["amount_cents"] == 700
    assert items["No CRM, sem responsável"]["amount_cents"] == 800
    assert operator.get("/api/reports/nada").status_code == 404


@pytest.mark.parametrize("window", [1, 4])
def test_not_in_crm_pages_equal_the_grouped_definition(operator, app, monkeypatch, window):
    """The walk (a page at a time, the CSV by cursor) and the one-scan total and chart give
    exactly what grouping every buyer of the range gives: ties on the last purchase, buyers
    with several sales (one matched by phone), sales without an e-mail, other platforms.
    With a candidate window of one sale per row needed, the window has to grow (most buyers
    have several sales) before it holds a page's edge."""
    from app.services import charts
    from app.services import cross_reports as cr

    monkeypatch.setattr(cr.people, "WALK_WINDOW", window)

    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        contact(50, None, phone="+55 11 97777-0000")
        for i in range(24):
            at = datetime(2026, 11, 10, 4 + i % 5, 0, tzinfo=UTC)  # ties every 5 buyers
            email = f"Buyer{i % 9}@x.com" if i % 4 else ("" if i % 8 else None)
            platform = ("hotmart", "kiwify", "kirvano")[i % 3]
            phone = "(11) 97777-0000" if i == 7 else None
            sale(f"P{i}", email, 100 + i, at=at, platform=platform, buyer_phone=phone)
        db.session.commit()
    report = cr.REPORTS["comprou-fora-do-crm"]
    with app.test_request_context():
        period = charts.from_args(RANGE)
        expected = [report.row(r) for r in db.session.execute(report.query(period))]
        assert len(expected) > 8
        assert report.total(period) == len(expected)
        for offset, limit in ((0, 50), (0, 3), (3, 4), (7, 5), (len(expected) - 1, 5)):
            assert report.rows(period, offset, limit) == expected[offset : offset + limit]
        assert list(report.all_rows(period, chunk=4)) == expected
        # the page's lower bound found in the candidate window is the walk's own
        walk, pool = cr._not_in_crm_walk(period), cr._not_in_crm_walk(period, candidates=True)
        index_order = (Sale.listed_at.desc(), Sale.id.desc())
        for needed in range(1, len(expected) + 2):
            plain = walk.with_only_columns(Sale.listed_at).order_by(*index_order)
            plain = db.session.scalar(plain.offset(needed - 1).limit(1))
            assert cr._not_in_crm_edge(walk, pool, needed, index_order) == plain, needed
        # the chart: each buyer once per platform, in the CRM when any sale there matched
        people: dict = {}
        for s in db.session.scalars(
            db.select(Sale).where(Sale.is_test.is_(False), Sale.status == "approved")
        ):
            if not (
                s.listed_at >= period.since and (period.until is None or s.listed_at < period.until)
            ):
                continue
            key = (s.platform, (s.buyer_email or "").lower() or f"sale:{s.id}")
            people[key] = people.get(key, False) or s.crm_matched
        chart = report.chart(period)
        platforms = sorted({p for p, _ in people})
        assert chart["labels"] == [platform_label(p) for p in platforms]
        for column, platform in enumerate(platforms):
            out = sum(1 for (p, _), m in people.items() if p == platform and not m)
            inside = sum(1 for (p, _), m in people.items() if p == platform and m)
            assert [d["data"][column] for d in chart["datasets"]] == [out, inside]


# --- keyset pages and the CSV at size (issue 16: every page and export costs what the first
# rows do) ---------------------------------------------------------------------------------

KEYSET = ("comprou-fora-do-crm", "ganho-sem-venda")
FORMULAS = ('=HYPERLINK("x")', "+1", "-2", "@SUM(A1)")


@pytest.fixture
def crowd(operator):
    """More rows than a chunk of 3 in each keyset report, in runs of equal sort keys: buyers
    out of the CRM sharing a last purchase (some without an e-mail, one name a formula) and
    won leads without a sale sharing a closing time (names formulas too)."""
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        for i in range(17):
            at = datetime(2026, 11, 10, 5 + i % 3, 0, tzinfo=UTC)  # runs of ties
            email = None if i % 6 == 5 else f"tie{i % 14}@x.com"
            if i % 5 == 0 and email:
                email = f"formula{i}@x.com"  # the buyer's only sale: their name as given
            name = FORMULAS[i % 4] if i % 5 == 0 else f"Pessoa {i}"
            sale(f"T{i}", email, 100 + i, at=at, buyer_name=name)
        for i in range(16):
            closed = datetime(2026, 11, 10, 10 + i % 2, 0, tzinfo=UTC)
            lead(100 + i, 800 + i, None, closed=closed, price=10 + i)  # no such contact
        db.session.commit()
        for i, value in enumerate(FORMULAS):
            db.session.execute(
                db.update(KommoLead).where(KommoLead.remote_id == 100 + 4 * i).values(name=value)
            )
        db.session.commit()
    return operator


def _direct(app, slug):
    """The report's rows as its one grouped SELECT gives them (the definition)."""
    from app.services import charts
    from app.services import cross_reports as cr

    report = cr.REPORTS[slug]
    with app.test_request_context():
        period = charts.from_args(RANGE)
        return report, period, [report.row(r) for r in db.session.execute(report.query(period))]


@pytest.mark.parametrize("slug", KEYSET)
def test_keyset_walk_crosses_chunks_of_ties_without_skipping_or_repeating(crowd, app, slug):
    report, period, expected = _direct(app, slug)
    assert len(expected) > 12
    keys = [r.key for r in expected]
    assert len(set(keys)) == len(keys) and len({k[0] for k in keys}) < len(keys) / 2  # ties
    with app.test_request_context():
        for chunk in (1, 2, 3, 5, 1000):
            assert list(report.all_rows(period, chunk=chunk)) == expected
        for i in range(1, len(expected)):  # after and before every row, ties included
            assert report.page(period, 0, 3, expected[i - 1].key) == expected[i : i + 3]
            before = report.page(period, 0, 3, expected[i].key, True)
            assert before == expected[max(0, i - 3) : i][::-1]
        assert report.page(period, 0, 3, expected[-1].key) == []
        assert report.page(period, 0, 4, None, True) == expected[-4:][::-1]


def test_grouped_reports_csv_reads_their_one_select_in_chunks(crowd, app):
    from app.services import cross_reports as cr

    for slug, report in cr.REPORTS.items():
        if report.page is not None:
            continue
        _, period, expected = _direct(app, slug)
        assert len(expected) > 1, slug
        with app.test_request_context():
            assert list(report.all_rows(period, chunk=1)) == expected, slug
            assert list(report.all_rows(period, chunk=2)) == expected, slug


@pytest.mark.parametrize("slug", ["comprou-fora-do-crm", "ganho-sem-venda", "por-origem"])
def test_csv_across_chunks_is_the_table_computed_directly(crowd, app, monkeypatch, slug):
    """Byte for byte what the rows of the grouped SELECT give (the export before keyset),
    read 2 rows at a time, formulas neutralized."""
    from app.csv_export import safe_cell
    from app.services import cross_reports as cr

    monkeypatch.setattr(cr.base, "CSV_CHUNK", 2)
    report, _, expected = _direct(app, slug)
    assert len(expected) > 2
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([c.label for c in report.columns])
    for row in expected:
        writer.writerow([safe_cell(cr.csv_value(c, row.get(c.key))) for c in report.columns])
    response = crowd.get(f"/relatorios/cruzados/{slug}.csv", query_string=RANGE)
    assert response.status_code == 200
    assert response.data == ("\ufeff" + buffer.getvalue()).encode()
    if slug in KEYSET:
        cells = [cell for line in _csv(crowd, slug)[1:] for cell in line]
        for value in FORMULAS:
            assert "'" + value in cells
        assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)


def _table(html: str) -> list[str]:
    """The rows of the page's table as text, one string per row."""
    import html as html_lib
    import re

    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        " | ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells)
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S) for tr in body.split("<tr>")[1:])
    ]


def _link(html: str, label: str) -> str | None:
    import html as html_lib
    import re

    for href, text in re.findall(r'<a class="page-link" href="([^"]+)">([^<]+)</a>', html):
        if text.strip() == label and href != "#":
            return html_lib.unescape(href)
    return None


@pytest.mark.parametrize("slug", KEYSET)
def test_full_report_pages_go_by_cursor_both_ways(crowd, app, monkeypatch, slug):
    from app.paging import encode_cursor
    from app.reports import cross

    monkeypatch.setattr(cross, "PER_PAGE", 3)
    report, _, rows = _direct(app, slug)
    with app.test_request_context():
        expected = [" | ".join(report.cell(c, r[c.key]) for c in report.columns) for r in rows]
    url = f"/relatorios/cruzados/{slug}"
    first = crowd.get(url, query_string=RANGE).text
    assert _table(first) == expected[:3] and _link(first, "Anterior") is None
    seen, html, pages = [], first, []
    while True:  # "Próxima" to the end
        seen += _table(html)
        pages.append(html)
        href = _link(html, "Próxima")
        if href is None:
            break
        assert "apos=" in href and "page=" not in href
        html = crowd.get(href).text
    assert seen == expected and len(pages) == -(-len(expected) // 3)
    back = []
    while True:  # and "Anterior" back to the first page
        back = _table(html) + back
        href = _link(html, "Anterior")
        if href is None:
            break
        assert "antes=" in href
        html = crowd.get(href).text
    assert back == expected and _table(html) == expected[:3]
    last = crowd.get(_link(first, "Última")).text
    assert _table(last) == expected[-(len(expected) % 3 or 3) :]
    assert _link(last, "Próxima") is None and _link(last, "Primeira")
    # a bookmark of a numbered page still opens that page; past the end, the last one
    assert _table(crowd.get(url, query_string={**RANGE, "page": 2}).text) == expected[3:6]
    beyond = crowd.get(url, query_string={**RANGE, "page": 999}).text
    assert _table(beyond) == expected[(len(pages) - 1) * 3 :]
    # a cursor that cannot be read (or of the wrong kinds) opens the first page, never a 500
    at = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
    wrong = [encode_cursor([1, 2]), encode_cursor(["x", "y", 3]), encode_cursor([at, 2.5])]
    wrong += [encode_cursor([at, 7 if slug == KEYSET[0] else "7"]), encode_cursor(["x", "y"])]
    for bad in ("lixo", "%%%", "W10", *wrong):
        for name in ("apos", "antes"):
            response = crowd.get(url, query_string={**RANGE, name: bad})
            assert response.status_code == 200
            assert _table(response.text) == expected[:3]


API_KEYSET = {"not-in-crm": KEYSET[0], "won-without-sale": KEYSET[1]}


def _api_get(client, name, **args):
    return client.get(f"/api/reports/{name}", query_string={**RANGE, **args})


@pytest.mark.parametrize("name", API_KEYSET)
def test_api_walks_keyset_reports_by_cursor_both_ways(crowd, app, monkeypatch, name):
    """The JSON API's ``cursor.next`` from the first page to the end gives the rows ?page=N
    gives by OFFSET (and the CSV's), ``cursor.prev`` walks back; ``?page=N`` pages answer
    cursors too, and the page's own ``apos``/``antes``/``fim`` links work on the API."""
    from app.csv_export import safe_cell
    from app.reports import cross
    from app.services import cross_reports as cr

    slug = API_KEYSET[name]
    report, _, expected = _direct(app, slug)
    total = len(expected)
    assert total > 9 and total % 3  # several pages of 3, the last one short
    pages = -(-total // 3)
    by_offset = [api(crowd, name, limit=3, page=n) for n in range(1, pages + 2)]
    assert by_offset[-1]["items"] == [] and by_offset[-1]["cursor"] == {"next": None, "prev": None}
    offset_rows = [item for body in by_offset for item in body["items"]]
    assert offset_rows == [dict(r) for r in expected]
    csv_rows = [
        [safe_cell(cr.csv_value(c, i.get(c.key))) for c in report.columns] for i in offset_rows
    ]
    assert csv_rows == _csv(crowd, slug)[1:]

    first = by_offset[0]
    assert first["cursor"]["prev"] is None and first["total"] == total
    walked, body, bodies = [], first, []
    while True:  # cursor.next to the end
        walked += body["items"]
        bodies.append(body)
        if body["cursor"]["next"] is None:
            break
        body = api(crowd, name, limit=3, after=body["cursor"]["next"])
        assert body["page"] is None and body["total"] == total and "chart" in body
        assert body["cursor"]["prev"] is not None
    assert walked == offset_rows and len(bodies) == pages
    back = []
    while True:  # cursor.prev back to the first page
        back = body["items"] + back
        if body["cursor"]["prev"] is None:
            break
        body = api(crowd, name, limit=3, before=body["cursor"]["prev"])
        assert body["cursor"]["next"] is not None
    assert back == offset_rows and body["items"] == offset_rows[:3]
    # a ?page=N page's cursors lead to its neighbours
    second = by_offset[1]
    assert api(crowd, name, limit=3, after=second["cursor"]["next"])["items"] == offset_rows[6:9]
    assert api(crowd, name, limit=3, before=second["cursor"]["prev"])["items"] == offset_rows[:3]
    # the last page, by ?last=1 or the page's ?fim=1
    for arg in ("last", "fim"):
        last = api(crowd, name, limit=3, **{arg: 1})
        assert last["items"] == offset_rows[-(total % 3) :] and last["page"] == pages
        assert last["cursor"]["next"] is None
        before_last = api(crowd, name, limit=3, before=last["cursor"]["prev"])
        assert before_last["items"] == by_offset[pages - 2]["items"]
    # the page's "Próxima" link, copied onto the API, with the page's own parameter names
    monkeypatch.setattr(cross, "PER_PAGE", 3)
    html = crowd.get(f"/relatorios/cruzados/{slug}", query_string=RANGE).text
    href = _link(html, "Próxima")
    assert href.startswith(f"/relatorios/cruzados/{slug}?") and "apos=" in href
    copied = crowd.get(
        href.replace(f"/relatorios/cruzados/{slug}", f"/api/reports/{name}") + "&limit=3"
    )
    assert copied.status_code == 200
    assert copied.get_json()["items"] == offset_rows[3:6]
    following = api(crowd, name, limit=3, apos=copied.get_json()["cursor"]["next"])
    assert following["items"] == offset_rows[6:9]
    assert api(crowd, name, limit=3, antes=following["cursor"]["prev"])["items"] == offset_rows[3:6]


@pytest.mark.parametrize("name", API_KEYSET)
def test_api_refuses_a_cursor_it_cannot_read(crowd, name):
    from app.paging import encode_cursor

    at = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)
    wrong = [encode_cursor([1, 2]), encode_cursor(["x", "y", 3]), encode_cursor([at, 2.5])]
    wrong += [encode_cursor([at, 7 if name == "not-in-crm" else "7"]), encode_cursor(["x", "y"])]
    for bad in ("lixo", "%%%", "W10", "x" * 3000, *wrong):
        for arg in ("after", "before", "apos", "antes"):
            response = _api_get(crowd, name, limit=3, **{arg: bad})
            assert response.status_code == 400, (bad, arg)
            body = response.get_json()
            assert body["success"] is False and body["error"]["code"] == "bad_request"
            assert f"Cursor inválido em {arg}" in body["error"]["message"]
    good = api(crowd, name, limit=3)["cursor"]["next"]
    both = _api_get(crowd, name, after=good, antes=good)
    assert both.status_code == 400 and "um só cursor" in both.get_json()["error"]["message"]
    assert _api_get(crowd, name, after=good, page="x").status_code == 400  # still checked


def test_grouped_reports_answer_no_cursor(crowd):
    plain = api(crowd, "by-utm", limit=1)
    assert plain["cursor"] is None and len(plain["items"]) == 1
    assert api(crowd, "by-utm", limit=1, after="lixo") == plain  # ignored, as before
    assert api(crowd, "refunds")["cursor"] is None


def test_grouped_reports_keep_numbered_pages(crowd, app, monkeypatch):
    from app.reports import cross

    monkeypatch.setattr(cross, "PER_PAGE", 1)
    report, _, rows = _direct(app, "por-origem")
    assert len(rows) > 2
    html = crowd.get("/relatorios/cruzados/por-origem", query_string={**RANGE, "page": 2}).text
    with app.test_request_context():
        assert _table(html) == [" | ".join(report.cell(c, rows[1][c.key]) for c in report.columns)]
    assert "page=3" in _link(html, "Próxima") and _link(html, "3")


def _sums_from_sales(start, end, open_end):
    """ "por origem" and "por produto" computed from the sales themselves (São Paulo days)."""
    from zoneinfo import ZoneInfo

    from app.models.sales import GRANTING_STATUSES

    sp = ZoneInfo("America/Sao_Paulo")
    utm, products, chart = {}, {}, {}
    for s in db.session.scalars(db.select(Sale)):
        day = s.ordered_at.replace(tzinfo=UTC).astimezone(sp).date()
        if s.is_test or day < start or (not open_end and day > end):
            continue
        approved = s.status in GRANTING_STATUSES
        key = (s.utm_source or s.src or None, s.utm_campaign or None)
        n, ok, cents = utm.get(key, (0, 0, 0))
        utm[key] = (n + 1, ok + approved, cents + (s.amount_cents if approved else 0))
        if approved:
            key = (s.platform, s.product_name, s.payment_method)
            n, cents = products.get(key, (0, 0))
            products[key] = (n + 1, cents + s.amount_cents)
            chart[s.platform] = chart.get(s.platform, 0) + s.amount_cents
    return utm, products, chart


def _refunds_from_sales(start, end, open_end):
    """ "reembolsos" computed from the sales: (São Paulo month, platform) -> paid, refunded,
    chargeback, lost cents."""
    from zoneinfo import ZoneInfo

    from app.services.cross_reports import PAID_STATUSES

    sp = ZoneInfo("America/Sao_Paulo")
    months = {}
    for s in db.session.scalars(db.select(Sale)):
        day = s.ordered_at.replace(tzinfo=UTC).astimezone(sp).date()
        if s.is_test or day < start or (not open_end and day > end):
            continue
        if s.status not in PAID_STATUSES:
            continue
        paid, refunded, chargeback, lost = months.get((f"{day:%Y-%m}", s.platform), (0, 0, 0, 0))
        lost_now = s.status in ("refunded", "chargeback")
        months[(f"{day:%Y-%m}", s.platform)] = (
            paid + 1,
            refunded + (s.status == "refunded"),
            chargeback + (s.status == "chargeback"),
            lost + (s.amount_cents if lost_now else 0),
        )
    return months


def test_origin_product_and_refund_reports_read_whole_months_and_edge_days_alike(app, client):
    """Whole months come from the monthly summaries and the partial months' days from the
    daily ones: every kind of range gives what the sales themselves give, São Paulo month
    edges included (23:59 on the 31st there is already the 1st in UTC)."""
    import random
    from datetime import date, timedelta

    from app.services import cross_reports as cr
    from app.services.charts import CUSTOM, DateRange

    rng = random.Random(16)
    with time_machine.travel(datetime(2026, 11, 20, 12, 0, tzinfo=UTC), tick=False):
        Auth(app, client).operator()
        edges = [
            datetime(2026, 8, 1, 2, 59, tzinfo=UTC),  # 31 July 23:59 in São Paulo
            datetime(2026, 8, 1, 3, 0, tzinfo=UTC),  # 1 August 00:00
            datetime(2026, 10, 1, 2, 30, tzinfo=UTC),  # 30 September
            datetime(2026, 7, 2, 12, 0, tzinfo=UTC),  # 2 July: taken from July by a range
            datetime(2026, 9, 1, 2, 0, tzinfo=UTC),  # 31 August 23:00: taken from August
            datetime(2026, 8, 31, 2, 59, tzinfo=UTC),  # 30 August 23:59: a range's last day
            datetime(2026, 9, 30, 2, 59, tzinfo=UTC),  # 29 September 23:59: the same
            datetime(2026, 11, 20, 11, 0, tzinfo=UTC),  # today
        ]
        moments = edges + [
            datetime(2026, 6, 1, 3, 0, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 170))
            for _ in range(80)
        ]
        for i, at in enumerate(moments):
            sale(
                f"M{i}",
                f"m{i % 30}@x.com",
                rng.choice((4700, 9700)),
                status=rng.choice(("approved", "approved", "refunded", "chargeback", "pending")),
                at=at,
                platform=rng.choice(("hotmart", "kiwify")),
                product_name=rng.choice(("Curso A", "Curso B")),
                payment_method=rng.choice(("pix", "credit_card")),
                utm_source=rng.choice((None, "google", "insta")),
                utm_campaign=rng.choice((None, "bf")),
                is_test=i % 17 == 0,
            )
        # Kirvano sells only on a day a range takes away from its month (3 July .. 30
        # August: July less 1-2 July): its July nets to nothing and is no row at all.
        sale(
            "MK1", "mk1@x.com", 9700, at=datetime(2026, 7, 2, 15, 0, tzinfo=UTC), platform="kirvano"
        )
        db.session.commit()
        ranges = [
            (date(2026, 7, 31), date(2026, 8, 1)),  # two partial months
            (date(2026, 7, 15), date(2026, 10, 10)),  # partial, two whole, partial
            (date(2026, 8, 1), date(2026, 9, 30)),  # exactly two whole months
            (date(2026, 8, 1), date(2026, 8, 31)),  # one whole month
            (date(2026, 9, 3), date(2026, 9, 29)),  # inside one month: less 3 days
            (date(2026, 7, 20), date(2026, 8, 10)),  # two partial months, no whole one
            (date(2026, 7, 3), date(2026, 8, 30)),  # two months, each less its other days
            (date(2026, 6, 10), date(2026, 11, 20)),  # open: ends today
            (date(2026, 9, 1), date(2026, 11, 20)),  # open, from a month's first day
        ]
        for start, end in ranges:
            period = DateRange(CUSTOM, start, end)
            utm, products, chart = _sums_from_sales(start, end, period.until is None)
            with app.test_request_context():
                got_utm = {
                    (r["source"], r["campaign"]): (r["sales"], r["approved"], r["amount_cents"])
                    for r in cr.REPORTS["por-origem"].rows(period)
                }
                got_products = {
                    (r["platform"], r["product_name"], r["payment_method"]): (
                        r["sales"],
                        r["amount_cents"],
                    )
                    for r in cr.REPORTS["por-produto"].rows(period)
                }
                bars = cr.REPORTS["por-produto"].chart(period)
                got_refunds = {
                    (r["month"], r["platform"]): (
                        r["paid"],
                        r["refunded"],
                        r["chargeback"],
                        r["lost_cents"],
                    )
                    for r in cr.REPORTS["reembolsos"].rows(period)
                }
            assert got_refunds == _refunds_from_sales(start, end, period.until is None), (
                start,
                end,
            )
            assert got_utm == utm, (start, end)
            assert got_products == products, (start, end)
            platforms = [p for p in ("hotmart", "kirvano", "kiwify") if chart.get(p)]
            assert bars["labels"] == [platform_label(p) for p in platforms], (start, end)
            sums = [
                round(sum(d["data"][i] for d in bars["datasets"]), 2) for i in range(len(platforms))
            ]
            assert sums == [chart[p] / 100 for p in platforms], (start, end)


def test_the_kommo_reports_say_how_fresh_the_synced_data_is(operator):
    from app.models import SyncRun

    page = operator.get("/relatorios", query_string=RANGE).text
    assert page.count("O Kommo ainda não foi sincronizado: esta lista pode estar incompleta.") == 2
    finished = datetime(2026, 3, 9, 19, 5, tzinfo=UTC)  # 16:05 in Brasília
    db.session.add(
        SyncRun(
            source="kommo",
            resource="contacts",
            status="succeeded",
            started_at=finished,
            finished_at=finished,
        )
    )
    db.session.commit()
    page = operator.get("/relatorios/cruzados/comprou-fora-do-crm", query_string=RANGE).text
    assert (
        "(nem pelo e-mail, nem pelo telefone, nem pelo CPF/CNPJ). <span data-synced-note>"
        "Segundo a última sincronização do Kommo (09/03 16:05).</span>" in page
    )
    # the leads were never synced: that report still says so
    page = operator.get("/relatorios/cruzados/ganho-sem-venda", query_string=RANGE).text
    assert "O Kommo ainda não foi sincronizado" in page
    refunds = operator.get("/relatorios/cruzados/reembolsos", query_string=RANGE).text
    assert "data-synced-note" not in refunds  # the panel's own data
