"""Logging with dictConfig: text or JSON, a request id on every line, secrets masked."""

from __future__ import annotations

import logging
import re
import secrets
import time
from logging.config import dictConfig

from flask import Flask, g, has_request_context, request

from app.registry import loggable_vars
from config import INTEGRATION_VARS

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# key=value / "key": "value" / header-style pairs whose value is a secret.
_SECRET_PAIR = re.compile(
    r"(?i)(?P<key>[\"']?(?:password|passwd|secret|token|hottok|authorization|access[-_]token|"
    r"secret[-_]access[-_]token|client[-_]secret|api[-_]key|signature)[\w-]*[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?:bearer|basic)\s+)?(?P<value>[^\s\"'&,;]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


# What a masked secret shows: nothing but MASK, and its last MASK_TAIL characters only when it
# is at least MASK_TAIL_MIN long (the tail of a short secret is too large a share of it).
MASK = "••••••"
MASK_TAIL = 4
MASK_TAIL_MIN = 20


def mask(value: str) -> str:
    """``••••••wxyz`` (the last 4) for secrets of 20+ characters, ``••••••`` for shorter ones."""
    if len(value) < MASK_TAIL_MIN:
        return MASK
    return MASK + value[-MASK_TAIL:]


def mask_text(text: str, known_secrets: tuple[str, ...] = ()) -> str:
    for secret in known_secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, mask(secret))
    text = _JWT.sub(lambda m: mask(m.group(0)), text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {mask(m.group(2))}", text)
    text = _SECRET_PAIR.sub(
        lambda m: (
            m.group("key")
            + (
                m.group("value")
                if m.group("value").startswith(MASK)  # masked already
                else mask(m.group("value"))
            )
        ),
        text,
    )
    return text


class SecretMaskingFilter(logging.Filter):
    """Rewrites the formatted message so tokens and passwords never reach a handler."""

    def __init__(self, name: str = ""):
        super().__init__(name)
        self.known_secrets: tuple[str, ...] = ()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not kill logging
            message = str(record.msg)
        masked = mask_text(message, self.known_secrets)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


MASKING_FILTER = SecretMaskingFilter()
_REQUEST_ID_FILTER = RequestIdFilter()


def _install_record_factory() -> None:
    base = logging.getLogRecordFactory()
    if getattr(base, "_vendas_masking", False):
        return

    def factory(*args, **kwargs):
        record = base(*args, **kwargs)
        MASKING_FILTER.filter(record)
        _REQUEST_ID_FILTER.filter(record)
        return record

    factory._vendas_masking = True
    logging.setLogRecordFactory(factory)


def configure_logging(app: Flask) -> None:
    json_format = app.config.get("LOG_FORMAT") == "json"
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        }
        if json_format
        else {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    )
    if not app.testing:  # under pytest, keep its capture handlers
        dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "filters": {
                    "request_id": {"()": RequestIdFilter},
                    "mask": {"()": lambda: MASKING_FILTER},
                },
                "formatters": {"default": formatter},
                "handlers": {
                    "console": {
                        "class": "logging.StreamHandler",
                        "formatter": "default",
                        "filters": ["request_id", "mask"],
                    }
                },
                "root": {"level": app.config.get("LOG_LEVEL", "INFO"), "handlers": ["console"]},
                "loggers": {"werkzeug": {"level": "WARNING"}},
            }
        )
    # Handler filters miss handlers added later (pytest's caplog, gunicorn's); a record
    # factory masks every record once, whatever handler it reaches.
    _install_record_factory()
    MASKING_FILTER.known_secrets = tuple(
        str(app.config[name])
        for name in (*INTEGRATION_VARS, "SECRET_KEY", "MAIL_PASSWORD")
        if app.config.get(name)
        and name not in loggable_vars()
        and not str(app.config[name]).startswith("http")
    )

    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "-")
        return response


def add_known_secret(value: str | None) -> None:
    """Register a secret loaded at run time (e.g. from the Settings page) for masking."""
    if value and len(value) >= 4 and value not in MASKING_FILTER.known_secrets:
        MASKING_FILTER.known_secrets = (*MASKING_FILTER.known_secrets, value)
