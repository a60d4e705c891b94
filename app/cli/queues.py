"""The queues' commands: ``webhooks replay``, ``worker``, ``outbox send``, ``telegram``,
``automations send`` / ``backfill``."""

from __future__ import annotations

import click
from flask import current_app

from app.cli import bp
from app.plurals import plural


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
