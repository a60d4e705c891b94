"""The operator sees, on a sale's page and on the customer's page, which access items each sale
granted and whether they are still held: revoked with a refund, kept through another purchase,
waiting for the buyer's signup; an unmapped product says it grants the product itself."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Sale
from app.services import access_grants, activation
from tests.access_kit import buy, make_item, make_member, make_rule, make_sale


@pytest.fixture
def operator(auth):
    auth.operator()
    return auth.client


def states(html: str) -> dict[str, str]:
    """item id → state of the grants listed on the page (the first sale's, on a sale page)."""
    return dict(re.findall(r'data-access-grant="(\d+)" data-state="(\w+)"', html))


def two_courses():
    """Course A grants the member area and the group; course B the group and a download."""
    area = make_item("Área do Curso A")
    group = make_item("Grupo VIP", kind="telegram", chat_id="-100777")
    ebook = make_item("E-book <b>B</b>", kind="download", url="https://a.example/b.pdf")
    make_rule("hotmart", "curso-a", area, group)
    make_rule("kiwify", "curso-b", group, ebook)
    return area, group, ebook


def test_a_refund_revokes_what_only_that_sale_granted(app, operator):
    area, group, ebook = two_courses()
    user = make_member()
    a = make_sale("hotmart", "HP1", "curso-a", "Curso A")
    b = make_sale("kiwify", "KW1", "curso-b", "Curso B")
    buy(user, a, b)

    page = operator.get(f"/vendas/{a.id}").get_data(as_text=True)
    assert "Acessos liberados" in page and "Área do Curso A" in page
    assert states(page) == {str(area.id): "held", str(group.id): "held"}

    a.status = "refunded"
    activation.revoke_for_sale(a, "refunded")
    db.session.commit()
    page = operator.get(f"/vendas/{a.id}").get_data(as_text=True)
    assert states(page) == {str(area.id): "revoked", str(group.id): "kept"}
    assert "Revogado" in page and "(reembolso, " in page
    assert "Mantido por outra compra" in page

    other = operator.get(f"/vendas/{b.id}").get_data(as_text=True)
    assert states(other) == {str(group.id): "held", str(ebook.id): "held"}
    assert "E-book &lt;b&gt;B&lt;/b&gt;" in other and "<b>B</b>" not in other


def test_waiting_signup_refunded_before_it_and_unmapped(app, operator):
    area, group, _ = two_courses()
    waiting = make_sale("hotmart", "HP2", "curso-a", "Curso A", email="novo@example.com")
    gone = make_sale("hotmart", "HP3", "curso-a", "Curso A", status="chargeback")
    plain = make_sale("hotmart", "HP4", "sem-regra", "Mentoria")
    db.session.commit()

    page = operator.get(f"/vendas/{waiting.id}").get_data(as_text=True)
    assert set(states(page).values()) == {"waiting"} and "Aguardando ativação" in page
    page = operator.get(f"/vendas/{gone.id}").get_data(as_text=True)
    assert set(states(page).values()) == {"not_granted"} and "Não liberado" in page
    assert "(chargeback)" in page
    page = operator.get(f"/vendas/{plain.id}").get_data(as_text=True)
    assert states(page) == {} and "a compra dá acesso ao próprio produto" in page


def test_the_customer_page_shows_each_sales_items(app, operator):
    from app.services.customers import index

    area, group, ebook = two_courses()
    user = make_member()
    a = make_sale("hotmart", "HP1", "curso-a", "Curso A")
    b = make_sale("kiwify", "KW1", "curso-b", "Curso B")
    make_sale("hotmart", "HP9", "sem-regra", "Mentoria")
    buy(user, a, b)
    b.status = "refunded"
    activation.revoke_for_sale(b, "refunded")
    db.session.commit()
    index.rebuild()
    db.session.commit()

    page = operator.get(f"/clientes/sale:{a.id}").get_data(as_text=True)
    found = re.findall(r'data-access-grant="(\d+)" data-state="(\w+)"', page)
    assert sorted(found) == sorted(
        [
            (str(area.id), "held"),
            (str(group.id), "held"),  # Curso A
            (str(group.id), "kept"),  # Curso B, refunded: the group stays through Curso A
            (str(ebook.id), "revoked"),
        ]
    )
    assert page.count("data-customer-sale-items") == 2  # the unmapped Mentoria lists none


def test_grants_of_a_whole_list_take_a_few_queries(app):
    from sqlalchemy import event

    two_courses()
    user = make_member()
    sales = [make_sale("hotmart", f"HP{i}", "curso-a", "Curso A") for i in range(30)]
    buy(user, *sales)
    for sale in sales[:10]:
        sale.status = "refunded"
        activation.revoke_for_sale(sale, "refunded")
    db.session.commit()
    db.session.expire_all()
    fresh = list(db.session.scalars(db.select(Sale).order_by(Sale.id)))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        grants = access_grants.sale_grants(fresh)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 8, statements
    assert {g.state for s in fresh[:10] for g in grants[s.id].items} == {"kept"}
