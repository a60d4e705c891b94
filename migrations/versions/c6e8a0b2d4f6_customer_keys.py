"""customer_keys: normalized e-mail/phone/document/name keys of buyers, Kommo contacts and
Gestão Click clients (one customer across sources). Filled by ``flask customers rebuild``.

Revision ID: c6e8a0b2d4f6
Revises: e7a1c3b5d9f2
"""

import sqlalchemy as sa
from alembic import op

revision = "c6e8a0b2d4f6"
down_revision = 'e7a1c3b5d9f2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "value",
            sa.String(length=254).with_variant(sa.String(254, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", "kind", "value", name="uq_customer_keys_record"),
    )
    op.create_index(
        "ix_customer_keys_kind_value", "customer_keys", ["kind", "value", "id"], unique=False
    )


def downgrade():
    op.drop_index("ix_customer_keys_kind_value", table_name="customer_keys")
    op.drop_table("customer_keys")
