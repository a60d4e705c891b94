"""The cross reports' precomputed CRM match (sales.crm_matched, sales.crm_owner_id,
kommo_contacts.has_sale) backfilled from customer_keys, and the access catalogue's index of
products seen in real sales.

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
        ["is_test", "platform", "product_id", "product_name"],
        unique=False,
    )
    from app.services.customers import matches

    matches.rebuild(op.get_bind())


def downgrade():
    op.drop_index("ix_sales_real_products", table_name="sales")
    op.drop_column("kommo_contacts", "has_sale")
    op.drop_column("sales", "crm_owner_id")
    op.drop_column("sales", "crm_matched")
