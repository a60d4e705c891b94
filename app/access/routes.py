"""/acessos: the access catalogue (items and the rules mapping products to them)."""

from __future__ import annotations

from collections import Counter

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy.exc import IntegrityError

from app.access import bp
from app.access.forms import ItemForm, RuleForm, choices
from app.extensions import db
from app.formatting import platform_label, product_code
from app.models import AccessItem, AccessRule
from app.models.access_catalogue import KIND_TELEGRAM
from app.services import access_catalogue, audit


def _rule_form(rule: AccessRule | None = None, **kwargs) -> RuleForm:
    form = RuleForm(**kwargs)
    products = access_catalogue.known_products()
    seen = Counter((p.name, p.platform) for p in products)
    # two products of one name on one platform: told apart by a short code of their id
    options = [
        (
            p.key,
            f"{p.name} · {platform_label(p.platform)}"
            + (f" · código {product_code(p.product_id)}" if seen[(p.name, p.platform)] > 1 else ""),
        )
        for p in products
    ]
    if rule is not None:
        key = access_catalogue.product_key(rule.platform, rule.product_id)
        if key not in {k for k, _ in options}:
            label = rule.product_name or rule.product_id
            options.append((key, f"{label} · {platform_label(rule.platform)}"))
    form.product.choices = choices([("", "Escolha o produto…"), *options])
    form.items.choices = choices((i.id, i.title) for i in access_catalogue.items())
    return form


def _page(item_form=None, rule_form=None, status=200):
    return render_template(
        "access/index.html",
        items=access_catalogue.items(),
        rules=access_catalogue.rules(),
        unmapped=access_catalogue.unmapped_products(),
        new_item=item_form or ItemForm(),
        new_rule=rule_form or _rule_form(),
    ), status


@bp.get("/acessos")
def index():
    return _page()


def _fill_item(item: AccessItem, form: ItemForm) -> None:
    item.kind = form.kind.data
    item.title = form.title.data.strip()
    telegram = item.kind == KIND_TELEGRAM
    item.url = None if telegram else form.url.data.strip()
    item.chat_id = form.chat_id.data.strip() if telegram else None
    item.instructions = (form.instructions.data or "").strip() or None


def _audit(what: str, target_type: str, target_id, **details) -> None:
    audit.record(
        audit.ACCESS_CHANGED,
        target_type=target_type,
        target_id=target_id,
        details={"what": what, **details},
    )


@bp.post("/acessos/itens")
def create_item():
    form = ItemForm()
    if not form.validate_on_submit():
        return _page(item_form=form, status=422)
    item = AccessItem()
    _fill_item(item, form)
    db.session.add(item)
    db.session.flush()
    _audit("item criado", "access_item", item.id, title=item.title, kind=item.kind)
    db.session.commit()
    flash(f"Item “{item.title}” criado.", "success")
    return redirect(url_for("access.index") + "#itens")


def _item_or_404(item_id: int) -> AccessItem:
    item = db.session.get(AccessItem, item_id)
    if item is None:
        abort(404)
    return item


@bp.route("/acessos/itens/<int:item_id>", methods=["GET", "POST"])
def edit_item(item_id: int):
    item = _item_or_404(item_id)
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        _fill_item(item, form)
        _audit("item alterado", "access_item", item.id, title=item.title, kind=item.kind)
        db.session.commit()
        flash(f"Item “{item.title}” salvo.", "success")
        return redirect(url_for("access.index") + "#itens")
    status = 422 if form.is_submitted() else 200
    return render_template("access/item.html", item=item, form=form), status


@bp.post("/acessos/itens/<int:item_id>/excluir")
def delete_item(item_id: int):
    item = _item_or_404(item_id)
    title = item.title
    _audit("item excluído", "access_item", item.id, title=title)
    db.session.delete(item)
    db.session.commit()
    flash(f"Item “{title}” excluído.", "success")
    return redirect(url_for("access.index") + "#itens")


def _fill_rule(rule: AccessRule, form: RuleForm) -> bool:
    key = access_catalogue.split_key(form.product.data)
    if key is None:
        form.product.errors = [*form.product.errors, "Escolha o produto."]
        return False
    names = {p.key: p.name for p in access_catalogue.known_products()}
    rule.platform, rule.product_id = key
    rule.product_name = names.get(form.product.data) or rule.product_name or rule.product_id
    rule.offer_code = (form.offer_code.data or "").strip()
    rule.priority = form.priority.data or 0
    chosen = set(form.items.data)
    rule.items = [i for i in access_catalogue.items() if i.id in chosen]
    return True


def _save_rule(rule: AccessRule, form: RuleForm, what: str) -> bool:
    """Write the rule; False (with the reason on the form) when it cannot be saved."""
    if not _fill_rule(rule, form):
        return False
    db.session.add(rule)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        form.offer_code.errors = [
            *form.offer_code.errors,
            "Já existe uma regra para este produto com esta oferta ou plano: edite-a.",
        ]
        return False
    _audit(
        what,
        "access_rule",
        rule.id,
        product=f"{rule.product_name} ({rule.platform})",
        items=[i.title for i in rule.items],
    )
    db.session.commit()
    flash(f"Regra de “{rule.product_name}” salva.", "success")
    return True


@bp.post("/acessos/regras")
def create_rule():
    form = _rule_form()
    if form.validate_on_submit() and _save_rule(AccessRule(), form, "regra criada"):
        return redirect(url_for("access.index") + "#regras")
    return _page(rule_form=form, status=422)


def _rule_or_404(rule_id: int) -> AccessRule:
    rule = db.session.get(AccessRule, rule_id)
    if rule is None:
        abort(404)
    return rule


@bp.route("/acessos/regras/<int:rule_id>", methods=["GET", "POST"])
def edit_rule(rule_id: int):
    rule = _rule_or_404(rule_id)
    form = _rule_form(rule)
    if not form.is_submitted():
        form.product.data = access_catalogue.product_key(rule.platform, rule.product_id)
        form.offer_code.data = rule.offer_code
        form.priority.data = rule.priority
        form.items.data = [i.id for i in rule.items]
    elif form.validate() and _save_rule(rule, form, "regra alterada"):
        return redirect(url_for("access.index") + "#regras")
    else:
        rule = _rule_or_404(rule_id)  # the session may have been rolled back
    status = 422 if form.is_submitted() else 200
    return render_template("access/rule.html", rule=rule, form=form), status


@bp.post("/acessos/regras/<int:rule_id>/excluir")
def delete_rule(rule_id: int):
    rule = _rule_or_404(rule_id)
    name = rule.product_name or rule.product_id
    _audit("regra excluída", "access_rule", rule.id, product=f"{name} ({rule.platform})")
    db.session.delete(rule)
    db.session.commit()
    flash(f"Regra de “{name}” excluída.", "success")
    return redirect(url_for("access.index") + "#regras")
