"""automation_deliveries.buyer_phone: the payload's phone as its national digits, stored on
write and indexed (issue 14), so the Kommo sender reuses an earlier
delivery's contact and keeps one buyer at a time by phone too, not by e-mail only.
Backfilled from the payloads.

Revision ID: d8f0b2c4e6a8
Revises: c7e9a1b3d5f7
Create Date: 2026-12-04 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d8f0b2c4e6a8"
down_revision = "c7e9a1b3d5f7"
branch_labels = None
depends_on = None

BATCH = 2_000
deliveries = sa.table(
    "automation_deliveries",
    sa.column("id", sa.Integer),
    sa.column("payload", sa.JSON),
    sa.column("buyer_phone", sa.String),
)


def _phone_key(value) -> str:  # app.models.automation.phone_key, frozen here
    digits = "".join(ch for ch in str(value or "") if ch.isdecimal())
    if len(digits) < 8:
        return ""
    if digits.startswith("55") and len(digits) > 11:
        digits = digits[2:]
    return digits[-11:]


def upgrade():
    op.add_column(
        "automation_deliveries", sa.Column("buyer_phone", sa.String(length=20), nullable=True)
    )
    op.create_index(
        "ix_automation_deliveries_buyer_phone",
        "automation_deliveries",
        ["buyer_phone"],
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
        keys = [
            {"row_id": r.id, "phone": _phone_key((r.payload or {}).get("buyer_phone"))}
            for r in rows
        ]
        keys = [k for k in keys if k["phone"]]
        if keys:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.id == sa.bindparam("row_id"))
                .values(buyer_phone=sa.bindparam("phone")),
                keys,
            )


def downgrade():
    op.drop_index("ix_automation_deliveries_buyer_phone", table_name="automation_deliveries")
    op.drop_column("automation_deliveries", "buyer_phone")
