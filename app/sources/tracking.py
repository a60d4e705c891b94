"""Where a sale came from: the UTM and tracking codes each platform puts in its webhooks,
read into one shape (``TRACKING_FIELDS``) stored on the sale.

Platform by platform (PLATFORMS.md, PLATFORMS-WRITES.md §5):

* Hotmart: ``data.purchase.origin.{src, sck, xcod}`` (no ``utm_*``; sellers pass them in the
  checkout URL as ``src``/``sck``); the sales history API answers
  ``purchase.tracking.{source, source_sck, external_code}`` — the same three codes.
* Kiwify: ``TrackingParameters.{src, sck, utm_source, utm_medium, utm_campaign, utm_content,
  utm_term, s1, s2, s3}``.
* Kirvano: ``utm.{src, sck, utm_source, …}``.
* Eduzz: ``data.utm.{source, medium, campaign, content, term}`` and ``data.tracker.{code1,
  code2, code3}`` (``code1`` read as ``src``, ``code2`` as ``sck``); the legacy postback's
  flat ``tracker_utm_*`` and ``tracker_trk*``.

Pure: no Flask, no database.
"""

from __future__ import annotations

from typing import Any

from .values import as_dict, text

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
TRACKING_FIELDS = (*UTM_FIELDS, "src", "sck", "xcod")
MAX_TRACKING_LEN = 255

# pt-BR labels for the sale page ("Origem da venda").
LABELS = {
    "utm_source": "Origem (utm_source)",
    "utm_medium": "Mídia (utm_medium)",
    "utm_campaign": "Campanha (utm_campaign)",
    "utm_content": "Conteúdo (utm_content)",
    "utm_term": "Termo (utm_term)",
    "src": "Código src",
    "sck": "Código sck",
    "xcod": "Código externo (xcod)",
}


def empty() -> dict[str, str | None]:
    return dict.fromkeys(TRACKING_FIELDS)


def normalized(**values: Any) -> dict[str, str | None]:
    """Every tracking field, each a trimmed string of at most 255 characters or ``None``."""
    unknown = set(values) - set(TRACKING_FIELDS)
    if unknown:
        raise TypeError(f"unknown tracking fields: {sorted(unknown)}")
    out = empty()
    for name, value in values.items():
        out[name] = text(value, MAX_TRACKING_LEN)
    return out


def _first(mapping: dict, *keys: str) -> Any:
    for key in keys:
        value = text(mapping.get(key), MAX_TRACKING_LEN)
        if value is not None:
            return value
    return None


def flat(obj: Any) -> dict:
    """A flat mapping with ``utm_source`` …, ``src``, ``sck`` (and ``xcod``) keys: Kiwify's
    ``TrackingParameters``, Kirvano's ``utm``."""
    mapping = as_dict(obj)
    return normalized(**{name: mapping.get(name) for name in TRACKING_FIELDS})


def hotmart_origin(purchase: Any, data: Any = None) -> dict:
    """Hotmart webhook: ``purchase.origin`` (``data.origin`` in some deliveries)."""
    origin = as_dict(as_dict(purchase).get("origin")) or as_dict(as_dict(data).get("origin"))
    return normalized(
        src=origin.get("src"),
        sck=origin.get("sck"),
        xcod=origin.get("xcod"),
        utm_source=origin.get("utm_source"),
        utm_medium=origin.get("utm_medium"),
        utm_campaign=origin.get("utm_campaign"),
        utm_content=origin.get("utm_content"),
        utm_term=origin.get("utm_term"),
    )


def hotmart_history(purchase: Any) -> dict:
    """Hotmart sales history item: ``purchase.tracking.{source, source_sck, external_code}``."""
    tracking = as_dict(as_dict(purchase).get("tracking"))
    return normalized(
        src=tracking.get("source"),
        sck=tracking.get("source_sck"),
        xcod=tracking.get("external_code"),
    )


def eduzz(data: Any) -> dict:
    """Eduzz v3: ``data.utm`` (unprefixed keys) and ``data.tracker.code1/code2``."""
    data = as_dict(data)
    utm = as_dict(data.get("utm"))
    tracker = as_dict(data.get("tracker"))
    values = {name: _first(utm, name[4:], name) for name in UTM_FIELDS}
    return normalized(**values, src=tracker.get("code1"), sck=tracker.get("code2"))


def eduzz_legacy(body: Any) -> dict:
    """Eduzz legacy postback: flat ``tracker_utm_source`` … and ``tracker_trk``."""
    body = as_dict(body)
    values = {name: _first(body, f"tracker_{name}", name) for name in UTM_FIELDS}
    return normalized(
        **values,
        src=_first(body, "tracker_trk", "tracker_trk1", "trk"),
        sck=_first(body, "tracker_trk2"),
    )
