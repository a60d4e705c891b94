"""sales: origin/UTM tracking columns and the reconciliation index

Where each sale came from (utm_source … utm_term, src, sck, xcod — app.sources.tracking), and
an index on (status, approved_at) for the reconciliation report (approved sales by approval
date). Plain ADD COLUMN / CREATE INDEX: the sales table is not rebuilt on SQLite, so its
summary triggers (a1c3e5f7b9d2) stay in place.

Revision ID: c5e7a9b1d3f4
Revises: b8e2f4a6c1d3
Create Date: 2026-12-01 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e7a9b1d3f4'
down_revision = 'b8e2f4a6c1d3'
branch_labels = None
depends_on = None

COLUMNS = (
    'utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'src', 'sck', 'xcod'
)


def upgrade():
    for name in COLUMNS:
        op.add_column('sales', sa.Column(name, sa.String(length=255), nullable=True))
    op.create_index('ix_sales_status_approved', 'sales', ['status', 'approved_at'], unique=False)


def downgrade():
    op.drop_index('ix_sales_status_approved', table_name='sales')
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild would drop the sales expression
    # index and summary triggers.
    for name in COLUMNS:
        op.drop_column('sales', name)
