"""A monthly twin of sales_daily for "reembolsos" (issue 16, fast at size):
sales_monthly_status (non-test BRL sales per São Paulo month, platform and status), kept by
its own triggers on sales and filled from the sales, so a year of refunds reads ~12 months ×
platforms × statuses rows instead of every day's buckets.

Revision ID: f3a5c7e9b1d2
Revises: d2f4a6c8e0b1
Create Date: 2026-12-03 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f3a5c7e9b1d2"
down_revision = "d2f4a6c8e0b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sales_monthly_status",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "platform", "status"),
    )
    from app.services import summaries

    dialect = op.get_bind().dialect.name
    for statement in summaries.status_months_trigger_statements(dialect):
        op.execute(statement)
    table = "sales_monthly_status"
    recompute = summaries.recompute_statements(dialect)[table]
    op.execute(f"INSERT INTO {table} ({summaries.COLUMNS[table]}) {recompute}")


def downgrade():
    from app.services import summaries

    for statement in summaries.status_months_drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("sales_monthly_status")
