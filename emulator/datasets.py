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
from .datasets_common import (  # noqa: F401 - re-exported
    ALNUM_LOWER,
    ALNUM_UPPER,
    BRT,
    DAY,
    People,
    base36,
    code,
    coprime_multiplier,
    date_local,
    first_at_or_after,
    iso_local,
    local_midnight_ts,
    spread,
    stable_uuid,
)
from .datasets_gestaoclick import (  # noqa: F401 - re-exported
    CLIENTE_ID_BASE,
    GC_FORMAS,
    GC_GRUPOS,
    GC_LOJAS,
    GC_PRODUCT_NAMES,
    GC_SERVICOS,
    GC_SITUACOES,
    GC_TIPOS,
    GC_VENDEDORES,
    PRODUTO_ID_BASE,
    VENDA_ID_BASE,
    GestaoClickData,
    ean13,
)
from .datasets_hotmart import (  # noqa: F401 - re-exported
    HOTMART_PAYMENT,
    HOTMART_PRODUCT_STATUS,
    HOTMART_SALE_STATUS,
    HOTMART_SUB_STATUS,
    HOTMART_TOPICS,
    PAID_STATUSES,
    PLANS,
    HotmartData,
)
from .datasets_kommo import (  # noqa: F401 - re-exported
    CONTACT_ID_BASE,
    EMAIL_ENUMS,
    EMAIL_FIELD_ID,
    KOMMO_CURRENCY_COUNTRY,
    KOMMO_CURRENCY_SYMBOLS,
    KOMMO_PIPELINES,
    KOMMO_STATUS_WEIGHTS,
    KOMMO_USERS,
    LEAD_ID_BASE,
    PHONE_ENUMS,
    PHONE_FIELD_ID,
    UTM_FIELD_ID,
    KommoData,
)


class Datasets:
    """All generators of one emulator run."""

    def __init__(self, cfg: EmulatorConfig):
        self.people = People(cfg)
        self.hotmart = {
            env: HotmartData(cfg, env, self.people) for env in ("production", "sandbox")
        }
        self.kommo = KommoData(cfg, self.people)
        self.gc = GestaoClickData(cfg, self.people)
