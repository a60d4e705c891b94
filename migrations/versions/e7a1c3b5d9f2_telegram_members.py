"""telegram_members: who joined which Telegram chat through which invite link

Revision ID: e7a1c3b5d9f2
Revises: a8c2e4f6b1d3
Create Date: 2026-12-01 18:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c3b5d9f2'
down_revision = 'a8c2e4f6b1d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'telegram_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('chat_title', sa.String(length=255), nullable=True),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=True),
        sa.Column('first_name', sa.String(length=255), nullable=True),
        sa.Column('last_name', sa.String(length=255), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('invite_link', sa.String(length=255), nullable=True),
        sa.Column('invite_link_name', sa.String(length=64), nullable=True),
        sa.Column('webhook_event_id', sa.Integer(), nullable=True),
        sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('chat_id', 'user_id', name='uq_telegram_members_chat_user'),
    )
    with op.batch_alter_table('telegram_members', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_telegram_members_invite_link'), ['invite_link'], unique=False
        )


def downgrade():
    with op.batch_alter_table('telegram_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_members_invite_link'))
    op.drop_table('telegram_members')
