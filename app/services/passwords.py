"""Argon2id password hashing with a configurable cost."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_PASSWORD_LENGTH = 8


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    key = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    cache = current_app.extensions.setdefault("vendas_hashers", {})
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2])
    return cache[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check; with no hash a dummy verification keeps timing uniform."""
    hasher = _hasher()
    # Built on the first check of any kind (not only of an unknown e-mail), so even the first
    # login after start-up does not tell known and unknown e-mails apart.
    dummy = current_app.extensions.get("vendas_dummy_hash")
    if dummy is None:
        dummy = current_app.extensions["vendas_dummy_hash"] = hasher.hash("dummy-password")
    if not password_hash:
        try:
            hasher.verify(dummy, password + "x")
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problem(password: str, email: str | None = None) -> str | None:
    """A readable pt-BR reason why the password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A senha precisa ter pelo menos {MIN_PASSWORD_LENGTH} caracteres."
    if len(password) > 256:
        return "A senha pode ter no máximo 256 caracteres."
    if email and password.strip().lower() == email.strip().lower():
        return "A senha não pode ser igual ao e-mail."
    return None
