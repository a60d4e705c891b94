"""Operator accounts and stored secrets: ``create-operator``, ``rotate-key``."""

from __future__ import annotations

import click

from app.cli import bp
from app.extensions import db
from app.models import OPERATOR_OWNER, OPERATOR_ROLES
from app.plurals import ngettext
from app.services import accounts, audit, settings


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
