""" "Comprou fora do CRM" at size: each sale's day of its buyer's previous real approved sale
(over all of them and those in the CRM, on any platform and on its own: sales.prev_*_day) and
sales_daily_buyers (those sales per São Paulo day, platform and previous day), kept by
triggers and backfilled, so the report's total and chart are a sum over days instead of a
grouping of every sale of the range.

Revision ID: a4c6e8f0b2d4
Revises: f2c4e6a8b0d1
Create Date: 2026-12-02 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a4c6e8f0b2d4"
down_revision = "f2c4e6a8b0d1"
branch_labels = None
depends_on = None

COLUMNS = ("prev_buyer_day", "prev_buyer_crm_day", "prev_platform_day", "prev_platform_crm_day")


def upgrade():
    # Plain ADD COLUMN (no batch rebuild: on SQLite that would drop the summary triggers).
    for column in COLUMNS:
        op.add_column(
            "sales",
            sa.Column(column, sa.String(length=10), server_default="", nullable=False),
        )
    op.create_table(
        "sales_daily_buyers",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prev_day", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "kind", "prev_day"),
    )
    from app.services import summaries

    dialect = op.get_bind().dialect.name
    op.execute(summaries.buyer_prev_update(dialect, "coalesce(buyer_email, '') <> ''"))
    for statement in summaries.buyers_trigger_statements(dialect):
        op.execute(statement)
    columns = summaries.COLUMNS["sales_daily_buyers"]
    op.execute(f"INSERT INTO sales_daily_buyers ({columns}) {summaries.buyers_recompute(dialect)}")


def downgrade():
    from app.services import summaries

    for statement in summaries.buyers_drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("sales_daily_buyers")
    for column in reversed(COLUMNS):
        op.drop_column("sales", column)
