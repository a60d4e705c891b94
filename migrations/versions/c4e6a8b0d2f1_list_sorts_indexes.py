"""list sorts: indexes for the header sorts of /vendas, /ativacoes and /webhooks

Revision ID: c4e6a8b0d2f1
Revises: a1c3e5f7b9d2
Create Date: 2026-12-01 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


revision = "c4e6a8b0d2f1"
down_revision = "a1c3e5f7b9d2"
branch_labels = None
depends_on = None


# Plain CREATE INDEX (no batch): a batch rebuild of sales on SQLite would drop the summary
# triggers of a1c3e5f7b9d2.
PLAIN = (
    ("ix_sales_platform_id", "sales", ["platform", "id"]),
    ("ix_sales_status_id", "sales", ["status", "id"]),
    ("ix_activation_links_email_id", "activation_links", ["buyer_email", "id"]),
    ("ix_webhook_events_platform_id", "webhook_events", ["platform", "id"]),
    ("ix_webhook_events_status_id", "webhook_events", ["status", "id"]),
)


def upgrade():
    op.create_index(
        "ix_sales_amount_id",
        "sales",
        [sa.text("coalesce(amount_cents, 0)"), "id"],
        unique=False,
    )
    for name, table, columns in PLAIN:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(PLAIN):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_sales_amount_id", table_name="sales")
