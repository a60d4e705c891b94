"""Cheaper sales_daily_buyers triggers (issue 16, fast at size, follow-up): the same results,
but nothing runs for a write that changes no column they depend on or touches no counted
sale, only the written sale and its buyer's later sales are recomputed, and only the sales
whose previous days move are written.

Revision ID: b1d3f5a7c9e0
Revises: c3e5a7b9d1f2
Create Date: 2026-12-03 07:00:00
"""

from alembic import op

revision = "b1d3f5a7c9e0"
down_revision = "c3e5a7b9d1f2"
branch_labels = None
depends_on = None


def upgrade():
    from app.services import summaries

    dialect = op.get_bind().dialect.name
    for statement in summaries.buyers_drop_statements(dialect):
        op.execute(statement)
    for statement in summaries.buyers_trigger_statements(dialect):
        op.execute(statement)


def downgrade():
    # The triggers' text lives in app.services.summaries (one text for the migrations, the
    # tests and rebuild()): a downgrade keeps the current ones, whose results are the same
    # as a4c6e8f0b2d4's.
    pass
