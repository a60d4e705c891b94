"""Database and data maintenance: ``db backup``, ``db rebuild-summaries``, ``sales
backfill-order-dates``, ``activation cleanup``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_migrate.cli import db as db_group

from app.cli import bp
from app.extensions import db
from app.plurals import plural


@db_group.command("backup")
@click.option(
    "--output",
    "-o",
    default=None,
    help="Arquivo ou pasta de destino (padrão: instance/backups/, nome com data e hora).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=None,
    help="Mantém só as N cópias mais recentes na pasta de destino.",
)
def db_backup(output: str | None, keep: int | None) -> None:
    """Online copy of the SQLite database (PostgreSQL: use pg_dump, see docs/deploy.md)."""
    from app.services import backup

    default_dir = Path(current_app.instance_path) / "backups"
    try:
        made = backup.backup_sqlite(db.engine.url, output, default_dir)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    size = f"{made.size:,}".replace(",", ".")
    click.echo(f"Backup salvo em {made.path} ({size} bytes, integridade ok).")
    if keep:
        stem = backup.sqlite_path(db.engine.url).stem
        for old in backup.prune(made.path.parent, stem, keep):
            click.echo(f"Cópia antiga removida: {old}")


@db_group.command("rebuild-summaries")
def db_rebuild_summaries() -> None:
    """Recompute the summary tables (after a restore or rows written with triggers off)."""
    from app.services import summaries

    with db.engine.begin() as connection:
        summaries.rebuild(connection)
    click.echo("Resumos recalculados.")


@bp.cli.group("sales")
def sales_group() -> None:
    """Sales maintenance."""


@sales_group.command("backfill-order-dates")
def sales_backfill_order_dates() -> None:
    """Fill the order date of old sales from their stored webhooks (app.services.order_dates)."""
    from app.services import order_dates

    result = order_dates.backfill()
    sales = plural(result.filled, "venda", "vendas")
    click.echo(f"Data do pedido preenchida em {result.filled} {sales} a partir dos webhooks.")
    if result.without_payload:
        left = result.without_payload
        click.echo(
            f"{left} {plural(left, 'venda continua', 'vendas continuam')} sem data do pedido "
            "nos webhooks guardados (as sincronizadas ganham a data na sincronização completa "
            "da plataforma) e seguem listadas pela data de aprovação."
        )


@bp.cli.group("activation")
def activation_group() -> None:
    """Activation links."""


@activation_group.command("cleanup")
def activation_cleanup() -> None:
    """Mark expired links and end access whose paid period is over."""
    from app.services import activation

    expired = activation.expire_links()
    ended = activation.end_lapsed_access()
    db.session.commit()
    click.echo(f"links expirados: {expired}, acessos encerrados: {ended}")
