"""Kommo account webhooks: the form-encoded delivery read into entities (pure, no Flask).

Kommo posts ``application/x-www-form-urlencoded`` with PHP-style keys, every value a string
(PLATFORMS-WRITES.md §2.2)::

    account[subdomain]=acme&account[id]=123
    leads[status][0][id]=10701093&leads[status][0][status_id]=142&leads[status][0][old_status_id]=…
    contacts[update][0][custom_fields][1][code]=PHONE&…[values][0][value]=333

``parse`` gives ``{"leads": {"status": [{…}, …]}, "contacts": {…}, "account": {…}}`` (indexed
maps become lists in index order); ``changes`` lists the ``(entity, action, item)`` triples of
leads and contacts. Legacy v2 field names (``date_create``, ``last_modified``,
``custom_fields[…][values][…][enum]``) are turned into the v4 shape the sync maps
(``created_at``, ``updated_at``, ``custom_fields_values``) by ``as_v4``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
PART = re.compile(r"\[([^\[\]]*)\]")
MAX_FIELDS = 5000  # a delivery with more keys than this is refused (not a Kommo batch)
ENTITIES = ("leads", "contacts")
ACTIONS = ("add", "update", "status", "delete", "restore", "responsible", "note")
CONTENT_TYPE = "application/x-www-form-urlencoded"


class MalformedDelivery(ValueError):
    """The body is not a Kommo webhook delivery (the reason is in pt-BR, for the inbox)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Change:
    entity: str  # leads | contacts
    action: str  # add | update | status | delete | restore | responsible | note
    item: dict[str, Any]

    @property
    def remote_id(self) -> int | None:
        value = str(self.item.get("id") or "").strip()
        return int(value) if value.isdecimal() and len(value) <= 18 else None


MAX_DEPTH = 8  # levels of [..] in one key; deeper is not a Kommo delivery


def _listify(value: Any) -> Any:
    """``{"0": a, "1": b}`` → ``[a, b]`` (keys all digits), recursively."""
    if not isinstance(value, dict):
        return value
    out = {k: _listify(v) for k, v in value.items()}
    if out and all(k.isdecimal() and len(k) <= 9 for k in out):  # list indexes, not ids
        return [out[k] for k in sorted(out, key=int)]
    return out


def parse(raw: bytes) -> dict[str, Any]:
    """The nested structure of a delivery; ``MalformedDelivery`` when it is not one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedDelivery("O corpo não está em UTF-8.") from None
    if not text.strip():
        raise MalformedDelivery("Corpo vazio: o Kommo sempre envia os campos do evento.")
    if text.lstrip().startswith(("{", "[")):
        raise MalformedDelivery(
            "O corpo é JSON, mas os webhooks do Kommo chegam como formulário "
            "(application/x-www-form-urlencoded)."
        )
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS
        )
    except ValueError:
        raise MalformedDelivery("O corpo não é um formulário válido (chave=valor&…).") from None
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = KEY.match(key)
        if match is None:
            raise MalformedDelivery(f"Chave inválida no formulário: {key[:80]!r}.")
        path = [match.group(1), *PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:  # Kommo nests four levels (leads[update][0][custom_fields]…)
            raise MalformedDelivery(f"Chave aninhada demais no formulário: {key[:80]!r}.")
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(path[-1]), dict):  # a scalar never replaces a subtree
            node[path[-1]] = value
    body = _listify(root)
    if not any(isinstance(body.get(entity), dict) for entity in ENTITIES) and not isinstance(
        body.get("account"), dict
    ):
        raise MalformedDelivery(
            "Nenhum campo de webhook do Kommo (leads[…], contacts[…] ou account[…]) no corpo."
        )
    return body


def changes(body: dict[str, Any]) -> list[Change]:
    """Every lead and contact change of the delivery, in the order Kommo listed them."""
    out: list[Change] = []
    for entity in ENTITIES:
        actions = body.get(entity)
        if not isinstance(actions, dict):
            continue
        for action, items in actions.items():
            if action not in ACTIONS:
                continue
            items = items if isinstance(items, list) else [items]
            out.extend(Change(entity, action, item) for item in items if isinstance(item, dict))
    return out


def summary(body: dict[str, Any]) -> str:
    """``leads.status,contacts.update`` (the inbox's event type)."""
    seen: list[str] = []
    for entity, actions in body.items():
        if entity == "account" or not isinstance(actions, dict):
            continue
        for action in actions:
            name = f"{entity}.{action}"
            if name not in seen:
                seen.append(name)
    return ",".join(seen) or "account"


def _custom_fields(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    out = []
    for field in value:
        if not isinstance(field, dict):
            continue
        values = field.get("values")
        values = values if isinstance(values, list) else []
        out.append(
            {
                "field_id": field.get("id"),
                "field_name": field.get("name"),
                "field_code": field.get("code"),
                "values": [
                    {"value": v.get("value"), "enum_id": v.get("enum")}
                    for v in values
                    if isinstance(v, dict)
                ],
            }
        )
    return out


def as_v4(item: dict[str, Any]) -> dict[str, Any]:
    """A delivered item in the API v4 shape (``created_at``/``updated_at``,
    ``custom_fields_values``) so the sync's mappers read it."""
    out = dict(item)
    out.setdefault("created_at", item.get("date_create"))
    out.setdefault("updated_at", item.get("last_modified"))
    fields = _custom_fields(item.get("custom_fields"))
    if fields is not None:
        out["custom_fields_values"] = fields
    return out
