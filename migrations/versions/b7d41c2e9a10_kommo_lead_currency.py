"""kommo lead currency (the account's, from GET /api/v4/account)

Revision ID: b7d41c2e9a10
Revises: a9381ab50704
Create Date: 2026-12-01 11:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c2e9a10'
down_revision = 'a9381ab50704'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kommo_leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('kommo_leads', schema=None) as batch_op:
        batch_op.drop_column('currency')
