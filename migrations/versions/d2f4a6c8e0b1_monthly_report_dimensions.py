"""Monthly twins of the cross reports' daily dimensions (issue 16, fast at size):
sales_monthly_utm and sales_monthly_products, kept by their own triggers on sales and filled
from the sales, so "por origem" and "por produto" over a year read ~12 × their dimension's
rows instead of ~365 ×.

Revision ID: d2f4a6c8e0b1
Revises: b1d3f5a7c9e0
Create Date: 2026-12-03 11:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d2f4a6c8e0b1"
down_revision = "b1d3f5a7c9e0"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sales_monthly_utm",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("campaign", sa.String(length=255), nullable=False),
        sa.Column("approved", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "source", "campaign", "approved"),
    )
    op.create_table(
        "sales_monthly_products",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("product", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "platform", "product", "method"),
    )
    from app.services import summaries

    dialect = op.get_bind().dialect.name
    for statement in summaries.months_trigger_statements(dialect):
        op.execute(statement)
    recompute = summaries.recompute_statements(dialect)
    for table in ("sales_monthly_utm", "sales_monthly_products"):
        op.execute(f"INSERT INTO {table} ({summaries.COLUMNS[table]}) {recompute[table]}")


def downgrade():
    from app.services import summaries

    for statement in summaries.months_drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("sales_monthly_products")
    op.drop_table("sales_monthly_utm")
