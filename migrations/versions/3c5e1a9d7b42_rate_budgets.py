"""rate budgets shared by every process

``rate_budgets``: one row per platform account (``kommo:<subdomain>``,
``gestao_click:<token hash>``, ``hotmart:<client id hash>``) holding the next free request slot
and the end of a 429 pause, in Unix seconds. Claimed with one atomic UPDATE per request.

Revision ID: 3c5e1a9d7b42
Revises: df98011c667f
Create Date: 2026-12-01 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e1a9d7b42'
down_revision = 'df98011c667f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rate_budgets',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('next_slot', sa.Float(), nullable=False),
        sa.Column('paused_until', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_budgets')),
    )


def downgrade():
    op.drop_table('rate_budgets')
