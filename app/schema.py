"""The settings schema shared by every integration descriptor (pure: no Flask, no database).

A ``Field`` is one setting (its key is the SPEC §4 environment variable name); a ``Group`` is
the card of one platform on the Settings page. ``secret`` fields are stored encrypted, never
echoed back and masked in logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str  # the SPEC §4 environment variable name
    label: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    required: bool = False  # needed for the integration to count as configured
    kind: str = "text"  # text | url | number | port | id (a remote record's number) | chats
    labels: tuple[str, ...] = ()  # what the page shows for each of ``choices``
    public: bool = False  # never a credential (a host name, a sender address)
    # The value the app uses when the field is set nowhere (a choice's built-in default): the
    # Settings page offers it as "Padrão (…)". "" when there is none to show.
    default: str = ""

    @property
    def loggable(self) -> bool:
        """Values that are never credentials (a choice, a number): not masked in logs."""
        return self.public or bool(self.choices) or self.kind in ("number", "port", "id")

    def choice_label(self, value: str) -> str:
        """The label shown for the stored ``value`` of a choice field."""
        if value in self.choices and len(self.labels) == len(self.choices):
            return self.labels[self.choices.index(value)]
        return value


@dataclass(frozen=True)
class Group:
    platform: str
    title: str
    fields: tuple[Field, ...]
    # Called by the Settings page in the saving transaction when a value of the group changed
    # (the e-mail group kicks the outbox: mail waiting for a working SMTP goes out).
    on_change: Callable[[], None] | None = None
    # Its account webhooks (CRM or bot updates, not sales) land in the /webhooks inbox.
    inbox_webhooks: bool = False
