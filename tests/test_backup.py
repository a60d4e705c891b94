"""flask db backup: an online, verified copy of the SQLite database; PostgreSQL → pg_dump."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from app import create_app
from app.extensions import db
from app.services import audit
from tests.conftest import Auth, make_config


@pytest.fixture
def sqlite_only(app):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("SQLite backup (PostgreSQL uses pg_dump)")
    return app


def _rows(path, sql):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_backup_to_the_instance_folder_is_complete_and_private(sqlite_only, runner):
    Auth(sqlite_only, None).create(email="ana@example.com")
    audit.record(audit.LOGIN, actor_label="ana@example.com")
    db.session.commit()
    result = runner.invoke(args=["db", "backup"])
    assert result.exit_code == 0, result.output
    folder = os.path.join(sqlite_only.instance_path, "backups")
    (name,) = os.listdir(folder)
    path = os.path.join(folder, name)
    assert name.startswith("test-") and name.endswith(".db") and path in result.output
    assert "integridade ok" in result.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _rows(path, "SELECT email FROM users") == [("ana@example.com",)]
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(path, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    triggers = _rows(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert {"audit_entries_no_update", "audit_entries_no_delete"} <= {t for (t,) in triggers}
    assert _rows(path, "SELECT version_num FROM alembic_version")  # restorable as is


def test_backup_is_online_while_a_writer_holds_a_transaction(sqlite_only, runner, tmp_path):
    Auth(sqlite_only, None).create(email="ana@example.com")
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO users (email, name, password_hash, role, active, session_nonce, "
            "created_at) VALUES ('late@example.com', '', 'x', 'member', 1, 'n', "
            "'2026-01-01 00:00:00')"
        )
        result = runner.invoke(args=["db", "backup", "--output", str(tmp_path / "copy.db")])
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert result.exit_code == 0, result.output
    emails = {e for (e,) in _rows(tmp_path / "copy.db", "SELECT email FROM users")}
    assert emails == {"ana@example.com"}  # the committed state, not the open transaction


def test_output_folder_existing_file_and_keep(sqlite_only, runner, tmp_path):
    target = tmp_path / "copies"
    target.mkdir()
    for stamp in ("20250101-000000", "20250102-000000", "20250103-000000"):
        (target / f"test-{stamp}.db").write_bytes(b"old")
    (target / "other.db").write_bytes(b"not ours")
    result = runner.invoke(args=["db", "backup", "-o", str(target), "--keep", "2"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in target.iterdir())
    assert "other.db" in names and "test-20250103-000000.db" in names
    assert "test-20250101-000000.db" not in names and "test-20250102-000000.db" not in names
    assert len(names) == 3
    again = runner.invoke(args=["db", "backup", "-o", str(target / "other.db")])
    assert again.exit_code == 1 and "Já existe um arquivo" in again.output
    assert (target / "other.db").read_bytes() == b"not ours"


def test_postgresql_is_refused_politely_pointing_to_pg_dump(tmp_path):
    app = create_app(
        make_config("postgresql://nobody@127.0.0.1:1/none"), instance_path=str(tmp_path)
    )
    result = app.test_cli_runner().invoke(args=["db", "backup"])
    assert result.exit_code == 1
    assert "pg_dump -Fc" in result.output and "docs/deploy.md" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "backups").exists()
