"""Integration settings: the database (encrypted) wins over the environment.

The schema (groups, fields, which are secret) comes from the integration registry
(``app.registry``); ``Field`` and ``Group`` are re-exported for existing callers.
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.logs import add_known_secret
from app.models import IntegrationSetting
from app.registry import settings_schema
from app.schema import Field, Group

SCHEMA: tuple[Group, ...] = settings_schema()

FIELDS: dict[str, tuple[Group, Field]] = {f.key: (g, f) for g in SCHEMA for f in g.fields}

SOURCE_DATABASE = "database"
SOURCE_ENVIRONMENT = "environment"
SOURCE_UNSET = "unset"


class SettingsError(ValueError):
    pass


def _row(key: str) -> IntegrationSetting | None:
    group, _ = FIELDS[key]
    return db.session.scalar(
        select(IntegrationSetting).where(
            IntegrationSetting.platform == group.platform, IntegrationSetting.key == key
        )
    )


def get(key: str) -> str | None:
    """The effective value: database first, then environment/config."""
    if key not in FIELDS:
        raise KeyError(key)
    row = _row(key)
    if row is not None and row.value:
        if FIELDS[key][1].secret:
            add_known_secret(row.value)
        return row.value
    value = current_app.config.get(key)
    return str(value) if value not in (None, "") else None


def stored_group(platform: str) -> dict[str, str]:
    """The values saved on the Settings page for one group, in one query (a key missing from
    the answer: the environment decides)."""
    values = {}
    rows = db.session.scalars(
        select(IntegrationSetting).where(IntegrationSetting.platform == platform)
    )
    for row in rows:
        if row.key in FIELDS and row.value:
            if FIELDS[row.key][1].secret:
                add_known_secret(row.value)
            values[row.key] = row.value
    return values


def webhook_secret(platform: str, *, fresh: bool = False) -> str | None:
    """The webhook key of ``platform`` (its registry entry's first secret), cached per process
    (``cached``); ``None`` when unset, unknown or not in the schema — a delivery is then
    refused, never a 500."""
    from app.sources.registry import secret_key

    key = secret_key(platform)
    if key is None or key not in FIELDS:
        return None
    return cached(key, fresh=fresh)


CACHE_EXTENSION = "vendas_settings_cache"
CHANGED_INFO = "vendas_settings_changed"  # db.session.info: keys changed in this transaction


def cached(key: str, *, fresh: bool = False) -> str | None:
    """``get(key)`` cached in this process for ``SETTINGS_CACHE_SECONDS`` (the webhook secrets,
    read by every delivery, are not decrypted per request).

    A change saved in the Settings page drops this process's copy when its transaction commits
    (``app.events``); other processes see it within the cache lifetime, and a delivery that
    fails verification with a cached secret reads it again (``fresh=True``) before a 401.
    """
    app = current_app._get_current_object()
    cache = app.extensions.setdefault(CACHE_EXTENSION, {})
    now = time.monotonic()
    hit = cache.get(key)
    if (
        not fresh
        and hit is not None
        and now - hit[0] < app.config.get("SETTINGS_CACHE_SECONDS", 5.0)
    ):
        return hit[1]
    value = get(key)
    cache[key] = (now, value)
    return value


def forget(app, keys) -> None:
    """Drop cached values of ``keys`` in this process (after the change committed)."""
    cache = app.extensions.get(CACHE_EXTENSION)
    if cache:
        for key in keys:
            cache.pop(key, None)


def _changed(key: str) -> None:
    db.session.info.setdefault(CHANGED_INFO, set()).add(key)


def source(key: str) -> str:
    row = _row(key)
    if row is not None and row.value:
        return SOURCE_DATABASE
    return SOURCE_ENVIRONMENT if current_app.config.get(key) not in (None, "") else SOURCE_UNSET


def set_value(key: str, value: str, by: str | None = None) -> None:
    group, field = FIELDS[key]
    value = value.strip()
    if field.choices and value not in field.choices:
        options = field.labels or field.choices
        raise SettingsError(f"{field.label}: escolha um de {', '.join(options)}.")
    if len(value) > 4096:
        raise SettingsError(f"{field.label}: valor longo demais.")
    problem = _check_kind(field, value)
    if problem:
        raise SettingsError(f"{field.label}: {problem}")
    row = _row(key)
    if row is None:
        row = IntegrationSetting(platform=group.platform, key=key, value=value, updated_by=by)
        db.session.add(row)
    else:
        row.value, row.updated_by = value, by
    _changed(key)
    if field.secret:
        add_known_secret(value)


def _check_kind(field: Field, value: str) -> str | None:
    from urllib.parse import urlsplit

    if field.kind == "id":
        if not value.isdecimal() or len(value) > 18:
            return "informe o número (id), só com dígitos."
        return None
    if field.kind == "chats":  # Telegram chat ids (-100…) or @channel names, comma-separated
        items = [item.strip() for item in value.split(",")]
        if not all(
            item.lstrip("-").isdecimal()
            or (item.startswith("@") and item[1:].replace("_", "").isalnum())
            for item in items
        ):
            return "informe o id do grupo (ex.: -1001234567890) ou @canal; vários com vírgula."
        return None
    if field.kind == "port":
        if not value.isdecimal() or not 1 <= int(value) <= 65535:
            return "informe a porta, um número entre 1 e 65535 (ex.: 587)."
        return None
    if field.kind == "number":
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            return "informe um número."
        if not 1 <= number <= 300:
            return "informe um valor entre 1 e 300."
    elif field.kind == "url" or (field.key == "KOMMO_API_URL" and "://" in value):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            return "informe uma URL completa, começando com https://."
    elif field.key == "KOMMO_API_URL" and not all(c.isalnum() or c in "-." for c in value):
        return "informe a URL da conta (https://suaempresa.kommo.com) ou só o subdomínio."
    return None


def clear(key: str) -> None:
    row = _row(key)
    if row is not None:
        db.session.delete(row)
        _changed(key)


def configured(group_overview: dict) -> bool:
    """True when every required field of one ``overview()`` group has a value."""
    fields = group_overview["fields"]
    required = [i for i in fields if i["field"].required]
    return all(i["is_set"] for i in required) if required else any(i["is_set"] for i in fields)


def overview() -> list[dict]:
    """Per group: each field's source and (non-secret) value, for the Settings page."""
    rows = {(r.platform, r.key): r for r in db.session.scalars(select(IntegrationSetting))}
    result = []
    for group in SCHEMA:
        items = []
        for field in group.fields:
            row = rows.get((group.platform, field.key))
            env_value = current_app.config.get(field.key)
            if row is not None and row.value:
                src, value = SOURCE_DATABASE, row.value
            elif env_value not in (None, ""):
                src, value = SOURCE_ENVIRONMENT, str(env_value)
            else:
                src, value = SOURCE_UNSET, None
            env_name = (current_app.config.get("ENV_SOURCES") or {}).get(field.key)
            items.append(
                {
                    "field": field,
                    "source": src,
                    # the seed alias the value was read from (SPEC §12), if not the SPEC name
                    "env_alias": env_name
                    if src == SOURCE_ENVIRONMENT and env_name not in (None, field.key)
                    else None,
                    "is_set": value is not None,
                    # what "Limpar" falls back to: the server's value, or the built-in default
                    "has_server_value": env_value not in (None, ""),
                    "display": None if field.secret else value,
                    "updated_at": row.updated_at if row is not None else None,
                }
            )
        result.append({"group": group, "fields": items})
    return result


def rotate_all() -> int:
    """Re-encrypt every encrypted column under the primary key; returns rows touched."""
    from sqlalchemy.orm.attributes import flag_modified

    from app.models.types import EncryptedText

    touched = 0
    for mapper in db.Model.registry.mappers:
        columns = [c.key for c in mapper.columns if isinstance(c.type, EncryptedText)]
        if not columns:
            continue
        for obj in db.session.scalars(select(mapper.class_)):
            for col in columns:
                if getattr(obj, col) is not None:
                    flag_modified(obj, col)
            touched += 1
    db.session.flush()
    return touched
