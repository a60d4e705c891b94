"""automation_deliveries.buyer_document: the CPF/CNPJ of the payload, digits only, stored on
write and indexed with the target, so the Gestão Click sender's look-up of another delivery
of the same document (``GestaoClickPush.document_cliente``) is an index seek on both
databases instead of a JSON-path scan of every delivery. Backfilled from the payloads.

Revision ID: f2c4e6a8b0d1
Revises: f1a3c5e7b9d0
Create Date: 2026-12-02 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f2c4e6a8b0d1"
down_revision = "f1a3c5e7b9d0"
branch_labels = None
depends_on = None

BATCH = 2_000
deliveries = sa.table(
    "automation_deliveries",
    sa.column("id", sa.Integer),
    sa.column("payload", sa.JSON),
    sa.column("buyer_document", sa.String),
)


def _digits(value) -> str:  # app.models.automation.document_digits, frozen here
    return "".join(ch for ch in str(value or "") if ch.isdecimal())


def upgrade():
    op.add_column(
        "automation_deliveries", sa.Column("buyer_document", sa.String(length=32), nullable=True)
    )
    op.create_index(
        "ix_automation_deliveries_target_document",
        "automation_deliveries",
        ["target", "buyer_document"],
        unique=False,
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(deliveries.c.id, deliveries.c.payload)
            .where(deliveries.c.id > last)
            .order_by(deliveries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        docs = [
            {"row_id": r.id, "doc": _digits((r.payload or {}).get("buyer_document"))[:32]}
            for r in rows
        ]
        docs = [d for d in docs if d["doc"]]
        if docs:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == sa.bindparam("row_id"))
                .values(buyer_document=sa.bindparam("doc")),
                docs,
            )


def downgrade():
    op.drop_index("ix_automation_deliveries_target_document", table_name="automation_deliveries")
    op.drop_column("automation_deliveries", "buyer_document")
