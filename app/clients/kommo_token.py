"""Kommo long-lived token and account URL helpers (PLATFORMS.md §6.1–6.2).

The token is an RS256 JWT whose key Kommo does not publish: its claims are only *read* with
PyJWT (signature, exp and aud not verified) to find the account host (``api_domain``) and warn
before ``exp``. Never used to trust anything.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

API_PREFIX = "/api/v4"
EXPIRY_WARNING_DAYS = 14
DEFAULT_BASE_DOMAIN = "kommo.com"


def jwt_claims(token: str | None) -> dict[str, Any]:
    """The JWT payload, read with PyJWT **without** verifying the signature (Kommo publishes
    no key, PLATFORMS §6.2) nor exp/aud; {} if unreadable."""
    if not token or token.count(".") != 2:
        return {}
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def token_account(claims: Mapping[str, Any], base_domain: str | None = None) -> dict[str, Any]:
    """What the token says about its account (seed 002's ``account`` block), never verified:
    ``{accountId, baseDomain, apiDomain, scopes, expiresAt}``."""
    expires_at = token_expiry(claims)
    scopes = claims.get("scopes")
    domain = claims.get("base_domain")
    api_domain = claims.get("api_domain")
    return {
        "accountId": claims.get("account_id"),
        "baseDomain": domain if isinstance(domain, str) and domain else base_domain,
        "apiDomain": api_domain if isinstance(api_domain, str) and api_domain else None,
        "scopes": [str(x) for x in scopes] if isinstance(scopes, list) else [],
        "expiresAt": expires_at.isoformat() if expires_at else None,
    }


def token_expiry(claims: Mapping[str, Any]) -> datetime | None:
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def expiry_status(
    expires_at: datetime | None, now: float | None = None, warn_days: int = EXPIRY_WARNING_DAYS
) -> str | None:
    """``expired``, ``soon`` (within ``warn_days``), ``ok``, or None when the token has no exp."""
    if expires_at is None:
        return None
    remaining = expires_at.timestamp() - (time.time() if now is None else now)
    if remaining <= 0:
        return "expired"
    return "soon" if remaining <= warn_days * 86400 else "ok"


def normalize_api_url(value: str | None, base_domain: str | None = None) -> str | None:
    """``https://x.kommo.com``, ``x.kommo.com``, ``…/api/v4`` or a bare subdomain → the v4 base.

    A bare subdomain is completed with ``base_domain`` (``KOMMO_BASE_DOMAIN``, ``kommo.com``
    by default; ``amocrm.com`` for amoCRM accounts)."""
    value = (value or "").strip().rstrip("/")
    if not value:
        return None
    if "://" not in value:
        bare_subdomain = "." not in value and "/" not in value
        domain = (base_domain or DEFAULT_BASE_DOMAIN).strip().strip(".")
        value = f"https://{value}.{domain}" if bare_subdomain else f"https://{value}"
    if value.endswith(API_PREFIX):
        return value
    return value + API_PREFIX


def base_url_for(
    token: str | None, api_url: str | None = None, base_domain: str | None = None
) -> str | None:
    """The configured URL, else ``https://{api_domain}`` from the token's claims."""
    configured = normalize_api_url(api_url, base_domain)
    if configured:
        return configured
    domain = jwt_claims(token).get("api_domain")
    if isinstance(domain, str) and domain.strip() and "/" not in domain:
        return f"https://{domain.strip()}{API_PREFIX}"
    return None


def _date_br(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "?"


__all__ = [
    "API_PREFIX",
    "DEFAULT_BASE_DOMAIN",
    "EXPIRY_WARNING_DAYS",
    "base_url_for",
    "expiry_status",
    "jwt_claims",
    "normalize_api_url",
    "token_account",
    "token_expiry",
]
