"""The normalized event every source maps its wire format to, and the error contract.

* ``MalformedPayload`` (a ``ValueError``): the body is not a JSON object → 400.
* ``InvalidPayload`` (a ``ValueError``): authenticated, well-formed JSON, but the event lacks
  the fields its kind needs (approval without a valid buyer e-mail, refund without a
  transaction id, …) → 422, stored as ``failed`` with ``.reason``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

log = logging.getLogger("app.sources.base")


class Kind(StrEnum):
    """What the receiver should do with an event (PLATFORMS.md §2.2)."""

    GRANT = "grant"  # approved/paid: send the activation link
    REVOKE = "revoke"  # refund, chargeback, cancellation: disable access
    RENEW = "renew"  # renewal paid: extend access, never a second link
    FLAG = "flag"  # dispute / overdue: policy decision, shown to the operator
    INFO = "info"  # store only (boleto/PIX issued, carts, unknown events)
    NOOP = "noop"  # known event that changes nothing (no event maps here now; stored rows keep it)


@dataclass(frozen=True)
class Item:
    """One more product bought in the same purchase (an order bump or a bundle item)."""

    product_id: str
    product_name: str | None
    offer_code: str | None
    amount_cents: int | None
    is_order_bump: bool


@dataclass(frozen=True)
class SubscriptionUpdate:
    """What an event says about the subscription itself (Hotmart: its subscription events and
    the ``data.subscription`` block of purchase events), keyed as its subscriptions API keys
    it: subscriber code + the product's numeric id. ``None`` fields are not sent: left as
    they are. ``state`` is normalized (``app.sources.recurrence.hotmart_state``)."""

    code: str
    product_id: str
    at: datetime | None  # when it happened on the platform (only newer updates apply)
    state: str | None = None
    status: str | None = None  # the platform's own word for it (``ACTIVE``, ``CANCELED_BY_…``)
    product_ucode: str | None = None
    plan_id: str | None = None
    plan_name: str | None = None
    price_cents: int | None = None  # a charge paid: the plan's price now
    currency: str | None = None
    next_charge_at: datetime | None = None
    started_at: datetime | None = None  # the first charge (recurrence 1) was approved then
    plan_switch: bool = False  # SWITCH_PLAN: the price of the new plan is not sent


@dataclass(frozen=True)
class NormalizedEvent:
    platform: str
    event_type: str
    kind: Kind
    dedupe_key: str
    transaction_id: str | None
    status: str | None
    buyer_email: str | None
    buyer_name: str | None
    buyer_phone: str | None
    buyer_document: str | None
    buyer_document_type: str | None
    product_id: str | None
    product_name: str | None
    offer_code: str | None
    plan_name: str | None
    amount_cents: int | None
    currency: str | None
    payment_method: str | None
    occurred_at: datetime | None
    subscription_id: str | None
    recurrence_number: int | None
    is_order_bump: bool = False
    access_until: datetime | None = None
    # Not a sale: TEST_PLATFORM (the platform's own "send test" tool) or TEST_PANEL (the
    # panel's "Enviar teste", transaction ``TESTE-…``). Never counted in totals.
    test_origin: str | None = None
    checkout_url: str | None = None  # abandoned carts: where the buyer can finish the purchase
    # Several products in one purchase: the others (Kirvano ``products[]``), each its own sale
    # and access; and, for a Hotmart order bump, the transaction of the purchase it belongs to.
    extra_items: tuple[Item, ...] = ()
    parent_transaction_id: str | None = None
    # Where the sale came from (app.sources.tracking.TRACKING_FIELDS), stored on the sale.
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    src: str | None = None
    sck: str | None = None
    xcod: str | None = None
    # When the buyer placed the order (the platform's order/creation date; None when the
    # payload has none): the date /vendas shows, filters and sorts a sale by.
    ordered_at: datetime | None = None
    # Subscription sales: the plan's billing frequency (app.sources.recurrence) and the date
    # of the next charge, when the platform sends them (the /assinaturas figures).
    plan_frequency: str | None = None
    next_charge_at: datetime | None = None
    # The subscription's own change, when the platform describes it (Hotmart).
    subscription_update: SubscriptionUpdate | None = None


TEST_PLATFORM = "platform"
TEST_PANEL = "panel"
PANEL_TEST_PREFIX = "TESTE-"

# Unknown event names whose body status says the money went back: act on the status, so an
# unrecognised name never keeps access that a refund removed (PLATFORMS.md §2.2).
REVOKING_STATUSES = frozenset({"refunded", "chargeback", "canceled"})


def panel_test(transaction_id: str | None) -> str | None:
    """The panel's own signed test deliveries carry a ``TESTE-`` transaction."""
    if transaction_id and transaction_id.upper().startswith(PANEL_TEST_PREFIX):
        return TEST_PANEL
    return None


def kind_for_unknown(platform: str, event_type: str, status: str | None) -> Kind:
    """An unrecognised event is informational unless its status revokes (logged either way)."""
    kind = Kind.REVOKE if status in REVOKING_STATUSES else Kind.INFO
    log.warning(
        "unknown %s webhook event %r (status %r): handled as %s", platform, event_type, status, kind
    )
    return kind


class MalformedPayload(ValueError):
    """The body is not a JSON object (→ HTTP 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidPayload(ValueError):
    """Authenticated event lacking the fields its kind needs (→ HTTP 422).

    ``reason`` is a pt-BR message for the operator. ``event_type`` and ``dedupe_key`` are filled
    in when they could be derived, so the caller can still store the failed event under a
    stable key.
    """

    def __init__(
        self, reason: str, *, event_type: str | None = None, dedupe_key: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_type = event_type
        self.dedupe_key = dedupe_key


class VerifyResult(NamedTuple):
    ok: bool
    reason: str
    location: str | None


def ensure_valid(event: NormalizedEvent, *, subscription_cancellation: bool = False) -> None:
    """Raise ``InvalidPayload`` when an actionable event lacks what its kind needs.

    * GRANT / RENEW / REVOKE need a transaction id, except a subscription cancellation, which
      needs a subscription id, a transaction id or the buyer e-mail to find the access.
    * GRANT also needs a syntactically valid buyer e-mail (where the link is sent).

    INFO / FLAG / NOOP events are stored whatever they lack.
    """

    def fail(reason: str) -> InvalidPayload:
        return InvalidPayload(reason, event_type=event.event_type, dedupe_key=event.dedupe_key)

    if event.kind not in (Kind.GRANT, Kind.RENEW, Kind.REVOKE):
        return
    if subscription_cancellation:
        if not (event.subscription_id or event.transaction_id or event.buyer_email):
            raise fail(
                "Cancelamento de assinatura sem código da assinatura nem e-mail do comprador"
            )
        return
    if not event.transaction_id:
        labels = {
            Kind.GRANT: "Evento de aprovação",
            Kind.RENEW: "Evento de renovação",
            Kind.REVOKE: "Evento de reembolso/cancelamento",
        }
        raise fail(f"{labels[event.kind]} sem identificador da transação")
    if event.kind is Kind.GRANT and not event.buyer_email:
        raise fail("Evento de aprovação sem e-mail válido do comprador")
