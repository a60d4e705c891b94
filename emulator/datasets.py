"""Lazy, deterministic record generators for every emulated resource.

Record ``i`` of a resource is a pure function of ``(seed, resource, i)``. Timestamps grow
with ``i``, so date filters become index ranges found by bisection; other filters scan a cheap
per-record hash (never a whole record) and the matching indices are cached by the runtime.

One module per platform (``datasets_hotmart``, ``datasets_kommo``, ``datasets_gestaoclick``)
over ``datasets_common``; this module builds one run's ``Datasets`` and re-exports their names
(the emulator's routes and the tests import them from here).
"""

from __future__ import annotations

from .config import EmulatorConfig
from .datasets_common import *  # noqa: F403 - re-exported
from .datasets_common import People
from .datasets_gestaoclick import *  # noqa: F403 - re-exported
from .datasets_gestaoclick import GestaoClickData
from .datasets_hotmart import *  # noqa: F403 - re-exported
from .datasets_hotmart import HotmartData
from .datasets_kommo import *  # noqa: F403 - re-exported
from .datasets_kommo import KommoData


class Datasets:
    """All generators of one emulator run."""

    def __init__(self, cfg: EmulatorConfig):
        self.people = People(cfg)
        self.hotmart = {
            env: HotmartData(cfg, env, self.people) for env in ("production", "sandbox")
        }
        self.kommo = KommoData(cfg, self.people)
        self.gc = GestaoClickData(cfg, self.people)
