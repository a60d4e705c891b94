"""The access catalogue (issue 15): what a sale grants, what a member holds, refunds that take
away only what no other active purchase still gives, bumps, priorities and the fallback."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Access, Sale
from app.models.sales import ACCESS_ACTIVE
from app.services import access_catalogue as catalogue
from app.services import activation
from tests.access_kit import buy, make_item, make_member, make_rule, make_sale


def titles(items) -> list[str]:
    return sorted(i.title for i in items)


def test_one_product_grants_two_items(app):
    course, group = make_item("Curso Completo"), make_item("Grupo VIP", "telegram", chat_id="-1001")
    make_rule("hotmart", "HP-CURSO", course, group, name="Curso")
    sale = make_sale("hotmart", "HP1", "HP-CURSO", "Curso")
    user = make_member()
    buy(user, sale)

    assert titles(catalogue.items_for_sale(sale)) == ["Curso Completo", "Grupo VIP"]
    assert titles(catalogue.member_items(user.id)) == ["Curso Completo", "Grupo VIP"]
    assert catalogue.member_holdings(user.id).products == []  # mapped: not a bare product


def test_the_same_item_sold_on_two_platforms(app):
    course = make_item("Curso Completo")
    make_rule("hotmart", "HP-CURSO", course)
    make_rule("kiwify", "kw-curso-uuid", course)
    hotmart = make_sale("hotmart", "HP1", "HP-CURSO", "Curso (Hotmart)", email="a@example.com")
    kiwify = make_sale("kiwify", "KW1", "kw-curso-uuid", "Curso (Kiwify)", email="b@example.com")
    ana, bia = make_member("a@example.com"), make_member("b@example.com")
    buy(ana, hotmart)
    buy(bia, kiwify)
    assert titles(catalogue.member_items(ana.id)) == ["Curso Completo"]
    assert titles(catalogue.member_items(bia.id)) == ["Curso Completo"]

    # One buyer with both purchases holds the item once, named after both products.
    both = make_sale("kiwify", "KW2", "kw-curso-uuid", "Curso (Kiwify)", email="a@example.com")
    buy(ana, both)
    (held,) = catalogue.member_holdings(ana.id).items
    assert held.item.id == course.id
    assert held.product_names == ["Curso (Hotmart)", "Curso (Kiwify)"]


def test_refund_of_one_of_two_purchases_granting_an_item_keeps_it(app):
    course, bonus = make_item("Curso Completo"), make_item("Bônus")
    make_rule("hotmart", "HP-CURSO", course, bonus)
    make_rule("eduzz", "EDZ-9", course)
    first = make_sale("hotmart", "HP1", "HP-CURSO", "Curso + bônus")
    second = make_sale("eduzz", "EDZ1", "EDZ-9", "Curso")
    user = make_member()
    buy(user, first, second)

    first.status = "refunded"
    activation.revoke_for_sale(first, "refunded")
    db.session.commit()
    assert titles(catalogue.member_items(user.id)) == ["Curso Completo"]  # Eduzz still grants it
    assert titles(catalogue.items_lost(first, user.id)) == ["Bônus"]  # exactly what went

    second.status = "refunded"
    activation.revoke_for_sale(second, "refunded")
    db.session.commit()
    assert catalogue.member_items(user.id) == []
    assert titles(catalogue.items_lost(second, user.id)) == ["Curso Completo"]


def test_order_bump_grants_its_own_items_each_once(send_webhook, webhook_app):
    """Kirvano sends the course and its bump in one delivery (two sales, issue 11)."""
    course, sheet = make_item("Curso Completo"), make_item("Planilha", "download")
    make_rule("kirvano", "1c5f17f3-8682-4015-9837-05d2d7807757", course, name="Curso Exemplo")
    make_rule("kirvano", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", sheet, course)
    user = make_member("maria@example.com", "Maria")
    db.session.commit()

    assert send_webhook("kirvano", "sale_approved_order_bump").status_code == 200
    sales = {s.product_name: s for s in db.session.scalars(select(Sale))}
    bump = sales["Planilha Bônus"]
    assert bump.is_order_bump and titles(catalogue.items_for_sale(bump)) == [
        "Curso Completo",
        "Planilha",
    ]
    assert titles(catalogue.items_for_sale(sales["Curso Exemplo"])) == ["Curso Completo"]
    holdings = catalogue.member_holdings(user.id)
    assert [h.item.title for h in holdings.items] == ["Curso Completo", "Planilha"]  # each once
    (course_held,) = [h for h in holdings.items if h.item.id == course.id]
    assert course_held.product_names == ["Curso Exemplo", "Planilha Bônus"]

    assert send_webhook("kirvano", "sale_refunded_order_bump").status_code == 200
    assert catalogue.member_items(user.id) == []


def test_priority_and_offer_or_plan_pick_the_rule(app):
    course, mentoring = make_item("Curso"), make_item("Mentoria")
    make_rule("kiwify", "P1", course)
    make_rule("kiwify", "P1", course, mentoring, offer_code="VIP", priority=10)
    make_rule("kiwify", "P1", mentoring, offer_code="Plano Anual", priority=5)
    plain = make_sale("kiwify", "K1", "P1", "Curso")
    vip = make_sale("kiwify", "K2", "P1", "Curso", offer_code="VIP")
    yearly = make_sale("kiwify", "K3", "P1", "Curso", plan_name="Plano Anual")
    assert titles(catalogue.items_for_sale(plain)) == ["Curso"]
    assert titles(catalogue.items_for_sale(vip)) == ["Curso", "Mentoria"]
    assert titles(catalogue.items_for_sale(yearly)) == ["Mentoria"]

    # Same priority: the rule naming the offer wins over the product-wide one.
    make_rule("kiwify", "P2", course)
    make_rule("kiwify", "P2", mentoring, offer_code="OF-2")
    assert titles(
        catalogue.items_for_sale(make_sale("kiwify", "K5", "P2", "X", offer_code="OF-2"))
    ) == ["Mentoria"]


def test_unmapped_product_falls_back_to_the_product_itself(app, client, auth):
    make_item("Curso Completo")
    make_rule("hotmart", "OTHER", make_item("Outro"))
    sale = make_sale("kiwify", "KW9", "kw-ebook", "E-book Receitas", email="membro@example.com")
    db.session.commit()
    auth.member("membro@example.com")
    from app.models import User

    user = db.session.scalar(select(User).where(User.email == "membro@example.com"))
    buy(user, sale)

    assert catalogue.items_for_sale(sale) == []
    holdings = catalogue.member_holdings(user.id)
    assert holdings.items == [] and [s.id for s in holdings.products] == [sale.id]
    page = client.get("/conta").get_data(as_text=True)
    assert "E-book Receitas" in page and "Meus acessos" not in page


def test_an_ended_subscription_period_no_longer_holds_items(app):
    from datetime import timedelta

    from app.models.types import utcnow

    course = make_item("Curso")
    make_rule("hotmart", "SUB", course)
    sale = make_sale("hotmart", "HS1", "SUB", "Assinatura")
    user = make_member()
    buy(user, sale)
    access = db.session.scalar(select(Access))
    access.access_until = utcnow() + timedelta(days=3)  # canceled, paid period running
    db.session.commit()
    assert titles(catalogue.member_items(user.id)) == ["Curso"]
    access.access_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert access.status == ACCESS_ACTIVE and catalogue.member_items(user.id) == []


def test_known_products_join_synced_catalogues_and_sales_of_every_platform(app):
    from app.models import Product

    db.session.add(Product(platform="hotmart", remote_id="123", ucode="uc-1", name="Curso H"))
    db.session.add(Product(platform="hotmart", remote_id="456", name="Sem ucode"))
    make_sale("hotmart", "HP1", "uc-1", "Curso H (venda)")
    make_sale("kiwify", "KW1", "kw-1", "Curso K")
    make_sale("kirvano", "KV1", "kv-1", "Curso V")
    make_sale("eduzz", "ED1", "ed-1", "Curso E")
    make_sale("kiwify", "KWT", "kw-test", "Teste", is_test=True)
    keys = {(p.platform, p.product_id, p.name) for p in catalogue.known_products()}
    assert keys == {
        ("hotmart", "uc-1", "Curso H"),
        ("hotmart", "456", "Sem ucode"),
        ("kiwify", "kw-1", "Curso K"),
        ("kirvano", "kv-1", "Curso V"),
        ("eduzz", "ed-1", "Curso E"),
    }
    assert catalogue.unmapped_if_catalogue() == []  # no item yet: nothing to flag
    make_rule("kiwify", "kw-1", make_item("Curso"))
    assert {p.product_id for p in catalogue.unmapped_if_catalogue()} == {
        "uc-1",
        "456",
        "kv-1",
        "ed-1",
    }


def test_a_rule_whose_items_were_all_deleted_maps_nothing(app):
    item = make_item("Curso")
    make_rule("hotmart", "HP-9", item)
    sale = make_sale("hotmart", "HP9", "HP-9", "Curso")
    db.session.commit()
    assert catalogue.rule_for(sale) is not None
    db.session.delete(item)
    db.session.commit()
    # The product is unmapped again: its own access, not an empty grant.
    assert catalogue.rule_for(sale) is None
    assert catalogue.items_for_sale(sale) == []


def test_the_overview_flag_is_cached_until_the_catalogue_or_the_products_change(app):
    """``unmapped_if_catalogue`` (every overview load) reads the database once, then serves this
    process's copy until a commit changes an item, a rule, a synced product or a sale's product;
    a transaction that changed them sees its own change at once."""
    from sqlalchemy import event, insert, update

    from app.models import AccessRule, Product

    def flagged() -> set[str]:
        return {p.product_id for p in catalogue.unmapped_if_catalogue()}

    item = make_item("Curso")
    make_rule("kiwify", "kw-1", item)
    make_sale("kiwify", "KW1", "kw-1", "Curso K")
    make_sale("kiwify", "KW2", "kw-2", "Curso 2")
    db.session.commit()
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert flagged() == {"kw-2"}
    reads = len(statements)
    assert reads > 0 and flagged() == {"kw-2"} and len(statements) == reads  # cached: no query

    # A status change of a sale leaves the copy alone; a new product's sale drops it.
    db.session.execute(update(Sale).where(Sale.transaction_id == "KW1").values(status="complete"))
    db.session.commit()
    assert flagged() == {"kw-2"}
    make_sale("hotmart", "HP1", "hp-1", "Curso H")
    assert flagged() == {"kw-2", "hp-1"}  # this transaction's own view, before its commit
    db.session.commit()
    assert flagged() == {"kw-2", "hp-1"}
    assert flagged() == {"kw-2", "hp-1"} and len(statements) > reads

    # A rule mapping a product (ORM), and its removal.
    rule = make_rule("hotmart", "hp-1", item)
    db.session.commit()
    assert flagged() == {"kw-2"}
    db.session.delete(rule)
    db.session.commit()
    assert flagged() == {"kw-2", "hp-1"}

    # A synced product (a bulk INSERT through the session) and a sale's product renamed.
    db.session.execute(insert(Product), [{"platform": "hotmart", "remote_id": "77", "name": "P"}])
    db.session.commit()
    assert flagged() == {"kw-2", "hp-1", "77"}
    sale = db.session.scalar(select(Sale).where(Sale.transaction_id == "KW2"))
    sale.product_id = "kw-1"
    db.session.commit()
    assert flagged() == {"hp-1", "77"}

    # The last item deleted: nothing to flag (the catalogue is empty again).
    db.session.execute(update(AccessRule).values(priority=1))
    db.session.delete(item)
    db.session.commit()
    assert flagged() == set()

    # A rolled-back change drops nothing and leaves no mark behind.
    make_item("Outro")
    db.session.rollback()
    before = len(statements)
    assert flagged() == set() and len(statements) == before
    # Past its lifetime (a change made by another process), the copy is read again.
    app.config["CATALOGUE_CACHE_SECONDS"] = 0
    assert flagged() == set() and len(statements) > before
