"""The syncer registry: what can be synced (``register``) and the errors a syncer raises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.sync.context import SyncContext

log = logging.getLogger(__name__)


class SyncError(Exception):
    """A failure with a message meant for the operator (pt-BR)."""


class SyncNotConfigured(SyncError):
    """The integration behind this syncer has no credentials yet."""


class UnknownSyncer(LookupError):
    pass


class Canceled(BaseException):
    """Raised by ``SyncContext.check_cancel``.

    A BaseException, like ``KeyboardInterrupt``: a per-item ``except Exception`` in a syncer must
    not swallow a cancellation.
    """


@dataclass(frozen=True)
class Syncer:
    source: str
    resource: str
    func: Callable[[SyncContext, bool], object]
    label: str
    interval: float | None = None  # default schedule (seconds); None: manual only
    enabled: Callable[[], bool] | None = None
    source_label: str | None = None

    @property
    def job_id(self) -> str:
        return f"sync:{self.source}:{self.resource}"

    @property
    def title(self) -> str:
        return f"{source_label(self.source)} · {self.label}"

    def is_enabled(self) -> bool:
        """False when the integration is not configured; errors count as not configured."""
        if self.enabled is None:
            return True
        try:
            return bool(self.enabled())
        except Exception:
            log.exception("enabled() of syncer %s/%s failed", self.source, self.resource)
            return False


_registry: dict[tuple[str, str], Syncer] = {}
# Labels of the sources that registered syncers (``register(..., source_label=…)``); before
# that, an API integration's name comes from ``app.registry``.
_source_labels: dict[str, str] = {}


def normalize_source(source: str) -> str:
    """``gestao-click`` (the CLI spelling) and ``gestao_click`` name the same source."""
    return source.strip().lower().replace("-", "_")


def register(
    source: str,
    resource: str,
    func: Callable[[SyncContext, bool], object],
    label: str,
    *,
    interval: float | None = None,
    enabled: Callable[[], bool] | None = None,
    source_label: str | None = None,
) -> Syncer:
    """Register (or replace) the syncer of ``source``/``resource``.

    ``interval``: default seconds between scheduled runs (editable in /configuracoes); ``None``
    leaves it manual only. ``enabled``: returns False while credentials are missing; the
    scheduler then skips it and the buttons answer 409.
    """
    source = normalize_source(source)
    syncer = Syncer(source, resource, func, label, interval, enabled, source_label)
    _registry[(source, resource)] = syncer
    if source_label:
        _source_labels[source] = source_label
    return syncer


def unregister(source: str, resource: str) -> None:
    _registry.pop((normalize_source(source), resource), None)


def get_syncer(source: str, resource: str) -> Syncer | None:
    return _registry.get((normalize_source(source), resource))


def syncers(source: str | None = None) -> list[Syncer]:
    items = sorted(_registry.values(), key=lambda s: (s.source, s.resource))
    if source is not None:
        source = normalize_source(source)
        items = [s for s in items if s.source == source]
    return items


def sources() -> list[str]:
    return sorted({s.source for s in _registry.values()})


def source_label(source: str) -> str:
    from app.registry import BY_NAME

    label = _source_labels.get(source)
    if label is None:
        declared = BY_NAME.get(source)
        label = declared.label if declared else source.replace("_", " ").title()
    return label


def resource_label(source: str, resource: str) -> str:
    syncer = get_syncer(source, resource)
    return syncer.label if syncer is not None else resource
