"""Command-line tools: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
from flask import Blueprint

from app.extensions import db
from app.services import accounts, settings

bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.command("create-operator")
@click.option("--email", required=True, help="E-mail do operador.")
@click.option("--password", required=True, help="Senha (mínimo 8 caracteres).")
@click.option("--name", default="", help="Nome exibido.")
def create_operator(email: str, password: str, name: str) -> None:
    """Create an operator account (non-interactive, for scripts)."""
    try:
        user = accounts.create_operator(email, password, name=name)
    except accounts.AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Operador criado: {user.email} (id {user.id})")


@bp.cli.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored secret with the first key of SETTINGS_ENCRYPTION_KEYS."""
    touched = settings.rotate_all()
    db.session.commit()
    click.echo(f"{touched} registro(s) recriptografado(s) com a chave principal.")


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
        counts = service.replay_failed()
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


@bp.cli.group("outbox")
def outbox_group() -> None:
    """Outgoing e-mail."""


@outbox_group.command("send")
def outbox_send() -> None:
    """Deliver the e-mails that are due."""
    from app.services import outbox

    if not outbox.smtp_configured():
        raise click.ClickException("SMTP_HOST não configurado: os e-mails continuam na fila.")
    counts = outbox.send_pending(limit=1000)
    click.echo(
        f"enviados: {counts['sent']}, para nova tentativa: {counts['retry']}, "
        f"falharam: {counts['failed']}"
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
