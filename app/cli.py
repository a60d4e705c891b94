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
