"""telegram_invites: each member's personal invite link to a Telegram chat

Revision ID: f3b5d7a9c1e2
Revises: c6e8a0b2d4f6
"""

import sqlalchemy as sa
from alembic import op

revision = "f3b5d7a9c1e2"
down_revision = "c6e8a0b2d4f6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "telegram_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("invite_link", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=32), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_link"),
        sa.UniqueConstraint("user_id", "chat_id", name="uq_telegram_invites_user_chat"),
    )
    op.create_index("ix_telegram_invites_user_id", "telegram_invites", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_telegram_invites_user_id", table_name="telegram_invites")
    op.drop_table("telegram_invites")
