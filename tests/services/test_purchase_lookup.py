"""The sales of one purchase (its main sale and the order bumps naming it as their parent) are
found by two index seeks, whatever the number of sales: every approval looks them up, and a
plan walking every sale of the platform made each approval slower as the table grew."""

from __future__ import annotations

from sqlalchemy import select, text

from app.extensions import db
from app.models import Sale
from app.services.activation_links import _purchase_filter, purchase_sales


def _sale(tx: str, parent: str | None = None, platform: str = "kirvano") -> Sale:
    sale = Sale(
        platform=platform, transaction_id=tx, parent_transaction_id=parent, status="approved"
    )
    db.session.add(sale)
    return sale


def test_purchase_sales_are_the_main_sale_and_its_bumps(app):
    main = _sale("K-1")
    bump = _sale("K-1:bump", parent="K-1")
    _sale("K-2")
    _sale("K-2:bump", parent="K-2")
    _sale("K-1", platform="hotmart")  # the same id on another platform
    db.session.commit()
    assert purchase_sales(main) == [main, bump]
    assert purchase_sales(bump) == [main, bump]


def test_the_purchase_look_up_seeks_two_indexes(app):
    main = _sale("K-1")
    db.session.commit()
    query = select(Sale.id).where(*_purchase_filter(main)).order_by(Sale.id)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # a tiny table: force the choice
            plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
            # (which index a planner picks for a one-row table says nothing; no scan does)
            assert "Seq Scan" not in plan, plan
        else:
            plan = "\n".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "SCAN sales" not in plan, plan
            assert "(platform=? AND transaction_id=?)" in plan, plan
            assert "ix_sales_parent (platform=? AND parent_transaction_id=?)" in plan, plan
