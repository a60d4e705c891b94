"""ix_sales_main_approved: approved sales by approval date over real main-product sales only
(issue 16, fast at size). The reconciliation's count of gaps walks every approved sale of its
window and read ``is_test`` and ``parent_transaction_id`` from each sale's row (a third of its
time at 100k sales on SQLite); the partial index holds only the sales it counts.

Revision ID: a6c8e0b2d4f6
Revises: f3a5c7e9b1d2
Create Date: 2026-12-03 15:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a6c8e0b2d4f6"
down_revision = "f3a5c7e9b1d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_sales_main_approved",
        "sales",
        ["status", "approved_at"],
        sqlite_where=sa.text("is_test IS 0 AND parent_transaction_id IS NULL"),
        postgresql_where=sa.text("is_test IS false AND parent_transaction_id IS NULL"),
    )


def downgrade():
    op.drop_index("ix_sales_main_approved", table_name="sales")
