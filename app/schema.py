"""The settings schema shared by every integration descriptor (pure: no Flask, no database).

A ``Field`` is one setting (its key is the SPEC §4 environment variable name); a ``Group`` is
the card of one platform on the Settings page. ``secret`` fields are stored encrypted, never
echoed back and masked in logs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str  # the SPEC §4 environment variable name
    label: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    required: bool = False  # needed for the integration to count as configured
    kind: str = "text"  # text | url | number

    @property
    def loggable(self) -> bool:
        """Values that are never credentials (a choice, a number): not masked in logs."""
        return bool(self.choices) or self.kind == "number"


@dataclass(frozen=True)
class Group:
    platform: str
    title: str
    fields: tuple[Field, ...]
