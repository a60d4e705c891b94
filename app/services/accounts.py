"""Operators and members: creation, authentication, password change and reset."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select, text, update

from app import crypto
from app.extensions import db
from app.models import OPERATOR_OWNER, ROLE_ADMIN, ROLE_MEMBER, PasswordResetToken, User
from app.models.types import utcnow
from app.services import outbox, user_sessions
from app.services.passwords import hash_password, needs_rehash, password_problem, verify_password


class AccountError(ValueError):
    """A readable pt-BR message for the person filling the form."""


def normalize_email(email: str) -> str:
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError("Informe um e-mail válido.") from exc
    return info.normalized.lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str,
    password: str,
    name: str = "",
    role: str = ROLE_MEMBER,
    operator_role: str | None = None,
) -> User:
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    if find_user(email):
        raise AccountError("Já existe uma conta com este e-mail.")
    if role == ROLE_ADMIN and operator_role is None:
        operator_role = OPERATOR_OWNER  # /setup and the CLI create the owner
    user = User(
        email=email,
        name=name.strip()[:120],
        role=role,
        operator_role=operator_role if role == ROLE_ADMIN else None,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def operator_count() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == ROLE_ADMIN)) or 0


def lock_setup() -> None:
    """Serialize concurrent first-operator setups (PostgreSQL advisory lock, per transaction).

    SQLite already serializes writers, and the count after the insert catches the loser there.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7210001)"))


def create_operator(
    email: str, password: str, name: str = "", operator_role: str = OPERATOR_OWNER
) -> User:
    return create_user(email, password, name=name, role=ROLE_ADMIN, operator_role=operator_role)


def authenticate(email: str, password: str) -> User | None:
    """The user for valid credentials, else None (same work either way)."""
    user = find_user(email or "")
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password, user.email)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new_password)
    user.rotate_session_nonce()  # every other session of this user ends
    user_sessions.close_all(user)


def request_password_reset(email: str) -> None:
    """Queue a reset e-mail when the account exists; silent otherwise (no enumeration)."""
    user = find_user(email or "")
    if user is None or not user.active:
        return
    token = crypto.new_token()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    reset = PasswordResetToken(
        user=user,
        token_hash=crypto.token_hash(token),
        expires_at=utcnow() + timedelta(minutes=minutes),
    )
    db.session.add(reset)
    db.session.flush()
    link = f"{current_app.config['APP_URL']}/redefinir-senha/{token}"
    outbox.queue(
        "password_reset",
        to=user.email,
        subject="Redefinição de senha — Vendas Hub",
        context={"name": user.name or user.email, "link": link, "minutes": minutes},
        ref_type="password_reset",
        ref_id=reset.id,
    )


def reset_token_user(token: str) -> PasswordResetToken | None:
    """The still-valid reset token row for a raw token, else None."""
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == crypto.token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_password(token: str, new_password: str) -> User:
    row = reset_token_user(token)
    if row is None:
        raise AccountError("Este link de redefinição é inválido, expirou ou já foi usado.")
    problem = password_problem(new_password, row.user.email)
    if problem:
        raise AccountError(problem)
    # Consume atomically: only one request can flip used_at from NULL.
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        raise AccountError("Este link de redefinição já foi usado.")
    # Any other outstanding reset link of this user stops working too.
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == row.user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    set_password(row.user, new_password)
    # The e-mail proved who this is: the per-account login limit someone else may have
    # exhausted by guessing at this address starts again, so the new password works now.
    from app.ratelimit import clear_login_limit

    clear_login_limit(row.user.email)
    return row.user
