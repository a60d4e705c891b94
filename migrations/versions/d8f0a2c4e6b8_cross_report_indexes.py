"""Indexes of the cross reports (/relatorios): customer key matches and won Kommo leads.

Revision ID: d8f0a2c4e6b8
Revises: f3b5d7a9c1e2
Create Date: 2026-12-01 19:50:00
"""

from alembic import op

revision = "d8f0a2c4e6b8"
down_revision = "f3b5d7a9c1e2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_customer_keys_match",
        "customer_keys",
        ["kind", "value", "source", "source_id"],
        unique=False,
    )
    op.create_index(
        "ix_kommo_leads_won_closed", "kommo_leads", ["is_won", "closed_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_kommo_leads_won_closed", table_name="kommo_leads")
    op.drop_index("ix_customer_keys_match", table_name="customer_keys")
