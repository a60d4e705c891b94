"""ix_webhook_events_pending: the webhook events still to process (received or failed), by id
(issue 13, speed at size). Every worker claim and idle poll of the inbox looked for due events
among all of them: SQLite's planner, whose statistics know only that ``status`` has a few
values, walked every event ever received (~30 ms at 100k events, per claim and per poll).
The partial index holds the backlog only; the claim names its condition literally.

Revision ID: b5d7f9a1c3e5
Revises: a6c8e0b2d4f6
Create Date: 2026-12-03 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b5d7f9a1c3e5"
down_revision = "a6c8e0b2d4f6"
branch_labels = None
depends_on = None

PENDING_CONDITION = "status IN ('received', 'failed')"  # app.models.webhooks, as of now


def upgrade():
    op.create_index(
        "ix_webhook_events_pending",
        "webhook_events",
        ["id"],
        sqlite_where=sa.text(PENDING_CONDITION),
        postgresql_where=sa.text(PENDING_CONDITION),
    )


def downgrade():
    op.drop_index("ix_webhook_events_pending", table_name="webhook_events")
