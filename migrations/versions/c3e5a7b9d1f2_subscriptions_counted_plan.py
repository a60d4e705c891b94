"""Plan switches move a subscriber between plans in ``subscription_movements``: each
subscription remembers the plan its movements count it under (``counted_plan_name``),
backfilled with its current plan for every subscription already counted.

Revision ID: c3e5a7b9d1f2
Revises: a4c6e8f0b2d4
Create Date: 2026-12-03 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3e5a7b9d1f2"
down_revision = "a4c6e8f0b2d4"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("subscriptions", sa.Column("counted_plan_name", sa.String(length=255)))
    op.execute(
        "UPDATE subscriptions SET counted_plan_name = coalesce(plan_name, '') "
        "WHERE counted_active IS NOT NULL"
    )


def downgrade():
    op.drop_column("subscriptions", "counted_plan_name")
