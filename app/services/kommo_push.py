"""Sale → Kommo: how each automation step is delivered (PLATFORMS-WRITES.md §1.11).

* ``contact_lead`` (approved sale): the contact is found by e-mail, then phone (or reused from
  an earlier delivery to the same buyer) and the lead linked to it; else the lead and a new
  contact (name, e-mail, phone; the CPF in a custom field only when the account has one) are
  made in one ``POST /leads/complex``. The lead goes in ``KOMMO_SALE_PIPELINE_ID`` /
  ``KOMMO_SALE_STATUS_ID`` (main pipeline, 142 = won) with the price in whole units, tags
  platform + product, and a note with the sale. A recovery lead of the same buyer and product
  (``cart``) is moved to won instead of creating a second lead.
* ``lost`` (refund, chargeback, cancellation): that lead to ``KOMMO_LOST_STATUS_ID`` (143) +
  a note.
* ``cart`` (abandoned cart, PIX/boleto issued): a recovery lead in ``KOMMO_CART_STATUS_ID``.
* ``renewal_note``: a note on the subscription's lead, never a second lead.

Idempotent through the remote ids recorded on the row after each call (committed at once,
the row stays leased): a retry after a timeout searches before creating (contact by e-mail,
lead by the transaction id in its name — a cart without one by its ``lead_ref`` —, the note
by the delivery's marker — its last line, ``note_marker`` — in the lead's notes), so it never
makes a second contact, lead or note.

Size: one job (``KommoPusher``, the four steps and their search-before-create retries) in ~450
lines; what the pushes say is already apart in ``kommo_push_texts.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from app.clients.errors import APIError
from app.clients.kommo import LOST_STATUS_ID, WON_STATUS_ID
from app.clients.kommo_writes import KommoWriter, contact_body, digits
from app.extensions import db
from app.models import Sale
from app.models.automation import (
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    DELIVERY_SENT,
    STEP_CART,
    STEP_CONTACT_LEAD,
    STEP_LOST,
    STEP_RENEWAL,
    TARGET_KOMMO,
    AutomationDelivery,
    buyer_columns,
)
from app.services import kommo
from app.services.automations import SALE_KEYS, int_setting
from app.services.kommo_push_texts import (
    cart_note,
    lead_name,
    lost_note,
    price,
    renewal_note,
    sale_note,
    same_product,
    tags,
    utm_of,
)
from app.sources.contact import document_type_for

log = logging.getLogger(__name__)

MSG_NO_LEAD = "Esta venda não chegou a ser enviada ao Kommo: não há negócio para atualizar."
CART_WAIT_SECONDS = 30  # a recovery lead of the same buyer still on its way: wait for it


@dataclass(frozen=True)
class Defer:
    seconds: float
    reason: str


@dataclass(frozen=True)
class Cancel:
    reason: str


SENT = "sent"


def note_marker(d: AutomationDelivery) -> str:
    """The last line of every note a delivery adds: stable across its retries, so the note
    already saved by a timed-out attempt is found instead of posted twice."""
    return f"[Vendas Hub: envio nº {d.id}]"  # bracketed: nº 1 is not found in nº 12


def lead_ref(d: AutomationDelivery) -> str:
    """The reference a recovery lead without a transaction carries in its name: one word
    (Kommo's ``query`` finds it), stable across the delivery's retries."""
    return f"VHR{d.id}"


def lead_url(lead_id: int | None) -> str | None:
    """``https://<subdomain>.kommo.com/leads/detail/<id>`` from the account URL."""
    if not lead_id:
        return None
    values = kommo.credentials()
    api = kommo.api_url_for(values["KOMMO_JWT_TOKEN"], values["KOMMO_API_URL"])
    if not api:
        return None
    base = api[: -len("/api/v4")] if api.endswith("/api/v4") else api
    if urlsplit(base).hostname and urlsplit(base).hostname.startswith("api-"):
        return None  # the token's API host (api-c.kommo.com) is not the account's address
    return f"{base}/leads/detail/{int(lead_id)}"


class KommoPusher:
    """Delivers Kommo steps on one client (one run of the sender)."""

    def __init__(self) -> None:
        self.client = kommo.build_client()
        self.writer = KommoWriter(self.client)
        self._cpf_field: int | None | bool = False  # False: not looked up yet

    def close(self) -> None:
        self.client.close()

    def pause(self, seconds: float) -> None:
        """A 429: the whole account's budget waits (every process), not only this row."""
        try:
            self.client.gateway.throttle.pause_for(seconds)
        except Exception:  # a budget store down must not lose the delivery's state
            log.exception("could not pause the Kommo budget")

    # ------------------------------------------------------------------ settings

    @staticmethod
    def pipeline_id() -> int | None:
        return int_setting("KOMMO_SALE_PIPELINE_ID")

    def stage(self, status_id: int) -> dict:
        pipeline = self.pipeline_id()
        return {"status_id": status_id, **({"pipeline_id": pipeline} if pipeline else {})}

    # ------------------------------------------------------------------ steps

    def deliver(self, d: AutomationDelivery) -> Any:
        data = self.data(d)
        if d.step == STEP_CONTACT_LEAD:
            return self.sale_lead(d, data)
        if d.step == STEP_LOST:
            return self.lost(d, data)
        if d.step == STEP_CART:
            return self.cart(d, data)
        if d.step == STEP_RENEWAL:
            return self.renewal(d, data)
        return Cancel(f"Etapa desconhecida: {d.step}")

    @staticmethod
    def data(d: AutomationDelivery) -> dict:
        data = dict(d.payload or {})
        if d.sale is not None:  # the sale as it is now (a later event may have filled a phone)
            for key in SALE_KEYS:
                value = getattr(d.sale, key)
                if value not in (None, ""):
                    data[key] = value
            data["is_test"] = bool(d.sale.is_test) or bool(data.get("is_test"))
        return data

    def sale_lead(self, d: AutomationDelivery, data: dict) -> Any:
        won = int_setting("KOMMO_SALE_STATUS_ID") or WON_STATUS_ID
        if d.remote_lead_id is None:
            contact_id = self.contact(d, data)
            cart = self.recovery_lead(d, data)
            if isinstance(cart, Defer):
                return cart
            if cart is not None:
                changes = {
                    **self.stage(won),
                    "name": lead_name(data),
                    "price": price(data),
                    "tags_to_add": [{"name": t} for t in tags(data)],
                }
                self.writer.update_lead(cart, changes)
                self.record(d, remote_lead_id=cart)
            else:
                self.lead(d, data, contact_id, won)
        self.note(d, sale_note(data, utm_of(d)))
        return SENT

    def lead(self, d: AutomationDelivery, data: dict, contact_id: int | None, status: int) -> None:
        """The step's lead: linked to the buyer's contact, or — none found — made together
        with the new contact in one ``leads/complex`` request."""
        if contact_id is not None:
            self.new_lead(d, data, contact_id, status)
        else:
            self.complex_lead(d, data, status)

    def lead_body(self, data: dict, status: int) -> dict:
        return {
            "name": lead_name(data),
            "price": price(data),
            **self.stage(status),
            "_embedded": {"tags": [{"name": t} for t in tags(data)]},
        }

    def new_lead(self, d: AutomationDelivery, data: dict, contact_id: int, status: int) -> None:
        key = data.get("transaction_id") or data.get("lead_ref")
        if d.attempts > 1 and key:
            # An earlier attempt may have created it before its answer was lost (a timeout).
            found = self.writer.find_lead(str(key), contact_id)
            if found is not None:
                self.record(d, remote_lead_id=int(found["id"]))
                return
        body = self.lead_body(data, status)
        body["_embedded"]["contacts"] = [{"id": contact_id, "is_main": True}]
        lead_id = self.writer.create_lead(body, request_id=f"delivery-{d.id}")
        self.record(d, remote_lead_id=lead_id)

    def complex_lead(self, d: AutomationDelivery, data: dict, status: int) -> None:
        """``POST /leads/complex`` (PLATFORMS-WRITES.md §1.11 step 3). A retry first looks for
        what a timed-out attempt made: the contact was searched already (``contact``, by
        e-mail and phone — found, the retry goes through ``new_lead``); here the lead by its
        transaction (or a cart's ``lead_ref``), for a buyer Kommo cannot find by e-mail or
        phone."""
        key = data.get("transaction_id") or data.get("lead_ref")
        if d.attempts > 1 and key:
            found = self.writer.find_lead(str(key))
            if found is not None:
                lead_id = int(found["id"])
                contacts = self.writer.lead_contact_ids(lead_id)
                self.record(
                    d, remote_lead_id=lead_id, remote_contact_id=contacts[0] if contacts else None
                )
                return
        lead_id, contact_id = self.writer.create_lead_with_contact(
            self.lead_body(data, status), self.contact_body(data), request_id=f"delivery-{d.id}"
        )
        self.record(d, remote_lead_id=lead_id, remote_contact_id=contact_id)

    def lost(self, d: AutomationDelivery, data: dict) -> Any:
        lead_id = d.remote_lead_id
        if lead_id is None:
            pushed = self.sale_delivery(d.sale_id, (STEP_CONTACT_LEAD, STEP_RENEWAL))
            waiting = pushed is not None and pushed.status in (DELIVERY_PENDING, DELIVERY_SENDING)
            if waiting and pushed.remote_lead_id is None:
                return Defer(CART_WAIT_SECONDS, "Aguardando o envio da venda ao Kommo")
            lead_id = pushed.remote_lead_id if pushed is not None else None
            if lead_id is None:
                return Cancel(MSG_NO_LEAD)
            lost = int_setting("KOMMO_LOST_STATUS_ID") or LOST_STATUS_ID
            self.writer.update_lead(lead_id, self.stage(lost))
            self.record(d, remote_lead_id=lead_id, remote_contact_id=pushed.remote_contact_id)
        self.note(d, lost_note(data))
        return SENT

    def cart(self, d: AutomationDelivery, data: dict) -> Any:
        status = int_setting("KOMMO_CART_STATUS_ID")
        if status is None:
            return Cancel("A etapa de recuperação de carrinhos não está configurada em Automações.")
        if d.remote_lead_id is None:
            contact_id = self.contact(d, data)
            cart = {**data, "cart": True}
            if not data.get("transaction_id"):  # Hotmart's abandoned cart: none to search by
                cart["lead_ref"] = lead_ref(d)
            self.lead(d, cart, contact_id, status)
        self.note(d, cart_note(data))
        return SENT

    def renewal(self, d: AutomationDelivery, data: dict) -> Any:
        if d.remote_lead_id is None:
            first = self.subscription_lead(d, data)
            if isinstance(first, Defer):
                return first
            if first is None:  # the first payment was never pushed: this one opens the lead
                return self.sale_lead(d, data)
            self.record(
                d, remote_lead_id=first.remote_lead_id, remote_contact_id=first.remote_contact_id
            )
        self.note(d, renewal_note(data))
        return SENT

    # ------------------------------------------------------------------ pieces

    def record(self, d: AutomationDelivery, **ids: Any) -> None:
        """Keep what Kommo answered before anything else can fail (the row stays leased)."""
        for key, value in ids.items():
            if value is not None:
                setattr(d, key, value)
        db.session.commit()

    def note(self, d: AutomationDelivery, text: str) -> None:
        """The step's note, once: its text ends with the delivery's marker, and a retry (the
        previous attempt may have timed out after Kommo saved it) looks for it first."""
        if d.note_added or d.remote_lead_id is None:
            return
        mark = note_marker(d)
        if d.attempts > 1 and self.writer.lead_note_with(d.remote_lead_id, mark) is not None:
            d.note_added = True
            db.session.commit()
            return
        self.writer.add_lead_note(
            d.remote_lead_id, f"{text}\n{mark}", request_id=f"delivery-{d.id}"
        )
        d.note_added = True
        db.session.commit()

    def contact(self, d: AutomationDelivery, data: dict) -> int | None:
        """The buyer's contact: recorded, known from an earlier delivery, or found by e-mail
        then phone; ``None`` when there is none (the lead brings it: ``complex_lead``)."""
        if d.remote_contact_id:
            return d.remote_contact_id
        email = (data.get("buyer_email") or "").strip().lower() or None
        contact_id = self.known_contact(d, data)
        if contact_id is None:
            found = self.writer.find_contact(email, data.get("buyer_phone"))
            contact_id = int(found["id"]) if found else None
        if contact_id is None:
            contact_id = self.known_contact(d, data, strong=False)
        if contact_id is None:
            return None
        self.record(d, remote_contact_id=contact_id)
        return contact_id

    def contact_body(self, data: dict) -> dict:
        return contact_body(
            data.get("buyer_name"),
            data.get("buyer_email"),
            data.get("buyer_phone"),
            extra_fields=self.cpf_fields(data.get("buyer_document")),
        )

    @staticmethod
    def known_contact(d: AutomationDelivery, data: dict, strong: bool = True) -> int | None:
        """The contact an earlier delivery to this buyer found or created (``buyer_columns``:
        the keys stored on every row). ``strong``, asked before Kommo's own search: one of the
        same sale (a buyer with no e-mail, phone or document has no other key) or of the same
        e-mail. Else, once Kommo found nobody by e-mail or phone: one of the same CPF, or of the
        same CNPJ or phone whose e-mail names nobody else — a household's phone or a company's
        CNPJ is shared by several buyers, and a buyer with a contact of their own by e-mail
        was found above, never filed under another person's."""
        keys = buyer_columns(data)
        email = keys["buyer_email"]
        if strong:
            wanted = [
                (AutomationDelivery.sale_id, d.sale_id, False),
                (AutomationDelivery.buyer_email, email, False),
            ]
        else:
            document = keys["buyer_document"]
            wanted = [
                (AutomationDelivery.buyer_document, document, document_type_for(document) != "CPF"),
                (AutomationDelivery.buyer_phone, keys["buyer_phone"], True),
            ]
        for column, value, shared_key in wanted:
            if value is None:
                continue
            stmt = (
                select(AutomationDelivery.remote_contact_id)
                .where(
                    AutomationDelivery.target == TARGET_KOMMO,
                    column == value,
                    AutomationDelivery.remote_contact_id.is_not(None),
                    AutomationDelivery.id != d.id,
                )
                .order_by(AutomationDelivery.id.desc())
                .limit(1)
            )
            if shared_key and email is not None:
                stmt = stmt.where(
                    or_(
                        AutomationDelivery.buyer_email.is_(None),
                        AutomationDelivery.buyer_email == email,
                    )
                )
            found = db.session.scalar(stmt)
            if found is not None:
                return found
        return None

    def cpf_fields(self, document: str | None) -> list[dict]:
        """The CPF as a custom field, only when the account has a contact field for it."""
        number = digits(document)
        if not number:
            return []
        if self._cpf_field is False:
            self._cpf_field = None
            try:
                for field in self.writer.contact_custom_fields():
                    label = f"{field.get('code') or ''} {field.get('name') or ''}".lower()
                    if "cpf" in label and field.get("type") in ("text", "numeric", None):
                        self._cpf_field = int(field["id"])
                        break
            except (APIError, KeyError, TypeError, ValueError):
                log.warning("could not read Kommo's contact fields; the CPF is left out")
        if not self._cpf_field:
            return []
        return [{"field_id": self._cpf_field, "values": [{"value": number}]}]

    @staticmethod
    def sale_delivery(sale_id: int | None, steps: tuple[str, ...]) -> AutomationDelivery | None:
        if sale_id is None:
            return None
        return db.session.scalar(
            select(AutomationDelivery)
            .where(
                AutomationDelivery.target == TARGET_KOMMO,
                AutomationDelivery.sale_id == sale_id,
                AutomationDelivery.step.in_(steps),
            )
            .order_by(AutomationDelivery.id)
            .limit(1)
        )

    def recovery_lead(self, d: AutomationDelivery, data: dict) -> int | Defer | None:
        """The recovery lead of this buyer and product not yet turned into a sale."""
        email = (data.get("buyer_email") or "").lower()
        if not email:
            return None
        carts = db.session.scalars(
            select(AutomationDelivery).where(
                AutomationDelivery.target == TARGET_KOMMO,
                AutomationDelivery.step == STEP_CART,
                AutomationDelivery.buyer_email == email,
                AutomationDelivery.id != d.id,
            )
        ).all()
        for cart in sorted(carts, key=lambda c: c.id, reverse=True):
            if not same_product(cart.payload or {}, data):
                continue
            if cart.status in (DELIVERY_PENDING, DELIVERY_SENDING) and cart.remote_lead_id is None:
                return Defer(CART_WAIT_SECONDS, "Aguardando o negócio de recuperação no Kommo")
            if cart.status != DELIVERY_SENT or cart.remote_lead_id is None:
                continue
            taken = db.session.scalar(
                select(AutomationDelivery.id).where(
                    AutomationDelivery.remote_lead_id == cart.remote_lead_id,
                    AutomationDelivery.step == STEP_CONTACT_LEAD,
                    AutomationDelivery.id != d.id,
                )
            )
            if taken is None:
                return cart.remote_lead_id
        return None

    def subscription_lead(self, d: AutomationDelivery, data: dict) -> Any:
        """The delivery that opened the lead of this subscription (or this buyer + product)."""
        stmt = select(AutomationDelivery).join(Sale, AutomationDelivery.sale_id == Sale.id)
        stmt = stmt.where(
            AutomationDelivery.target == TARGET_KOMMO,
            AutomationDelivery.step.in_((STEP_CONTACT_LEAD, STEP_RENEWAL)),
            AutomationDelivery.id != d.id,
            AutomationDelivery.id < d.id,
        )
        same = Sale.id == d.sale_id
        if data.get("subscription_id"):
            same = same | (
                (Sale.platform == data.get("platform"))
                & (Sale.subscription_id == data["subscription_id"])
            )
        elif data.get("buyer_email") and data.get("product_id"):
            same = same | (
                (Sale.buyer_email == data["buyer_email"]) & (Sale.product_id == data["product_id"])
            )
        rows = db.session.scalars(stmt.where(same).order_by(AutomationDelivery.id)).all()
        for row in rows:
            if row.remote_lead_id is not None:
                return row
        if any(r.status in (DELIVERY_PENDING, DELIVERY_SENDING) for r in rows):
            return Defer(CART_WAIT_SECONDS, "Aguardando o negócio da assinatura no Kommo")
        return None
