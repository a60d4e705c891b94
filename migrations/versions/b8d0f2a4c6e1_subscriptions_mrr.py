"""subscriptions and MRR: normalized state, frequency and monthly value of each subscription,
the sales' plan frequency and next charge date, and ``subscription_movements`` (MRR movement
per São Paulo month, filled by ``app.services.subscriptions``).

Revision ID: b8d0f2a4c6e1
Revises: b3d5f7a9c1e2
"""

import sqlalchemy as sa
from alembic import op


revision = "b8d0f2a4c6e1"
down_revision = "b3d5f7a9c1e2"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.add_column("sales", sa.Column("plan_frequency", sa.String(length=16), nullable=True))
    op.add_column("sales", sa.Column("next_charge_at", UTC, nullable=True))
    columns = (
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=True),
        sa.Column("mrr_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("canceled_at", UTC, nullable=True),
        sa.Column("state_at", UTC, nullable=True),
        sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("counted_active", sa.Boolean(), nullable=True),
        sa.Column("counted_mrr_cents", sa.BigInteger(), nullable=True),
    )
    for column in columns:
        op.add_column("subscriptions", column)
    for name, lead in (
        ("ix_subscriptions_state_next", []),
        ("ix_subscriptions_platform_state_next", ["platform"]),
        ("ix_subscriptions_product_state_next", ["product_id"]),
    ):
        op.create_index(
            name,
            "subscriptions",
            [*lead, "state", "is_test", "date_next_charge", "mrr_cents"],
            unique=False,
        )
    op.create_index(
        "ix_subscriptions_started_id",
        "subscriptions",
        [sa.text("coalesce(accession_date, created_at)"), "id"],
        unique=False,
    )
    op.create_index("ix_subscriptions_mrr_id", "subscriptions", ["mrr_cents", "id"], unique=False)
    op.create_table(
        "subscription_movements",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("plan_name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("product_name", sa.String(length=255), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mrr_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "platform", "product_id", "plan_name", "kind"),
    )
    op.create_index(
        "ix_subscription_movements_slice",
        "subscription_movements",
        ["platform", "product_id", "plan_name", "month"],
        unique=False,
    )
    op.create_index(
        "ix_subscription_movements_products",
        "subscription_movements",
        ["platform", "plan_name", "product_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_subscription_movements_products", table_name="subscription_movements")
    op.drop_index("ix_subscription_movements_slice", table_name="subscription_movements")
    op.drop_table("subscription_movements")
    op.drop_index("ix_subscriptions_mrr_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_started_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_product_state_next", table_name="subscriptions")
    op.drop_index("ix_subscriptions_platform_state_next", table_name="subscriptions")
    op.drop_index("ix_subscriptions_state_next", table_name="subscriptions")
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``sales`` would lose its triggers
    # and expression indexes.
    for name in (
        "counted_mrr_cents",
        "counted_active",
        "is_test",
        "state_at",
        "canceled_at",
        "mrr_cents",
        "frequency",
        "state",
    ):
        op.drop_column("subscriptions", name)
    op.drop_column("sales", "next_charge_at")
    op.drop_column("sales", "plan_frequency")
