"""Command-line tools: ``flask --app wsgi <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Blueprint, current_app
from flask_migrate.cli import db as db_group

from app.extensions import db
from app.models import OPERATOR_OWNER, OPERATOR_ROLES
from app.plurals import ngettext, plural
from app.services import accounts, audit, settings

bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.command("create-operator")
@click.option("--email", required=True, help="E-mail do operador.")
@click.option("--password", required=True, help="Senha (mínimo 8 caracteres).")
@click.option("--name", default="", help="Nome exibido.")
@click.option(
    "--role",
    default=OPERATOR_OWNER,
    show_default=True,
    help="Papel na equipe: owner (proprietário), operator (operador) ou read_only "
    "(somente leitura).",
)
def create_operator(email: str, password: str, name: str, role: str) -> None:
    """Create an operator account (non-interactive, for scripts); an owner unless --role."""
    role = (role or "").strip().lower().replace("-", "_")
    if role not in OPERATOR_ROLES:
        raise click.ClickException(
            f"Papel inválido: {role or '(vazio)'}. Use owner (proprietário), operator "
            "(operador) ou read_only (somente leitura)."
        )
    try:
        user = accounts.create_operator(email, password, name=name, operator_role=role)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    audit.record(
        audit.OPERATOR_CREATED,
        actor_label=audit.ACTOR_CLI,
        target_type="user",
        target_id=user.id,
        details={
            "email": user.email,
            "role": OPERATOR_ROLES[role],
            "via": "linha de comando (create-operator)",
        },
    )
    db.session.commit()
    click.echo(f"Operador criado: {user.email} (id {user.id}), papel: {OPERATOR_ROLES[role]}")


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


@bp.cli.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first key of SETTINGS_ENCRYPTION_KEYS."""
    touched = settings.rotate_all()
    db.session.commit()
    click.echo(
        ngettext(
            "%(num)s registro recriptografado com a chave principal.",
            "%(num)s registros recriptografados com a chave principal.",
            touched,
        )
    )


@bp.cli.group("webhooks")
def webhooks_group() -> None:
    """Stored webhook events."""


@webhooks_group.command("replay")
@click.argument("event_id", required=False, type=int)
@click.option("--failed", is_flag=True, help="Reprocessa todos os eventos com falha.")
def webhooks_replay(event_id: int | None, failed: bool) -> None:
    """Reprocess one stored event (by id) or every failed one."""
    from app.services import outbox
    from app.services import webhooks as service

    if (event_id is None) == (not failed):
        raise click.UsageError("Informe um ID de evento ou --failed (apenas um dos dois).")
    if failed:
        counts = service.replay_failed(now=True)
        click.echo(
            f"processados: {counts['processed']}, ignorados: {counts['ignored']}, "
            f"falharam: {counts['failed']}"
        )
    else:
        try:
            status = service.process(event_id)
        except LookupError as exc:
            raise click.ClickException(f"Evento {event_id} não encontrado.") from exc
        click.echo(f"evento {event_id}: {status}")
    outbox.send_pending()


@bp.cli.command("worker")
@click.option("--threads", type=click.IntRange(min=1), default=2, help="Threads de trabalho.")
@click.option("--once", is_flag=True, help="Faz o que está pendente agora e termina.")
def worker_command(threads: int, once: bool) -> None:
    """Process stored webhooks and send due e-mail until stopped (a process of its own)."""
    from app import worker

    if once:
        click.echo(f"itens processados: {worker.drain()}")
        return
    worker.run_forever(current_app._get_current_object(), threads, echo=click.echo)


@bp.cli.group("outbox")
def outbox_group() -> None:
    """Outgoing e-mail."""


@outbox_group.command("send")
def outbox_send() -> None:
    """Deliver the e-mails that are due."""
    from app.services import outbox, telegram

    if telegram.configured():  # the Telegram notifications and access links share it
        from app.services import automation_sender

        sent: dict[str, int] = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
        if telegram.notifications_enabled():
            automation_sender._send_target("telegram", 1000, sent)
        automation_sender._send_target("telegram_access", 1000, sent)
        click.echo(
            f"avisos do Telegram enviados: {sent['sent']}, para nova tentativa: "
            f"{sent['retry']}, falharam: {sent['failed']}"
        )
    if not outbox.smtp_configured():
        raise click.ClickException("SMTP_HOST não configurado: os e-mails continuam na fila.")
    counts = outbox.send_pending(limit=1000)
    click.echo(
        f"enviados: {counts['sent']}, para nova tentativa: {counts['retry']}, "
        f"falharam: {counts['failed']}"
    )


@bp.cli.group("telegram")
def telegram_group() -> None:
    """The Telegram bot (SPEC §10)."""


@telegram_group.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register {APP_URL}/webhook/telegram with the secret (never printed) and chat_member."""
    from app.services import telegram

    ok, message = telegram.set_webhook(by="cli")
    if not ok:
        raise click.ClickException(message)
    click.echo(message)


@telegram_group.command("test")
def telegram_test() -> None:
    """The connection test: the bot, then each configured chat."""
    from app.services import telegram

    result = telegram.test_connection()
    click.echo(result.message)
    if not result.success:
        raise SystemExit(1)


@bp.cli.group("automations")
def automations_group() -> None:
    """Sales pushed to Kommo and Gestão Click (SPEC §9)."""


@automations_group.command("send")
@click.option("--retry-failed", is_flag=True, help="Também tenta de novo as que falharam.")
def automations_send(retry_failed: bool) -> None:
    """Deliver the pending pushes now."""
    from app.extensions import db
    from app.services import automation_sender, automations

    if not automations.enabled_targets():
        raise click.ClickException(
            "Nenhuma automação ligada (KOMMO_PUSH_SALES, GESTAOCLICK_PUSH_SALES): "
            "os envios continuam na fila."
        )
    if retry_failed:
        automation_sender.retry_failed()
        db.session.commit()
    counts = automation_sender.send_pending(limit=1000)
    click.echo(
        f"enviados: {counts['sent']}, para nova tentativa: {counts['retry']}, "
        f"falharam: {counts['failed']}, cancelados: {counts['cancelled']}"
    )


@automations_group.command("backfill")
@click.option("--since", metavar="AAAA-MM-DD", help="Vendas a partir deste dia (São Paulo).")
@click.option("--all", "every", is_flag=True, help="Todas as vendas, de qualquer data.")
@click.option("--dry-run", is_flag=True, help="Só conta: não coloca nada na fila.")
@click.option("--kommo", is_flag=True, help="Só para o Kommo.")
@click.option("--gestao-click", is_flag=True, help="Só para o Gestão Click.")
def automations_backfill(
    since: str | None, every: bool, dry_run: bool, kommo: bool, gestao_click: bool
) -> None:
    """Queue the sales made before the push was on (each sale and step once)."""
    from datetime import date

    from app.models.automation import TARGET_GESTAO_CLICK, TARGET_KOMMO
    from app.services import audit, automations
    from app.services import automation_backfill as backfill

    if bool(since) == every:
        raise click.ClickException("Informe --since AAAA-MM-DD ou --all (todas as vendas).")
    day = None
    if since:
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise click.ClickException(
                f"Data inválida em --since: {since!r}. Use AAAA-MM-DD, por exemplo 2026-01-31."
            ) from None
    enabled = automations.enabled_targets()
    asked = tuple(t for t, on in ((TARGET_KOMMO, kommo), (TARGET_GESTAO_CLICK, gestao_click)) if on)
    # none asked: every switched-on target (none on: both, and the refusal says so)
    targets = asked or tuple(t for t in backfill.TARGETS if t in enabled) or backfill.TARGETS
    try:
        plans = backfill.plan(day, targets)
        for p in plans:
            click.echo(p.summary())
        if dry_run:
            click.echo("Simulação: nada foi colocado na fila.")
            return
        counts = backfill.queue(day, targets)
        backfill.record(day, counts, actor_label=audit.ACTOR_CLI)
    except backfill.BackfillError as exc:
        detail = f" ({exc.technical})" if exc.technical else ""
        raise click.ClickException(f"{exc}{detail}") from None
    for p in plans:
        n = counts.get(p.target, 0)
        click.echo(f"{p.name}: {n} {plural(n, 'venda colocada', 'vendas colocadas')} na fila.")


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
        click.echo(
            f"{name}: {run.status} (execução #{run.id}) — criados {run.created_count}, "
            f"atualizados {run.updated_count}, sem mudança {run.unchanged_count}, "
            f"falhas {run.failed_count}"
        )
        _echo_run(name, run)
        failed = failed or run.status != "succeeded"
    if failed:
        raise SystemExit(1)


def _echo_run(name: str, run) -> None:
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
    click.echo(
        f"{name}: {run.status} (execução #{run.id}, reprocessa #{run_id}) — criados "
        f"{run.created_count}, atualizados {run.updated_count}, sem mudança "
        f"{run.unchanged_count}, falhas {run.failed_count}"
    )
    _echo_run(name, run)
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
