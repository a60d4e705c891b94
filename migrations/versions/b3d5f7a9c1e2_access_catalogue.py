"""access catalogue: access items (member-area URL, download, Telegram chat) and the rules
mapping each platform's products to them

Revision ID: b3d5f7a9c1e2
Revises: d8f0a2c4e6b8
"""

import sqlalchemy as sa
from alembic import op

revision = "b3d5f7a9c1e2"
down_revision = "d8f0a2c4e6b8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("chat_id", sa.String(length=64), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_items_chat_id", "access_items", ["chat_id"], unique=False)
    op.create_table(
        "access_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=False),
        sa.Column("product_name", sa.String(length=255), nullable=True),
        sa.Column("offer_code", sa.String(length=255), server_default="", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "product_id", "offer_code", name="uq_access_rules_product"),
    )
    op.create_table(
        "access_rule_items",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["access_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["access_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id", "item_id"),
    )
    op.create_index("ix_access_rule_items_item", "access_rule_items", ["item_id"], unique=False)


def downgrade():
    op.drop_index("ix_access_rule_items_item", table_name="access_rule_items")
    op.drop_table("access_rule_items")
    op.drop_table("access_rules")
    op.drop_index("ix_access_items_chat_id", table_name="access_items")
    op.drop_table("access_items")
