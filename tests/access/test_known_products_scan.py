"""The access catalogue's products seen in sales (``_seen_products``): an index skip scan
giving exactly what grouping every sale gave — one row per platform and product of a
non-test sale, named by the greatest product name, products without a name kept."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Sale
from app.services import access_catalogue


def _sale(i, platform, product_id, name, *, test=False):
    db.session.add(
        Sale(
            platform=platform,
            transaction_id=f"T{i}",
            status="approved",
            product_id=product_id,
            product_name=name,
            is_test=test,
        )
    )


def test_the_skip_scan_equals_grouping_the_sales(app):
    rows = [
        ("hotmart", "P1", "Curso A"),
        ("hotmart", "P1", "Curso A (novo nome)"),
        ("hotmart", "P1", None),
        ("hotmart", "P2", None),
        ("hotmart", None, "Sem id"),
        ("kiwify", "P1", "Outro curso"),
        ("kiwify", "", "Id vazio"),
        ("eduzz", "E9", "Zeta"),
    ]
    for i, (platform, product_id, name) in enumerate(rows):
        _sale(i, platform, product_id, name)
    _sale(100, "kirvano", "K1", "Só teste", test=True)
    _sale(101, "hotmart", "P1", "ZZZ do teste", test=True)
    db.session.commit()
    grouped = db.session.execute(
        select(Sale.platform, Sale.product_id, func.max(Sale.product_name))
        .where(Sale.product_id.is_not(None), Sale.is_test.is_(False))
        .group_by(Sale.platform, Sale.product_id)
    ).all()
    assert sorted(access_catalogue._seen_products(), key=str) == sorted(
        (tuple(r) for r in grouped), key=str
    )
    names = {p.key: p.name for p in access_catalogue.known_products()}
    assert names["hotmart:P1"] == "Curso A (novo nome)" and names["hotmart:P2"] == "P2"
    assert "kirvano:K1" not in names


def test_no_sales_no_products(app):
    assert access_catalogue._seen_products() == []
