"""The cross reports' lists at size: kommo_won_daily (won Kommo leads per São Paulo day,
responsible user and whether the contact bought) with its triggers on kommo_leads and
kommo_contacts, backfilled; the indexes "comprou fora do CRM" walks (buyers by e-mail and
date, real approved sales by date).

Revision ID: f1a3c5e7b9d0
Revises: a7c9e1b3d5f8
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "f1a3c5e7b9d0"
down_revision = "a7c9e1b3d5f8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kommo_won_daily",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("owner", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("has_sale", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "owner", "has_sale"),
    )
    op.create_index(
        "ix_sales_buyer_email_lower", "sales", [sa.text("lower(buyer_email)")], unique=False
    )
    from app.services import summaries

    dialect = op.get_bind().dialect.name
    for statement in summaries.won_daily_trigger_statements(dialect):
        op.execute(statement)
    recompute = summaries.recompute_statements(dialect)["kommo_won_daily"]
    op.execute(f"INSERT INTO kommo_won_daily ({summaries.COLUMNS['kommo_won_daily']}) {recompute}")


def downgrade():
    from app.services import summaries

    for statement in summaries.won_daily_drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("kommo_won_daily")
    op.drop_index("ix_sales_buyer_email_lower", table_name="sales")
