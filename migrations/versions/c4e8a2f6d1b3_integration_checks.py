"""integration checks: the last connection outcome of each API integration

Revision ID: c4e8a2f6d1b3
Revises: a1c3e5f7b9d2
Create Date: 2026-12-01 16:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e8a2f6d1b3'
down_revision = 'a1c3e5f7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'integration_checks',
        sa.Column('platform', sa.String(length=32), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('platform'),
    )


def downgrade():
    op.drop_table('integration_checks')
