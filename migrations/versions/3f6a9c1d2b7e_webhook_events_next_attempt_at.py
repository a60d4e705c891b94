"""webhook_events.next_attempt_at: back-off of failed events retried by the workers

Revision ID: 3f6a9c1d2b7e
Revises: 3c5e1a9d7b42
Create Date: 2026-12-01 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f6a9c1d2b7e'
down_revision = '3c5e1a9d7b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
