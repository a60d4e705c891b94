"""The /kommo "Registrar webhook no Kommo" button: the URL, its token and the subscription.

The destination is ``{APP_URL}/webhook/kommo/<KOMMO_WEBHOOK_SECRET>``. Registering generates
the token when none is set (``secrets.token_urlsafe``, saved encrypted only once Kommo accepted
the URL) and subscribes the events the local copy needs (``app.clients.kommo_webhooks``).
Every message is for the seller, in pt-BR.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

from flask import current_app

from app.clients import kommo_webhooks as api
from app.clients.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
)
from app.clients.kommo import MSG_MISSING
from app.extensions import db
from app.services import audit, kommo
from app.services import settings as settings_service
from app.services.kommo_webhooks import SECRET_KEY

log = logging.getLogger(__name__)

MSG_DONE = (
    "Webhook registrado no Kommo: mudanças de negócios e contatos passam a chegar aqui na hora."
)
MSG_NOT_CONFIGURED = MSG_MISSING
MSG_LOCAL_URL = (
    "O endereço deste painel ({url}) não é acessível pela internet, então o Kommo não "
    "conseguirá entregar os webhooks. Defina APP_URL com o endereço público (https://…)."
)
FAILURES = (
    (
        AuthenticationError,
        "O Kommo recusou o token de longa duração. Gere um novo e salve em Configurações.",
    ),
    (
        PaymentRequiredError,
        "O plano da conta Kommo não permite webhooks pela API (é preciso o "
        "plano Avançado ou superior).",
    ),
    (
        PermissionDeniedError,
        "O Kommo negou o acesso: só um administrador da conta pode registrar "
        "webhooks (ou a conta está bloqueada por excesso de chamadas).",
    ),
    (
        RateLimitError,
        "O Kommo pediu para esperar (limite de chamadas). Tente de novo em alguns segundos.",
    ),
    (
        InvalidRequestError,
        "O Kommo recusou o endereço do webhook: {detail}. Confira se APP_URL é "
        "um endereço público com DNS válido.",
    ),
    (APIConnectionError, "Não foi possível falar com o Kommo agora ({detail}). Tente de novo."),
)


@dataclass(frozen=True)
class Result:
    ok: bool
    message: str


def destination(token: str) -> str:
    return f"{current_app.config['APP_URL'].rstrip('/')}/webhook/kommo/{token}"


def _explain(exc: APIError) -> str:
    detail = exc.detail or getattr(exc, "message", "") or str(exc)
    for cls, text in FAILURES:
        if isinstance(exc, cls):
            return text.format(detail=detail or "sem detalhes")
    return f"O Kommo respondeu com erro: {detail or exc}."


STATUS_TTL = 300.0  # seconds /kommo reuses Kommo's answer (a page view is not worth a request)


def _status_cache() -> dict[str, tuple[float, dict]]:
    """This app's copy of Kommo's last answers (per app: tests build one app each)."""
    return current_app.extensions.setdefault("kommo_webhook_status", {})


def forget_status() -> None:
    _status_cache().clear()


def status() -> dict:
    """What /kommo shows: is a token set, and is its URL subscribed (one GET, only then; the
    answer is kept ``STATUS_TTL`` seconds per destination, dropped when registering)."""
    token = settings_service.get(SECRET_KEY)
    if token and kommo.is_configured():
        key = hashlib.sha256(f"{destination(token)}|{kommo.credentials()}".encode()).hexdigest()
        cache = _status_cache()
        cached = cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < STATUS_TTL:
            return dict(cached[1])
        out = _status(token)
        if out["error"] is None:
            cache.clear()
            cache[key] = (time.monotonic(), dict(out))
        return out
    return _status(token)


def _status(token: str | None) -> dict:
    out = {
        "token_set": bool(token),
        "registered": None,
        "disabled": False,
        "error": None,
        "settings": [],
    }
    if not token or not kommo.is_configured():
        return out
    try:
        with kommo.build_client(retry_attempts=0) as client:
            hooks = api.list_webhooks(client, destination(token))
    except APIError as exc:
        out["error"] = _explain(exc)
        return out
    out["registered"] = bool(hooks)
    if hooks:
        out["disabled"] = bool(hooks[0].get("disabled"))
        out["settings"] = list(hooks[0].get("settings") or [])
    return out


def register(by: str | None = None) -> Result:
    """Subscribe ``{APP_URL}/webhook/kommo/<token>`` (token generated if unset). Never raises
    for Kommo's answers; the token is saved (and audited) only once Kommo accepted it."""
    forget_status()
    if not kommo.is_configured():
        return Result(False, MSG_NOT_CONFIGURED)
    token = settings_service.get(SECRET_KEY)
    generated = not token
    token = token or secrets.token_urlsafe(32)
    url = destination(token)
    db.session.commit()  # no read transaction held while Kommo answers
    try:
        with kommo.build_client() as client:
            api.subscribe(client, url)
    except APIError as exc:
        log.warning("kommo webhook registration failed: %s", exc)
        return Result(False, "Não foi possível registrar o webhook. " + _explain(exc))
    if generated:
        settings_service.set_value(SECRET_KEY, token, by=by)
    audit.record(
        audit.SETTINGS_CHANGED,
        target_type="settings",
        target_id="kommo",
        details={
            "group": "Kommo",
            "fields": ["Webhook registrado no Kommo"]
            + (["Token do webhook (gerado)"] if generated else []),
            "keys": [SECRET_KEY],
        },
    )
    db.session.commit()
    message = MSG_DONE
    host = current_app.config["APP_URL"].split("//")[-1].split("/")[0].split(":")[0]
    if host in ("localhost", "127.0.0.1", "0.0.0.0") or host.endswith(".local"):
        message += " " + MSG_LOCAL_URL.format(url=current_app.config["APP_URL"])
    return Result(True, message)
