"""``WebhookSource``: everything that makes an inbound sales platform a platform, in one place.

Each source module (``hotmart``, ``kiwify``, …) declares one ``SOURCE = WebhookSource(...)``;
``app.sources.registry`` collects them. Config, the Settings page, the receiver, the sale
service, the inbox, the filters and the test helpers read the registry instead of listing
platforms (see ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.schema import Field

from .events import Kind, NormalizedEvent, VerifyResult
from .jsonbody import parse_json

# How a subscription cancellation finds the sales it ends (``services.sales``):
MATCH_SUBSCRIPTION = "subscription"  # subscription id, else transaction, else e-mail + product
MATCH_PLAN = "plan"  # no subscription id sent: e-mail + product (+ plan), plan sales only
MATCH_PRODUCT = "product"  # subscription id or e-mail + product, whatever the sale recorded

Verify = Callable[[bytes, Mapping[str, str], Mapping[str, str], "str | None"], VerifyResult]


@dataclass(frozen=True)
class WebhookSource:
    """One inbound webhook platform.

    ``secrets``: its settings (the first one is the key ``verify`` receives); ``decode``: raw
    bytes → dict (JSON by default; a platform that posts forms brings its own);
    ``subscription_cancel_events``: event types that end a subscription rather than one sale;
    ``body_secrets``: key paths inside the body that carry a credential, dropped before the
    body is stored; ``test_markers``: what the platform's own test deliveries look like
    (documentation for the operator and the tests; ``parse`` sets ``test_origin``).
    """

    name: str
    label: str
    secrets: tuple[Field, ...]
    verify: Verify
    parse: Callable[[dict], NormalizedEvent]
    decode: Callable[[bytes], dict] = parse_json
    subscription_cancel_events: frozenset[str] = frozenset()
    subscription_match: str = MATCH_SUBSCRIPTION
    # Its subscriptions are derived from its webhook sales (``services.subscriptions``); a
    # platform whose subscriptions come from its API or its own events (Hotmart) leaves it off.
    subscriptions_from_sales: bool = False
    body_secrets: tuple[tuple[str, ...], ...] = ()
    test_markers: Mapping[str, Any] = field(default_factory=dict)
    # The panel can generate the token to paste in the platform (one the seller chooses).
    generated_token: bool = False
    generated_token_help: str = ""
    # HTTP status of an authenticated delivery stored as failed (its kind lacks what it needs,
    # e.g. no valid buyer e-mail). 422 by default (SPEC §5); a platform that switches the
    # webhook off after non-200 answers (Eduzz) gets 200: the event is stored either way.
    invalid_event_status: int = 422
    # Plain-words help for a refused delivery: what to fix and where (pt-BR).
    missing_proof_help: str = ""
    invalid_proof_help: str = ""

    @property
    def secret_key(self) -> str:
        """The setting holding the key ``verify`` checks against."""
        return self.secrets[0].key

    def cancels_subscription(self, event: NormalizedEvent) -> bool:
        """A revoking event that ends a subscription (not one sale)."""
        return event.kind is Kind.REVOKE and event.event_type in self.subscription_cancel_events
