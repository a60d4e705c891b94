"""Sortable list columns: ``?ordem=<key>&dir=asc|desc`` from a whitelist, for ``app.paging``.

Each list declares its sort keys as ``{key: SortKey(column, label, descending)}``; every
column is NOT NULL (or a ``coalesce``) and backed by a ``(column, id)`` index, so keyset pages
stay correct and fast at size. An unknown key or direction falls back to the list's default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SortKey:
    column: Any
    label: str
    value: Callable[[Any], Any]  # a row's value of ``column`` (the keyset cursor's)
    descending: bool = False  # the direction a first click on the header sorts by


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool
    keys: dict[str, SortKey]
    default: str

    @property
    def column(self):
        return self.keys[self.key].column

    def order(self, id_column) -> list:
        """The ``order`` of ``app.paging.paginate``: the column, then the id as tiebreak."""
        return [(self.column, self.descending), (id_column, self.descending)]

    @property
    def args(self) -> dict:
        """Query arguments that keep this sort (none for the default sort)."""
        if self.key == self.default and self.descending == self.keys[self.default].descending:
            return {}
        return {"ordem": self.key, "dir": "desc" if self.descending else "asc"}

    def toggle_args(self, key: str) -> dict:
        """Arguments of a header link: the same column flips, another starts at its default."""
        descending = not self.descending if key == self.key else self.keys[key].descending
        return {"ordem": key, "dir": "desc" if descending else "asc"}

    def aria(self, key: str) -> str:
        if key != self.key:
            return "none"
        return "descending" if self.descending else "ascending"


def sort_from_args(args, keys: dict[str, SortKey], default: str) -> Sort:
    key = args.get("ordem", "")
    if key not in keys:
        key = default
    direction = args.get("dir", "")
    if direction in ("asc", "desc"):
        descending = direction == "desc"
    else:
        descending = keys[key].descending
    return Sort(key=key, descending=descending, keys=keys, default=default)


def sort_values(sort: Sort):
    """``key=`` of ``paginate``: one row's keyset values for ``sort``."""
    value = sort.keys[sort.key].value
    return lambda item: [value(item), item.id]
