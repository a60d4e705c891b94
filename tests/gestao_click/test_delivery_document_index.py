"""automation_deliveries.buyer_document: the payload's CPF/CNPJ as digits, stored on every
write and indexed with the target (migration f2c4e6a8b0d1, backfilled), so the Gestão Click
sender's look-up of another delivery of the same document is an index seek on both databases."""

from __future__ import annotations

from types import SimpleNamespace

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.extensions import db
from app.models import AutomationDelivery
from app.models.automation import DELIVERY_SENT, TARGET_GESTAO_CLICK, TARGET_KOMMO
from app.services.gestao_click_push import GestaoClickPusher


def _delivery(key: str, document, **extra) -> AutomationDelivery:
    row = AutomationDelivery(
        target=extra.pop("target", TARGET_GESTAO_CLICK),
        step="gc_venda",
        dedupe_key=key,
        payload={"buyer_document": document} if document is not None else {},
        **extra,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_document_is_stored_as_digits_on_insert_and_update(app):
    row = _delivery("gc:1", "477.182.526-20")
    assert row.buyer_document == "47718252620"
    row.payload = {"buyer_document": "12.345.678/0001-95"}
    db.session.commit()
    assert db.session.scalar(select(AutomationDelivery.buyer_document)) == "12345678000195"
    row.payload = {"buyer_document": ""}
    db.session.commit()
    assert row.buyer_document is None
    assert _delivery("gc:2", None).buyer_document is None


def test_document_cliente_finds_any_spelling_of_the_document(app):
    found = _delivery("gc:a", "477.182.526-20", remote_contact_id=901, status=DELIVERY_SENT)
    _delivery("km:a", "47718252620", remote_contact_id=5, target=TARGET_KOMMO)  # other target
    _delivery("gc:b", "111.222.333-44", remote_contact_id=902, status=DELIVERY_SENT)
    mine = _delivery("gc:c", "47718252620")
    plan = SimpleNamespace(cliente_body={"cpf_cnpj": "47718252620"})
    assert GestaoClickPusher.document_cliente(mine, plan) == (found.remote_contact_id, False)
    other = SimpleNamespace(cliente_body={"cpf_cnpj": "99999999999"})
    assert GestaoClickPusher.document_cliente(mine, other) == (None, False)


def test_the_look_up_uses_the_index(app):
    query = select(AutomationDelivery.remote_contact_id).where(
        AutomationDelivery.target == TARGET_GESTAO_CLICK,
        AutomationDelivery.buyer_document == "47718252620",
    )
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # an empty table: force the choice
            plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
        else:
            plan = "\n".join(str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_automation_deliveries_target_document" in plan, plan


def test_migration_backfills_the_documents(app):
    downgrade(revision="e9b1d3f5a7c2")
    with db.engine.begin() as conn:
        for n, payload in enumerate(
            ('{"buyer_document": "477.182.526-20"}', '{"buyer_email": "a@b.c"}', "{}")
        ):
            conn.execute(
                text(
                    "INSERT INTO automation_deliveries (target, step, dedupe_key, payload, "
                    "status, attempts, next_attempt_at, note_added, created_at, updated_at) "
                    "VALUES ('gestao_click', 'gc_venda', :key, :payload, 'sent', 0, "
                    "CURRENT_TIMESTAMP, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"key": f"gc:{n}", "payload": payload},
            )
    upgrade()
    docs = db.session.execute(
        select(AutomationDelivery.dedupe_key, AutomationDelivery.buyer_document).order_by(
            AutomationDelivery.dedupe_key
        )
    ).all()
    assert docs == [("gc:0", "47718252620"), ("gc:1", None), ("gc:2", None)]
