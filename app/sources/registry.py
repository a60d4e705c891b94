"""The one list of inbound webhook platforms: ``SOURCE_MODULES`` names their modules.

Adding a platform is its module under ``app/sources/`` (declaring ``SOURCE``), its fixtures and
tests, and one name in ``SOURCE_MODULES``. Everything that lists webhook platforms reads
``SOURCES`` (or the helpers below), never a hand-written tuple.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .descriptor import WebhookSource

# The registry line: module names under app/sources, in display order.
SOURCE_MODULES = ("hotmart", "kiwify", "kirvano", "eduzz")


def _load(names: tuple[str, ...]) -> dict[str, WebhookSource]:
    sources: dict[str, WebhookSource] = {}
    for module_name in names:
        source = import_module(f"{__package__}.{module_name}").SOURCE
        if not isinstance(source, WebhookSource) or source.name in sources:
            raise RuntimeError(f"app.sources.{module_name}: SOURCE missing or registered twice")
        sources[source.name] = source
    return sources


SOURCES: dict[str, WebhookSource] = _load(SOURCE_MODULES)
PLATFORMS: tuple[str, ...] = tuple(SOURCES)


def get(name: str) -> WebhookSource | None:
    return SOURCES.get(name)


def secret_key(platform: str) -> str | None:
    """The setting that holds ``platform``'s webhook key; ``None`` for an unknown platform."""
    source = SOURCES.get(platform)
    return source.secret_key if source is not None and source.secrets else None


def labels() -> dict[str, str]:
    return {name: source.label for name, source in SOURCES.items()}


def body_secret_paths() -> tuple[tuple[str, ...], ...]:
    """Every body key path that carries a credential on some platform (deduplicated)."""
    paths: dict[tuple[str, ...], None] = {}
    for source in SOURCES.values():
        for path in source.body_secrets:
            paths.setdefault(tuple(path), None)
    return tuple(paths)


REDACTED = "[removido]"


def redact_body(body: Any, paths: tuple[tuple[str, ...], ...] | None = None) -> dict | None:
    """A copy of ``body`` with credential values replaced; ``None`` when it holds none."""
    if not isinstance(body, dict):
        return None
    paths = body_secret_paths() if paths is None else paths
    clean: dict | None = None
    for path in paths:
        if not _has_path(body, path):
            continue
        if clean is None:
            clean = dict(body)
        _replace(clean, path)
    return clean


def _has_path(obj: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return False
        obj = obj[key]
    return True


def _replace(obj: dict, path: tuple[str, ...]) -> None:
    """Set ``obj[path]`` to ``REDACTED``, copying the nested dicts on the way (no aliasing)."""
    head, *rest = path
    if not rest:
        obj[head] = REDACTED
        return
    child = dict(obj[head])
    obj[head] = child
    _replace(child, tuple(rest))
