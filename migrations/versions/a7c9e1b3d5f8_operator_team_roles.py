"""The team: users.operator_role (owner / operator / read-only) and operator_invites.

Every existing operator (role 'admin') becomes an owner: until now each one could do
everything, and the first operator created at /setup is the owner.

Revision ID: a7c9e1b3d5f8
Revises: e9b1d3f5a7c2
Create Date: 2026-12-02 00:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c9e1b3d5f8"
down_revision = "e9b1d3f5a7c2"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN: no batch rebuild of a table every other one points at.
    op.add_column("users", sa.Column("operator_role", sa.String(length=16), nullable=True))
    op.execute("UPDATE users SET operator_role = 'owner' WHERE role = 'admin'")
    op.create_table(
        "operator_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("operator_role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invited_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_operator_invites_email", "operator_invites", ["email"], unique=False)


def downgrade():
    op.drop_index("ix_operator_invites_email", table_name="operator_invites")
    op.drop_table("operator_invites")
    op.drop_column("users", "operator_role")
