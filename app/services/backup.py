"""Online backup of the embedded SQLite database (PostgreSQL: pg_dump, see docs/deploy.md)."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from app.models.types import utcnow

PG_HINT = (
    "O backup embutido é só para SQLite. No PostgreSQL use o pg_dump, por exemplo: "
    'pg_dump -Fc -f vendas-$(date +%Y%m%d-%H%M).dump "$DATABASE_URL" '
    "(restauração com pg_restore; veja docs/deploy.md)."
)


class BackupError(Exception):
    """A backup that cannot be made; the message is for the operator (pt-BR)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int


def sqlite_path(url: URL) -> Path:
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_HINT)
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory"):
        raise BackupError("Banco SQLite em memória: não há arquivo para copiar.")
    path = Path(url.database)
    if not path.is_file():
        raise BackupError(f"Arquivo do banco não encontrado: {path}")
    return path


def destination(source: Path, output: str | None, default_dir: Path) -> Path:
    """``output`` as a file, or a timestamped file in ``output`` (a folder) or ``default_dir``."""
    name = f"{source.stem}-{utcnow():%Y%m%d-%H%M%S}.db"
    if output is None:
        return default_dir / name
    target = Path(output).expanduser()
    if target.is_dir():
        return target / name
    return target


def backup_sqlite(url: URL, output: str | None, default_dir: Path) -> Backup:
    """Copy the live database with sqlite3's backup API (consistent while the app writes).

    The copy is checked with ``PRAGMA integrity_check``, switched to a rollback journal so it is
    one self-contained file, written beside its final name and renamed into place (mode 0600:
    it holds personal data and the encrypted credentials).
    """
    source = sqlite_path(url)
    target = destination(source, output, default_dir)
    if target.exists():
        raise BackupError(f"Já existe um arquivo em {target}: escolha outro destino.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Não foi possível criar a pasta {target.parent}: {exc}") from exc
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if check != "ok":
            raise BackupError(f"A cópia não passou na verificação de integridade: {check}")
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"Falha ao copiar o banco: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"Falha ao gravar {target}: {exc}") from exc
    finally:
        if partial.exists():
            partial.unlink()
    return Backup(path=target, size=target.stat().st_size)


def prune(folder: Path, stem: str, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest ``<stem>-YYYYmmdd-HHMMSS.db`` files in ``folder``."""
    copies = sorted(folder.glob(f"{stem}-[0-9]*-[0-9]*.db"), key=lambda p: p.name, reverse=True)
    removed = copies[keep:]
    for path in removed:
        path.unlink()
    return removed
