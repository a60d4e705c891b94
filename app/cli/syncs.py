"""``sync`` (one source now, in this process, or a run's failures again) and ``scheduler run``."""

from __future__ import annotations

import click

from app.cli import bp
from app.plurals import ngettext


@bp.cli.command("sync")
@click.argument("source")
@click.option("--full", is_flag=True, help="Sincronização completa em vez de incremental.")
@click.option("--resource", "resources", multiple=True, help="Só este recurso (repetível).")
@click.option(
    "--reprocess",
    "reprocess_id",
    type=int,
    metavar="EXECUCAO",
    help="Reprocessa as falhas da execução EXECUCAO (lê de novo a janela dela).",
)
def sync_command(
    source: str, full: bool, resources: tuple[str, ...], reprocess_id: int | None
) -> None:
    """Run every sync of SOURCE (hotmart, kommo, gestao-click…) now, in this process."""
    from app.services import sync

    if reprocess_id is not None:
        _reprocess(sync, source, reprocess_id)
        return

    syncers = sync.syncers(source)
    if resources:
        syncers = [s for s in syncers if s.resource in resources]
    if not syncers:
        available = ", ".join(s.replace("_", "-") for s in sync.sources()) or "nenhuma"
        raise click.ClickException(
            f"Nenhuma sincronização registrada para '{source}'. Disponíveis: {available}."
        )
    failed = False
    for syncer in syncers:
        name = f"{syncer.source.replace('_', '-')}/{syncer.resource}"
        try:
            run = sync.run_sync(syncer.source, syncer.resource, full=full)
        except sync.SyncError as exc:
            click.echo(f"{name}: {exc}", err=True)
            failed = True
            continue
        if run.is_active:
            click.echo(f"{name}: já em andamento (execução #{run.id}); nada foi iniciado.")
            continue
        _echo_run(name, run, f"execução #{run.id}")
        failed = failed or run.status != "succeeded"
    if failed:
        raise SystemExit(1)


def _echo_run(name: str, run, which: str) -> None:
    """A finished run's counts, its error and how to fetch its failures again."""
    click.echo(
        f"{name}: {run.status} ({which}) — criados {run.created_count}, "
        f"atualizados {run.updated_count}, sem mudança {run.unchanged_count}, "
        f"falhas {run.failed_count}"
    )
    if run.error:
        click.echo(f"  erro: {run.error}", err=True)
    if run.failed_count and not run.is_active:
        click.echo(
            "  "
            + ngettext("%(num)s registro falhou", "%(num)s registros falharam", run.failed_count)
            + "; para buscá-los de novo: "
            f"flask sync {run.source.replace('_', '-')} --reprocess {run.id}",
            err=True,
        )


def _reprocess(sync, source: str, run_id: int) -> None:
    from app.extensions import db
    from app.models import SyncRun

    original = db.session.get(SyncRun, run_id)
    if original is None or original.source != sync.normalize_source(source):
        raise click.ClickException(f"Execução #{run_id} de '{source}' não encontrada.")
    name = f"{original.source.replace('_', '-')}/{original.resource}"
    try:
        run, created = sync.reprocess(run_id, background=False)
    except sync.SyncError as exc:
        raise click.ClickException(str(exc)) from None
    if not created:
        click.echo(f"{name}: já em andamento (execução #{run.id}); nada foi iniciado.")
        return
    _echo_run(name, run, f"execução #{run.id}, reprocessa #{run_id}")
    if run.status != "succeeded" or run.failed_count:
        raise SystemExit(1)


@bp.cli.group("scheduler")
def scheduler_group() -> None:
    """Scheduled jobs."""


@scheduler_group.command("run")
def scheduler_run() -> None:
    """Run the scheduler in the foreground (its own process); Ctrl-C stops it cleanly."""
    from flask import current_app

    from app import scheduler

    scheduler.run_forever(current_app._get_current_object(), echo=click.echo)
