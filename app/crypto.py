"""Encryption of secrets at rest (MultiFernet: the first key encrypts, every key decrypts)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

KEY_FILE = "encryption_key"


class DecryptionError(RuntimeError):
    """A stored value cannot be decrypted with any configured key."""


def parse_keys(raw: str) -> list[str]:
    return [k.strip() for k in raw.split(",") if k.strip()]


def load_or_create_key_file(instance_path: str) -> str:
    """Return the instance key (creating it, mode 0600, on first use)."""
    path = Path(instance_path) / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def build_multifernet(keys: list[str]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise RuntimeError(
            "SETTINGS_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        ) from exc


def _fernet() -> MultiFernet:
    return current_app.extensions["vendas_fernet"]


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the primary key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token (default 256 bits)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """SHA-256 hex digest: what we store instead of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()
