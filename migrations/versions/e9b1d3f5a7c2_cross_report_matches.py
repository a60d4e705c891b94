"""The cross reports at size: the precomputed CRM match (sales.crm_matched,
sales.crm_owner_id, kommo_contacts.has_sale) backfilled from customer_keys; the daily
dimensions sales_daily_utm and sales_daily_products with their triggers, backfilled; the
access catalogue's index of products seen in real sales.

Revision ID: e9b1d3f5a7c2
Revises: b8d0f2a4c6e1
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e9b1d3f5a7c2"
down_revision = "b8d0f2a4c6e1"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch rebuild: on SQLite that would drop the summary triggers).
    op.add_column(
        "sales", sa.Column("crm_matched", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("sales", sa.Column("crm_owner_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "kommo_contacts",
        sa.Column("has_sale", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "ix_sales_real_products",
        "sales",
        ["platform", "product_id", "product_name", "is_test"],
        unique=False,
    )
    op.create_table(
        "sales_daily_utm",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("campaign", sa.String(length=255), nullable=False),
        sa.Column("approved", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "source", "campaign", "approved"),
    )
    op.create_table(
        "sales_daily_products",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("product", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "platform", "product", "method"),
    )
    op.create_table(
        "sales_daily_owners",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("owner", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("in_crm", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "owner", "in_crm"),
    )
    from app.services import summaries
    from app.services.customers import matches

    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in summaries.dims_trigger_statements(dialect):
        op.execute(statement)
    recompute = summaries.recompute_statements(dialect)
    matches.rebuild(bind)
    for table in ("sales_daily_utm", "sales_daily_products", "sales_daily_owners"):
        op.execute(f"DELETE FROM {table}")  # what the triggers wrote during the rebuild
        op.execute(f"INSERT INTO {table} ({summaries.COLUMNS[table]}) {recompute[table]}")


def downgrade():
    from app.services import summaries

    for statement in summaries.dims_drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("sales_daily_owners")
    op.drop_table("sales_daily_products")
    op.drop_table("sales_daily_utm")
    op.drop_index("ix_sales_real_products", table_name="sales")
    op.drop_column("kommo_contacts", "has_sale")
    op.drop_column("sales", "crm_owner_id")
    op.drop_column("sales", "crm_matched")
