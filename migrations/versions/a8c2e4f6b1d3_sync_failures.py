"""sync failures: the records a run could not save and why

Revision ID: a8c2e4f6b1d3
Revises: d5f7b9c1e3a4
Create Date: 2026-12-01 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8c2e4f6b1d3'
down_revision = 'd5f7b9c1e3a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sync_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('resource', sa.String(length=64), nullable=False),
        sa.Column('remote_id', sa.String(length=128), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_failures_run_id_sync_runs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_failures')),
    )
    with op.batch_alter_table('sync_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_failures_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_failures_run_id'))
    op.drop_table('sync_failures')
