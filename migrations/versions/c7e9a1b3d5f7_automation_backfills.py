"""automation_backfills: "Enviar vendas anteriores" run in the background (issue 14)

Queueing a large history inside the request took ~4.3 s per 5,000 sales on SQLite, so a big
backfill timed out. Each backfill is now a row, run by the background pool; ``active`` is
unique while one is queued or running, so a second click finds it instead of starting another.

Revision ID: c7e9a1b3d5f7
Revises: b5d7f9a1c3e5
Create Date: 2026-12-04 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c7e9a1b3d5f7"
down_revision = "b5d7f9a1c3e5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "automation_backfills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active", sa.String(length=16), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("targets", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_backfills")),
        sa.UniqueConstraint("active", name=op.f("uq_automation_backfills_active")),
    )


def downgrade():
    op.drop_table("automation_backfills")
