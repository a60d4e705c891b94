"""Models and migrations agree, on the backend under test."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db

# SQLite cannot reflect the expression index ix_sales_when_id (PostgreSQL compares it).
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based"),
]


def _diff():
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, db.metadata)


def test_models_match_migrations(app):
    assert _diff() == []


def test_downgrade_to_base_and_back(app):
    downgrade(revision="base")
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert _diff() == []
    assert {"users", "integration_settings", "outbox_emails"} <= set(
        inspect(db.engine).get_table_names()
    )
