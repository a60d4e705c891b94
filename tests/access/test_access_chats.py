"""The contract the Telegram delivery reads (app/services/access_chats.py): the chats a sale
grants, the chats a member holds through active accesses, and the revocation formula
``set(chats_for_sale(sale)) - {c.chat_id for c in member_chats(user)}``."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from app.extensions import db
from app.services import access_chats, activation
from app.services.access_chats import MemberChat, chats_for_sale, member_chats
from tests.access_kit import buy, make_item, make_member, make_rule, make_sale

DEFAULT = "-1000000000001"


@pytest.fixture
def app(app_factory):
    app = app_factory(TELEGRAM_CHAT_ID=f"{DEFAULT}, -1000000000002")
    with app.app_context():
        yield app


def to_remove(sale, user_id) -> set[str]:
    return set(chats_for_sale(sale)) - {c.chat_id for c in member_chats(user_id)}


def refund(sale) -> None:
    sale.status = "refunded"
    activation.revoke_for_sale(sale, "refunded")
    db.session.commit()


def test_signatures_are_the_contract():
    assert list(inspect.signature(chats_for_sale).parameters) == ["sale"]
    assert list(inspect.signature(member_chats).parameters) == ["user_id"]
    assert [f.name for f in dataclasses.fields(MemberChat)] == [
        "chat_id",
        "title",
        "product_names",
    ]
    assert MemberChat.__dataclass_params__.frozen
    assert access_chats.MemberChat is MemberChat


def test_a_product_with_telegram_items_grants_those_chats(app):
    vip = make_item("Grupo VIP", "telegram", chat_id="-1005")
    news = make_item("Canal de avisos", "telegram", chat_id="-1006")
    make_rule("hotmart", "HP-1", vip, news, make_item("Curso"))
    sale = make_sale("hotmart", "HP1", "HP-1", "Curso")
    assert sorted(chats_for_sale(sale)) == ["-1005", "-1006"]


def test_without_a_telegram_item_the_default_chats_apply(app):
    make_rule("kiwify", "KW-1", make_item("Curso"))  # mapped, but no chat
    mapped = make_sale("kiwify", "KW1", "KW-1", "Curso")
    unmapped = make_sale("eduzz", "ED1", "ED-9", "E-book")
    assert chats_for_sale(mapped) == [DEFAULT, "-1000000000002"]
    assert chats_for_sale(unmapped) == [DEFAULT, "-1000000000002"]


def test_no_default_chat_configured_means_no_chat(app_factory):
    app = app_factory()
    with app.app_context():
        sale = make_sale("eduzz", "ED1", "ED-9", "E-book")
        assert chats_for_sale(sale) == []


def test_member_chats_one_per_chat_with_title_and_products(app):
    vip = make_item("Grupo VIP", "telegram", chat_id="-1005")
    make_rule("hotmart", "HP-1", vip)
    make_rule("kirvano", "KV-1", vip)
    user = make_member()
    buy(
        user,
        make_sale("hotmart", "HP1", "HP-1", "Curso (Hotmart)"),
        make_sale("kirvano", "KV1", "KV-1", "Curso (Kirvano)"),
        make_sale("eduzz", "ED1", "ED-9", "E-book"),  # unmapped: the default chats
    )
    chats = {c.chat_id: c for c in member_chats(user.id)}
    assert set(chats) == {"-1005", DEFAULT, "-1000000000002"}
    products = ("Curso (Hotmart)", "Curso (Kirvano)")
    assert chats["-1005"] == MemberChat("-1005", "Grupo VIP", products)
    assert chats[DEFAULT] == MemberChat(DEFAULT, DEFAULT, ("E-book",))  # no item: its id


def test_revocation_removes_only_chats_no_other_active_purchase_grants(app):
    vip = make_item("Grupo VIP", "telegram", chat_id="-1005")
    bonus = make_item("Bônus", "telegram", chat_id="-1007")
    make_rule("hotmart", "HP-1", vip, bonus)
    make_rule("kiwify", "KW-1", vip)
    first = make_sale("hotmart", "HP1", "HP-1", "Curso + bônus")
    second = make_sale("kiwify", "KW1", "KW-1", "Curso")
    user = make_member()
    buy(user, first, second)
    assert to_remove(first, user.id) == set()  # both still active

    refund(first)
    assert {c.chat_id for c in member_chats(user.id)} == {"-1005"}  # revoked access excluded
    assert to_remove(first, user.id) == {"-1007"}

    refund(second)
    assert member_chats(user.id) == []
    assert to_remove(second, user.id) == {"-1005"}


def test_another_members_access_does_not_keep_a_chat(app):
    vip = make_item("Grupo VIP", "telegram", chat_id="-1005")
    make_rule("hotmart", "HP-1", vip)
    ana, bia = make_member("ana@example.com"), make_member("bia@example.com")
    mine = make_sale("hotmart", "HP1", "HP-1", "Curso", email="ana@example.com")
    buy(ana, mine)
    buy(bia, make_sale("hotmart", "HP2", "HP-1", "Curso", email="bia@example.com"))
    refund(mine)
    assert to_remove(mine, ana.id) == {"-1005"}
    assert [c.chat_id for c in member_chats(bia.id)] == ["-1005"]
