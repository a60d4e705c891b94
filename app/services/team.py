"""The team of operators: invites (single-use, hashed, expiring, revocable), role changes and
removal. There is always at least one active owner.

Every function adds to the session (with its audit entry) and leaves the commit to the caller,
except where it says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, text, update

from app import crypto
from app.extensions import db
from app.models import (
    OPERATOR_OWNER,
    OPERATOR_ROLES,
    ROLE_ADMIN,
    OperatorInvite,
    User,
)
from app.models.types import utcnow
from app.services import accounts, audit, outbox, user_sessions
from app.services.accounts import AccountError

LAST_OWNER = (
    "A equipe precisa de pelo menos um proprietário: promova outra pessoa a proprietário antes."
)
INVITE_INVALID = "Este convite não existe. Confira se o link foi copiado inteiro."
INVITE_USED = "Este convite já foi usado. Entre com o e-mail e a senha escolhidos."
INVITE_EXPIRED = "Este convite expirou. Peça um novo convite a quem administra a equipe."
INVITE_REVOKED = "Este convite foi cancelado. Peça um novo convite a quem administra a equipe."


class TeamError(AccountError):
    """A readable pt-BR reason why the team change is refused."""


def operators() -> list[User]:
    """Every operator, active first, then by name/e-mail."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == ROLE_ADMIN)
            .order_by(User.active.desc(), func.lower(User.name), User.email)
        )
    )


def pending_invites() -> list[OperatorInvite]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(OperatorInvite)
            .where(
                OperatorInvite.used_at.is_(None),
                OperatorInvite.revoked_at.is_(None),
                OperatorInvite.expires_at > now,
            )
            .order_by(OperatorInvite.created_at.desc(), OperatorInvite.id.desc())
        )
    )


def _check_role(role: str) -> str:
    if role not in OPERATOR_ROLES:
        raise TeamError("Escolha um papel: Proprietário, Operador ou Somente leitura.")
    return role


def _lock_team() -> None:
    """Serialize owner-count decisions (PostgreSQL advisory lock, per transaction): two owners
    demoting each other at once must not leave the team without one. SQLite serializes
    writers already."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7210002)"))


def active_owner_count() -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.role == ROLE_ADMIN,
                User.operator_role == OPERATOR_OWNER,
                User.active.is_(True),
            )
        )
        or 0
    )


# --------------------------------------------------------------------------------- invites


@dataclass
class IssuedInvite:
    invite: OperatorInvite
    url: str  # the raw link: in the e-mail and on the page that created it, nowhere else


def invite(email: str, role: str, *, by: User) -> IssuedInvite:
    """A new invite for ``email`` (any earlier pending one for it stops working), e-mailed
    through the outbox and returned with its link to copy."""
    email = accounts.normalize_email(email)
    role = _check_role(role)
    existing = accounts.find_user(email)
    if existing is not None:
        if not existing.is_admin:
            raise TeamError("Este e-mail é de um comprador. Convide outro e-mail para a equipe.")
        if existing.active:
            raise TeamError("Esta pessoa já faz parte da equipe.")
        # a removed operator may be invited back: accepting reactivates that account
    now = utcnow()
    db.session.execute(
        update(OperatorInvite)
        .where(
            OperatorInvite.email == email,
            OperatorInvite.used_at.is_(None),
            OperatorInvite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = crypto.new_token()
    days = int(current_app.config.get("OPERATOR_INVITE_DAYS", 7))
    row = OperatorInvite(
        email=email,
        operator_role=role,
        token_hash=crypto.token_hash(token),
        invited_by_id=by.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    url = f"{current_app.config['APP_URL']}/convite/{token}"
    outbox.queue(
        "operator_invite",
        to=email,
        subject="Convite para a equipe do Vendas Hub",
        context={
            "inviter": by.name or by.email,
            "role": OPERATOR_ROLES[role],
            "link": url,
            "days": days,
        },
        ref_type="operator_invite",
        ref_id=row.id,
    )
    audit.record(
        audit.OPERATOR_INVITED,
        actor=by,
        target_type="operator_invite",
        target_id=row.id,
        details={"email": email, "role": OPERATOR_ROLES[role], "days": days},
    )
    return IssuedInvite(row, url)


def revoke_invite(invite_id: int, *, by: User) -> OperatorInvite:
    row = db.session.get(OperatorInvite, invite_id)
    if row is None or not row.is_pending(utcnow()):
        raise TeamError("Este convite já foi usado, cancelado ou expirou.")
    row.revoked_at = utcnow()
    audit.record(
        audit.OPERATOR_INVITE_REVOKED,
        actor=by,
        target_type="operator_invite",
        target_id=row.id,
        details={"email": row.email, "role": row.role_label},
    )
    return row


def find_invite(token: str) -> tuple[OperatorInvite | None, str | None]:
    """(the invite, None) when ``token`` can still be accepted, else (row or None, why not)."""
    row = db.session.scalar(
        select(OperatorInvite).where(OperatorInvite.token_hash == crypto.token_hash(token or ""))
    )
    if row is None:
        return None, INVITE_INVALID
    if row.used_at is not None:
        return row, INVITE_USED
    if row.revoked_at is not None:
        return row, INVITE_REVOKED
    if row.expires_at <= utcnow():
        return row, INVITE_EXPIRED
    return row, None


def accept(token: str, name: str, password: str) -> User:
    """The invitee's account, created (or a removed operator's, reactivated) with the
    invite's role; the invite is consumed atomically, so a second use fails."""
    row, problem = find_invite(token)
    if problem:
        raise TeamError(problem)
    existing = accounts.find_user(row.email)
    if existing is not None and (existing.active or not existing.is_admin):
        raise TeamError("Já existe uma conta com este e-mail. Entre com ela.")
    pw_problem = accounts.password_problem(password, row.email)
    if pw_problem:
        raise AccountError(pw_problem)
    now = utcnow()
    claimed = db.session.execute(
        update(OperatorInvite)
        .where(
            OperatorInvite.id == row.id,
            OperatorInvite.used_at.is_(None),
            OperatorInvite.revoked_at.is_(None),
            OperatorInvite.expires_at > now,
        )
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        raise TeamError(INVITE_USED)
    if existing is None:
        user = accounts.create_operator(row.email, password, name, operator_role=row.operator_role)
    else:
        user = existing
        user.name = name.strip()[:120]
        user.operator_role = row.operator_role
        user.active = True
        accounts.set_password(user, password)
    db.session.execute(
        update(OperatorInvite).where(OperatorInvite.id == row.id).values(user_id=user.id)
    )
    user.last_login_at = now
    audit.record(
        audit.OPERATOR_JOINED,
        actor=user,
        target_type="user",
        target_id=user.id,
        details={"email": user.email, "role": OPERATOR_ROLES[row.operator_role]},
    )
    return user


# --------------------------------------------------------------------------- the operators


def _operator(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_admin:
        raise TeamError("Operador não encontrado.")
    return user


def change_role(user_id: int, role: str, *, by: User) -> User:
    role = _check_role(role)
    _lock_team()
    user = _operator(user_id)
    if not user.active:
        raise TeamError("Este operador foi removido. Convide-o de novo para devolver o acesso.")
    if user.operator_role == role:
        return user
    if user.is_owner and role != OPERATOR_OWNER and active_owner_count() <= 1:
        raise TeamError(LAST_OWNER)
    old = user.operator_role_label
    user.operator_role = role
    audit.record(
        audit.OPERATOR_ROLE_CHANGED,
        actor=by,
        target_type="user",
        target_id=user.id,
        details={"email": user.email, "old_role": old, "new_role": OPERATOR_ROLES[role]},
    )
    return user


def remove(user_id: int, *, by: User) -> User:
    """Deactivate an operator: they cannot log in, and every session of theirs ends now."""
    _lock_team()
    user = _operator(user_id)
    if not user.active:
        raise TeamError("Este operador já foi removido.")
    if user.is_owner and active_owner_count() <= 1:
        raise TeamError(LAST_OWNER)
    user.active = False
    user.rotate_session_nonce()  # a cookie of theirs no longer loads the user
    user_sessions.close_all(user)  # and no server-side session record is left
    audit.record(
        audit.OPERATOR_REMOVED,
        actor=by,
        target_type="user",
        target_id=user.id,
        details={"email": user.email, "role": user.operator_role_label},
    )
    return user
