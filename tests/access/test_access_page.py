"""/acessos (login, operator role, CSRF, items and rules CRUD with readable 4xx), /conta listing
the member's items, and the overview flagging unmapped products."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AccessItem, AccessRule, AuditEntry, Product, User
from tests.access_kit import buy, make_item, make_rule, make_sale
from tests.conftest import count_rows, csrf_token


@pytest.fixture
def operator(auth):
    auth.operator()
    return auth.client


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/acessos"), **data})


def test_the_page_needs_an_operator_login(app, client, auth):
    auth.create()  # setup done
    response = client.get("/acessos")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.create(email="membro@example.com", role="member")
    auth.login(email="membro@example.com")
    assert client.get("/acessos").status_code == 403
    assert client.post("/acessos/itens", data={"title": "x"}).status_code in (400, 403)


def test_forms_refuse_a_missing_csrf_token(operator):
    response = operator.post(
        "/acessos/itens", data={"kind": "url", "title": "Curso", "url": "https://a.example"}
    )
    assert response.status_code == 400
    assert count_rows(AccessItem) == 0


def test_item_crud_with_readable_errors(operator):
    page = operator.get("/acessos")
    assert page.status_code == 200 and "Nenhum item ainda" in page.get_data(as_text=True)

    bad = post(operator, "/acessos/itens", kind="url", title="Curso", url="javascript:alert(1)")
    assert bad.status_code == 422 and "Link inválido" in bad.get_data(as_text=True)
    for spaced in ("https://a b.example", "https://a.example/\nx"):
        refused = post(operator, "/acessos/itens", kind="url", title="Curso", url=spaced)
        assert refused.status_code == 422 and "Link inválido" in refused.text
    no_chat = post(operator, "/acessos/itens", kind="telegram", title="Grupo VIP")
    assert no_chat.status_code == 422 and "id do grupo" in no_chat.get_data(as_text=True)
    bad_kind = post(operator, "/acessos/itens", kind="ftp", title="X", url="https://a.example")
    assert bad_kind.status_code == 422 and "Escolha uma opção da lista." in bad_kind.text
    long = post(operator, "/acessos/itens", kind="url", title="x" * 300, url="https://a.example")
    assert long.status_code == 422 and "Use no máximo 255 caracteres." in long.text
    assert count_rows(AccessItem) == 0

    created = post(
        operator,
        "/acessos/itens",
        kind="url",
        title="Curso Completo",
        url="https://membros.example.com/curso",
        instructions="Entre com o e-mail da compra.",
        chat_id="-100999",  # ignored for a link item
    )
    assert created.status_code == 302
    item = db.session.scalar(select(AccessItem))
    assert (item.kind, item.url, item.chat_id) == ("url", "https://membros.example.com/curso", None)
    assert "Curso Completo" in operator.get("/acessos").get_data(as_text=True)

    edit = f"/acessos/itens/{item.id}"
    assert "Editar item" in operator.get(edit).get_data(as_text=True)
    saved = post(operator, edit, kind="telegram", title="Grupo VIP", chat_id="-1001234567890")
    assert saved.status_code == 302
    db.session.refresh(item)
    assert (item.kind, item.title, item.url, item.chat_id) == (
        "telegram",
        "Grupo VIP",
        None,
        "-1001234567890",
    )
    assert post(operator, edit, kind="telegram", title="", chat_id="x").status_code == 422
    assert operator.get("/acessos/itens/999999").status_code == 404

    delete = f"/acessos/itens/{item.id}/excluir"
    assert post(operator, delete).status_code == 302
    assert count_rows(AccessItem) == 0
    assert post(operator, delete).status_code == 404
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "access.changed"))
    whats = [e.details["what"] for e in entries]
    assert {"item criado", "item alterado", "item excluído"} <= set(whats)


def test_rule_crud_picks_products_from_every_platform(operator):
    db.session.add(Product(platform="hotmart", remote_id="42", ucode="uc-42", name="Curso H"))
    make_sale("kiwify", "KW1", "kw-7", "Curso K")
    course, group = make_item("Curso Completo"), make_item("Grupo", "telegram", chat_id="-1001")
    db.session.commit()

    page = operator.get("/acessos").get_data(as_text=True)
    assert 'value="hotmart:uc-42"' in page and 'value="kiwify:kw-7"' in page
    assert "Curso H · Hotmart" in page and "Curso K · Kiwify" in page

    assert post(operator, "/acessos/regras", product="hotmart:uc-42").status_code == 422
    unknown = post(operator, "/acessos/regras", product="eduzz:nope", items=str(course.id))
    assert unknown.status_code == 422 and "Escolha uma opção da lista." in unknown.text
    stale = post(operator, "/acessos/regras", product="hotmart:uc-42", items=["999", "abc"])
    assert stale.status_code == 422 and "recarregue a página" in stale.text
    fields = {"product": "hotmart:uc-42", "items": course.id}
    words = post(operator, "/acessos/regras", **fields, priority="x")
    assert words.status_code == 422 and "Use um número inteiro" in words.text
    assert "Not a valid" not in unknown.text + stale.text + words.text
    assert count_rows(AccessRule) == 0
    created = post(
        operator, "/acessos/regras", product="hotmart:uc-42", items=[course.id, group.id]
    )
    assert created.status_code == 302
    rule = db.session.scalar(select(AccessRule))
    assert (rule.platform, rule.product_id, rule.product_name, rule.offer_code) == (
        "hotmart",
        "uc-42",
        "Curso H",
        "",
    )
    assert sorted(i.title for i in rule.items) == ["Curso Completo", "Grupo"]
    twice = post(operator, "/acessos/regras", product="hotmart:uc-42", items=course.id)
    assert twice.status_code == 422 and "Já existe uma regra" in twice.get_data(as_text=True)
    assert count_rows(AccessRule) == 1

    kiwify = post(operator, "/acessos/regras", product="kiwify:kw-7", items=course.id, priority="3")
    assert kiwify.status_code == 302
    listing = operator.get("/acessos").get_data(as_text=True)
    assert "Curso K" in listing and listing.count("Curso Completo") >= 3

    edit = f"/acessos/regras/{rule.id}"
    assert '<option selected value="hotmart:uc-42">' in operator.get(edit).get_data(as_text=True)
    saved = post(
        operator, edit, product="hotmart:uc-42", offer_code="VIP", priority="7", items=group.id
    )
    assert saved.status_code == 302
    db.session.refresh(rule)
    assert (rule.offer_code, rule.priority, [i.title for i in rule.items]) == ("VIP", 7, ["Grupo"])
    assert post(operator, edit, product="hotmart:uc-42", priority="x").status_code == 422

    assert post(operator, f"/acessos/regras/{rule.id}/excluir").status_code == 302
    assert count_rows(AccessRule) == 1
    # Deleting an item drops it from the rules that granted it.
    course_id = course.id
    assert post(operator, f"/acessos/itens/{course_id}/excluir").status_code == 302
    db.session.expire_all()
    (left,) = db.session.scalars(select(AccessRule)).all()
    assert left.items == []


def test_navbar_links_the_page(operator):
    page = operator.get("/").get_data(as_text=True)
    assert 'href="/acessos"' in page and "Acessos dos compradores" in page


def test_member_account_lists_items_and_how_to_reach_them(app, client, auth):
    auth.member("membro@example.com")
    user = db.session.scalar(select(User).where(User.email == "membro@example.com"))
    course = make_item("Curso Completo", instructions="Use o e-mail da compra.\nSenha: a sua.")
    sheet = make_item("Planilha", "download", url="https://arquivos.example.com/p.xlsx")
    group = make_item("Grupo VIP", "telegram", chat_id="-1005", instructions="Regras fixadas.")
    make_rule("hotmart", "HP-1", course, group)
    make_rule("kiwify", "KW-1", sheet)
    make_rule("eduzz", "ED-1", make_item("Mentoria"))
    kept = make_sale("hotmart", "HP1", "HP-1", "Curso", email=user.email)
    bonus = make_sale("kiwify", "KW1", "KW-1", "Planilha Bônus", email=user.email)
    gone = make_sale("eduzz", "ED1", "ED-1", "Mentoria", email=user.email)
    buy(user, kept, bonus, gone)
    from app.services import activation

    gone.status = "refunded"
    activation.revoke_for_sale(gone, "refunded")
    db.session.commit()

    page = client.get("/conta").get_data(as_text=True)
    assert "Meus acessos" in page
    assert 'href="https://membros.example.com/curso-completo"' in page and "Acessar" in page
    assert "Use o e-mail da compra." in page
    assert 'href="https://arquivos.example.com/p.xlsx"' in page and "Baixar" in page
    assert 'data-telegram-chat="-1005"' in page and "Grupo VIP" in page
    assert "Regras fixadas." in page
    assert 'data-telegram-invite="-1005"' in page and "convite pessoal" in page
    assert "membros.example.com/mentoria" not in page  # refunded purchase: item gone


def test_overview_flags_unmapped_products_once_the_catalogue_has_an_item(operator):
    make_sale("kiwify", "KW1", "kw-1", "E-book Receitas")
    make_sale("hotmart", "HP1", "hp-1", "Curso H")
    db.session.commit()
    assert "data-unmapped-products" not in operator.get("/").get_data(as_text=True)

    make_rule("hotmart", "hp-1", make_item("Curso"))
    db.session.commit()
    page = operator.get("/").get_data(as_text=True)
    assert 'data-unmapped-products="1"' in page
    assert "E-book Receitas (Kiwify)" in page and "Vincular produtos" in page


def test_two_products_of_one_name_are_told_apart_by_their_code(operator):
    make_sale("hotmart", "HP1", "6d5e420f-2afb-4ab4-a53c-6b324343094a", "Curso Exemplo")
    make_sale("hotmart", "HP2", "949a4ecb-3b0e-429a-803b-e514c577a54e", "Curso Exemplo")
    make_sale("kiwify", "KW1", "kw-7", "Curso K")
    group = make_item("Grupo", "telegram", chat_id="-1001")
    db.session.commit()
    page = operator.get("/acessos").get_data(as_text=True)
    assert "Curso Exemplo · Hotmart · código 6d5e420f…" in page
    assert "Curso Exemplo · Hotmart · código 949a4ecb…" in page
    assert "Curso K · Kiwify</option>" in page  # alone under its name: no code
    for product in ("6d5e420f-2afb-4ab4-a53c-6b324343094a", "949a4ecb-3b0e-429a-803b-e514c577a54e"):
        made = post(operator, "/acessos/regras", product=f"hotmart:{product}", items=group.id)
        assert made.status_code == 302
    page = operator.get("/acessos").get_data(as_text=True)
    assert page.count('Curso Exemplo <span class="text-secondary">· Hotmart · ') == 2
    assert "· Hotmart · 6d5e420f…</span>" in page and "· Hotmart · 949a4ecb…</span>" in page
