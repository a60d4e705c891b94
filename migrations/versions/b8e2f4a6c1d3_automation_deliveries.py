"""automation_deliveries: the outbound outbox of sale pushes (Kommo first)

Revision ID: b8e2f4a6c1d3
Revises: c4e8a2f6d1b3
Create Date: 2026-12-01 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e2f4a6c1d3'
down_revision = 'c4e8a2f6d1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'automation_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=32), nullable=False),
        sa.Column('step', sa.String(length=32), nullable=False),
        sa.Column('dedupe_key', sa.String(length=255), nullable=False),
        sa.Column('sale_id', sa.Integer(), nullable=True),
        sa.Column('webhook_event_id', sa.Integer(), nullable=True),
        sa.Column('buyer_email', sa.String(length=254), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('remote_contact_id', sa.BigInteger(), nullable=True),
        sa.Column('remote_lead_id', sa.BigInteger(), nullable=True),
        sa.Column('note_added', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    with op.batch_alter_table('automation_deliveries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_automation_deliveries_status_next', ['status', 'next_attempt_at'], unique=False
        )
        batch_op.create_index(
            'ix_automation_deliveries_target_email', ['target', 'buyer_email'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_automation_deliveries_sale_id'), ['sale_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('automation_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automation_deliveries_sale_id'))
        batch_op.drop_index('ix_automation_deliveries_target_email')
        batch_op.drop_index('ix_automation_deliveries_status_next')
    op.drop_table('automation_deliveries')
