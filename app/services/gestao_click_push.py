"""Sale → Gestão Click: how each automation step is delivered (PLATFORMS-WRITES.md §3).

* ``gc_venda`` (approved sale, or a renewal's payment): the cliente is found by CPF/CNPJ
  (digits), then e-mail (or reused from an earlier delivery to the same buyer), else created
  (name, e-mail, phone, document, PF/PJ); then a venda in ``GESTAOCLICK_SALE_SITUACAO_ID`` /
  ``GESTAOCLICK_LOJA_ID`` (the account's default situação / first loja when unset) with the
  product matched by code, then name, to a Gestão Click produto — else a service line — and
  one payment of the total on the sale's date, with the forma de pagamento whose name matches
  the sale's method (none when nothing matches).
* ``gc_refund`` (refund, chargeback, cancellation): the venda to
  ``GESTAOCLICK_REFUND_SITUACAO_ID`` through ``PUT /vendas/{id}`` with the complete record;
  unset → nothing is changed (the delivery is cancelled with the reason).

Idempotent through the remote ids recorded on the row after each call (committed at once, the
row stays leased): the cliente is searched before it is created, and a retry searches the
cliente's vendas of the sale's day (every page) for the marker this venda carries in
``observacoes`` (the transaction id), so a timed-out POST never leads to a second cliente or
venda. Not covered: a buyer with neither CPF/CNPJ nor e-mail cannot be searched, so a
timed-out ``POST /clientes`` for one may be repeated.

``plan(data)`` is also the page's dry-run preview: it only reads.

Size: one job (``GestaoClickPusher``, its two steps, their search-before-create retries and the
dry-run ``Plan`` that shares their lookups) in ~440 lines.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select

from app.clients import gestao_click_writes as gcw
from app.clients.errors import APIError
from app.extensions import db
from app.formatting import DISPLAY_TZ
from app.models.automation import (
    DELIVERY_PENDING,
    DELIVERY_SENDING,
    STEP_VENDA,
    STEP_VENDA_REFUND,
    TARGET_GESTAO_CLICK,
    AutomationDelivery,
)
from app.models.types import utcnow
from app.services import gestao_click, settings
from app.services.kommo_push import SENT, Cancel, Defer, KommoPusher

log = logging.getLogger(__name__)

SITUACAO_KEY = "GESTAOCLICK_SALE_SITUACAO_ID"
LOJA_KEY = "GESTAOCLICK_LOJA_ID"
REFUND_KEY = "GESTAOCLICK_REFUND_SITUACAO_ID"
WAIT_SECONDS = 30
MSG_NO_VENDA = "Esta venda não chegou a ser enviada ao Gestão Click: não há venda para alterar."
MSG_NO_REFUND = (
    "A situação de reembolso (GESTAOCLICK_REFUND_SITUACAO_ID) não está configurada: "
    "a venda no Gestão Click não foi alterada."
)
# The sale's normalized method → words a forma de pagamento's name may carry.
METHOD_WORDS = {
    "pix": ("pix",),
    "credit_card": ("credito", "cartao"),
    "debit_card": ("debito",),
    "boleto": ("boleto",),
    "paypal": ("paypal",),
}
METHOD_LABELS = {
    "pix": "PIX",
    "credit_card": "Cartão de crédito",
    "debit_card": "Cartão de débito",
    "boleto": "Boleto",
}


MSG_SAME_DOCUMENT = "Aguardando o cadastro do mesmo CPF/CNPJ no Gestão Click"


def marker(data: dict) -> str:
    """What the venda carries in ``observacoes`` to be found again: the transaction."""
    payment = int(data.get("recurrence_number") or 0)
    suffix = f" #{payment}" if payment > 1 else ""  # each renewal payment is its own venda
    return f"[Vendas Hub {data.get('platform') or ''} {data.get('transaction_id') or ''}{suffix}]"


def _plain(text: Any) -> str:
    norm = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return " ".join(norm.lower().split())


def amount(data: dict) -> Decimal:
    return Decimal(int(data.get("amount_cents") or 0)) / 100


def sale_day(sale: Any) -> str:
    when = None
    if sale is not None:
        when = sale.approved_at or sale.ordered_at or sale.created_at
    when = when or datetime.now(DISPLAY_TZ)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(DISPLAY_TZ).date().isoformat()


def web_base() -> str | None:
    """The panel's address: ``GESTAOCLICK_WEB_URL``, else the API's without ``api.`` and
    ``/api`` (``https://api.gestaoclick.com`` → ``https://gestaoclick.com``)."""
    configured = (settings.cached("GESTAOCLICK_WEB_URL") or "").strip().rstrip("/")
    if configured:
        return configured
    api = (gestao_click.credentials().get("GESTAOCLICK_API_URL") or "").strip().rstrip("/")
    parts = urlsplit(api)
    if not parts.scheme or not parts.hostname:
        return None
    host = parts.netloc[4:] if parts.netloc.startswith("api.") else parts.netloc
    path = parts.path[: -len("/api")] if parts.path.endswith("/api") else parts.path
    return f"{parts.scheme}://{host}{path}"


def venda_url(d: AutomationDelivery) -> str | None:
    """The venda's page in the panel, ``/vendas_produtos|vendas_servicos/visualizar/<id>``
    (the panel's own paths, as ``/vendas_servicos/adicionar``; the view path is unverified —
    ``GESTAOCLICK_WEB_URL`` moves the base). ``None`` before the venda exists or without its
    tipo (rows sent before it was recorded)."""
    tipo = (d.payload or {}).get("gc_tipo")
    base = web_base() if d.remote_lead_id and tipo in ("produto", "servico") else None
    if not base:
        return None
    return f"{base}/vendas_{tipo}s/visualizar/{int(d.remote_lead_id)}"


@dataclass
class Plan:
    """What a sale becomes in Gestão Click (the preview shows it; the pusher sends it)."""

    cliente: dict | None  # found
    cliente_body: dict  # to create when not found
    line: gcw.Line
    produto: dict | None
    payment: gcw.Payment
    forma: dict | None
    situacao_id: str | None
    loja_id: str | None
    day: str
    observacoes: str
    notes: list[str] = field(default_factory=list)


class GestaoClickPusher:
    """Delivers Gestão Click steps on one client (one run of the sender, or one preview)."""

    def __init__(self) -> None:
        self.client = gestao_click.build_client()
        self._formas: list[dict] | None = None
        self._situacao: str | None | bool = False
        self._loja: str | None | bool = False
        self._produtos: dict[tuple, dict | None] = {}

    def close(self) -> None:
        self.client.close()

    def pause(self, seconds: float) -> None:
        """A 429: the account's shared budget waits (every process), not only this row."""
        try:
            self.client.gateway.throttle.pause_for(seconds)
        except Exception:
            log.exception("could not pause the Gestão Click budget")

    # ------------------------------------------------------------------ mapping

    def situacao_id(self) -> str | None:
        configured = (settings.cached(SITUACAO_KEY) or "").strip()
        if configured:
            return configured
        if self._situacao is False:
            items = gcw.situacoes_vendas(self.client)
            default = next((s for s in items if str(s.get("padrao")) == "1"), None)
            chosen = default or (items[0] if items else None)
            self._situacao = str(chosen["id"]) if chosen else None
        return self._situacao or None

    def loja_id(self) -> str | None:
        configured = (settings.cached(LOJA_KEY) or "").strip()
        if configured:
            return configured
        if self._loja is False:
            items = gcw.lojas(self.client)
            self._loja = str(items[0]["id"]) if items else None
        return self._loja or None

    def produto(self, data: dict) -> dict | None:
        """The Gestão Click produto of the sale's product: by code, then by exact name."""
        code, name = str(data.get("product_id") or "").strip(), data.get("product_name")
        key = (code, _plain(name))
        if key not in self._produtos:
            found = None
            if code:
                found = next(
                    (
                        p
                        for p in gcw.produtos_by(self.client, codigo=code)
                        if code in (str(p.get("codigo_interno") or ""), str(p.get("codigo") or ""))
                    ),
                    None,
                )
            if found is None and name:
                found = next(
                    (
                        p
                        for p in gcw.produtos_by(self.client, nome=str(name))
                        if _plain(p.get("nome")) == _plain(name)
                    ),
                    None,
                )
            self._produtos[key] = found
        return self._produtos[key]

    def forma(self, method: str | None) -> dict | None:
        """The forma de pagamento whose name matches the sale's method (defensive: none)."""
        words = METHOD_WORDS.get((method or "").lower()) or ((_plain(method),) if method else ())
        if not words:
            return None
        if self._formas is None:
            try:
                self._formas = [f for f in gcw.formas_pagamentos(self.client) if f.get("id")]
            except APIError as exc:
                if exc.status == 429:
                    raise
                log.warning("could not read Gestão Click's formas de pagamento: %s", exc)
                self._formas = []
        for forma in self._formas:
            name = _plain(forma.get("nome"))
            if all(w in name for w in words) or (len(words) == 1 and words[0] in name):
                return forma
        return None

    def plan(self, data: dict, sale: Any = None, *, lookup_cliente: bool = True) -> Plan:
        doc = gcw.digits(data.get("buyer_document"))
        email = (data.get("buyer_email") or "").strip().lower() or None
        name = (data.get("buyer_name") or "").strip() or email or "Cliente sem nome"
        cliente_body = {
            "nome": name[:255],
            "cpf_cnpj": doc if len(doc) in (11, 14) else None,
            "email": email,
            "celular": (data.get("buyer_phone") or "").strip() or None,
        }
        cliente = gcw.find_cliente(self.client, doc, email) if lookup_cliente else None
        produto = self.produto(data)
        total = amount(data)
        detail = " · ".join(
            str(x) for x in (data.get("platform", "").title(), data.get("transaction_id")) if x
        )
        if produto is not None:
            line = gcw.Line(valor_venda=total, produto_id=str(produto["id"]), detalhes=detail)
        else:
            line = gcw.Line(
                valor_venda=total,
                nome=(data.get("product_name") or "Venda").strip()[:255],
                detalhes=detail,
            )
        method = data.get("payment_method")
        forma = self.forma(method)
        label = METHOD_LABELS.get(method or "", method or "")
        day = sale_day(sale)
        payment = gcw.Payment(
            valor=line.total,
            forma_pagamento_id=str(forma["id"]) if forma else None,
            data_vencimento=day,
            observacao=f"{data.get('platform', '').title()}: {label}".strip(": ") or None,
        )
        obs = f"{marker(data)} Venda {data.get('transaction_id') or ''} importada do Vendas Hub"
        notes = []
        if data.get("currency") and data["currency"] != "BRL":
            notes.append(f"Valor em {data['currency']}, enviado como está.")
        return Plan(
            cliente=cliente,
            cliente_body=cliente_body,
            line=line,
            produto=produto,
            payment=payment,
            forma=forma,
            situacao_id=self.situacao_id(),
            loja_id=self.loja_id(),
            day=day,
            observacoes=obs,
            notes=notes,
        )

    # ------------------------------------------------------------------ steps

    def deliver(self, d: AutomationDelivery) -> Any:
        data = KommoPusher.data(d)
        if d.step == STEP_VENDA:
            return self.venda(d, data)
        if d.step == STEP_VENDA_REFUND:
            return self.refund(d, data)
        return Cancel(f"Etapa desconhecida: {d.step}")

    def record(self, d: AutomationDelivery, **ids: Any) -> None:
        for key, value in ids.items():
            if value is not None:
                setattr(d, key, value)
        db.session.commit()

    def venda(self, d: AutomationDelivery, data: dict) -> Any:
        if d.remote_lead_id is not None:
            return SENT
        known = None if d.remote_contact_id else self.known_cliente(d)
        plan = self.plan(data, d.sale, lookup_cliente=not (d.remote_contact_id or known))
        cliente_id = d.remote_contact_id or known
        if cliente_id is None and plan.cliente is None:
            # Another e-mail with this CPF/CNPJ: its cliente (made meanwhile, after this
            # plan's lookup) is this buyer's too; while it is being made, wait for it.
            cliente_id, busy = self.document_cliente(d, plan)
            if cliente_id is None and busy:
                return Defer(WAIT_SECONDS, MSG_SAME_DOCUMENT)
        if cliente_id is None:
            cliente = plan.cliente or gcw.create_cliente(self.client, **plan.cliente_body)
            cliente_id = int(cliente["id"])
        self.record(d, remote_contact_id=int(cliente_id))
        if plan.situacao_id is None:
            return Cancel("Nenhuma situação de venda no Gestão Click: escolha uma em Automações.")
        if d.attempts > 1:  # an earlier attempt may have created it before its answer was lost
            found = self.find_venda(cliente_id, plan)
            if found is not None:
                self.record(d, remote_lead_id=int(found["id"]), **self.kind_of(d, plan))
                return SENT
        body = gcw.venda_body(
            cliente_id=str(cliente_id),
            situacao_id=plan.situacao_id,
            lines=[plan.line],
            payments=[plan.payment],
            day=plan.day,
            loja_id=plan.loja_id,
            observacoes=plan.observacoes,
        )
        venda = gcw.create_venda(self.client, body)
        self.record(d, remote_lead_id=int(venda["id"]), **self.kind_of(d, plan))
        return SENT

    @staticmethod
    def kind_of(d: AutomationDelivery, plan: Plan) -> dict:
        """The venda's tipo kept on the row's payload (its panel address depends on it)."""
        tipo = "produto" if plan.produto is not None else "servico"
        return {"payload": {**(d.payload or {}), "gc_tipo": tipo}}

    def find_venda(self, cliente_id: Any, plan: Plan) -> dict | None:
        tipo = "produto" if plan.produto is not None else "servico"
        mark = plan.observacoes.split("]")[0] + "]"
        for venda in gcw.vendas_of_cliente(self.client, str(cliente_id), tipo=tipo, day=plan.day):
            if mark in str(venda.get("observacoes") or ""):
                return venda
        return None

    def refund(self, d: AutomationDelivery, data: dict) -> Any:
        situacao = (settings.cached(REFUND_KEY) or "").strip()
        if not situacao:
            return Cancel(MSG_NO_REFUND)
        venda_id = d.remote_lead_id
        if venda_id is None:
            pushed = db.session.scalar(
                select(AutomationDelivery)
                .where(
                    AutomationDelivery.target == TARGET_GESTAO_CLICK,
                    AutomationDelivery.sale_id == d.sale_id,
                    AutomationDelivery.step == STEP_VENDA,
                )
                .order_by(AutomationDelivery.id)
                .limit(1)
            )
            if d.sale_id is None or pushed is None:
                return Cancel(MSG_NO_VENDA)
            if pushed.remote_lead_id is None:
                if pushed.status in (DELIVERY_PENDING, DELIVERY_SENDING):
                    return Defer(WAIT_SECONDS, "Aguardando o envio da venda ao Gestão Click")
                return Cancel(MSG_NO_VENDA)
            venda_id = pushed.remote_lead_id
            self.record(d, remote_lead_id=venda_id, remote_contact_id=pushed.remote_contact_id)
        venda = gcw.get_venda(self.client, str(venda_id))
        if venda is None:
            return Cancel(f"A venda #{venda_id} não foi encontrada no Gestão Click.")
        if str(venda.get("situacao_id")) != situacao:
            gcw.update_venda_situacao(self.client, venda, situacao)
        return SENT

    @staticmethod
    def document_cliente(d: AutomationDelivery, plan: Plan) -> tuple[int | None, bool]:
        """(the cliente another delivery of this CPF/CNPJ found or created, whether an older
        one is being sent or about to be), read in ONE statement: a sender that records its
        new cliente between two separate reads could otherwise be missed by both."""
        doc = plan.cliente_body.get("cpf_cnpj")
        if not doc:
            return None, False
        now = utcnow()
        being_sent = or_(
            (AutomationDelivery.status == DELIVERY_SENDING)
            & (AutomationDelivery.next_attempt_at > now),
            (AutomationDelivery.status == DELIVERY_PENDING)
            & (AutomationDelivery.next_attempt_at <= now),
        )
        rows = db.session.execute(
            select(AutomationDelivery.remote_contact_id)
            .where(  # ix_automation_deliveries_target_document
                AutomationDelivery.target == TARGET_GESTAO_CLICK,
                AutomationDelivery.buyer_document == doc,
                AutomationDelivery.id != d.id,
                or_(
                    AutomationDelivery.remote_contact_id.is_not(None),
                    being_sent & (AutomationDelivery.id < d.id),
                ),
            )
            .order_by(AutomationDelivery.id)
        ).all()
        known = next((int(r.remote_contact_id) for r in rows if r.remote_contact_id), None)
        return known, any(r.remote_contact_id is None for r in rows)

    @staticmethod
    def known_cliente(d: AutomationDelivery) -> int | None:
        """The cliente an earlier delivery to this buyer found or created."""
        if not d.buyer_email:
            return None
        return db.session.scalar(
            select(AutomationDelivery.remote_contact_id)
            .where(
                AutomationDelivery.target == TARGET_GESTAO_CLICK,
                AutomationDelivery.buyer_email == d.buyer_email,
                AutomationDelivery.remote_contact_id.is_not(None),
                AutomationDelivery.id != d.id,
            )
            .order_by(AutomationDelivery.id.desc())
            .limit(1)
        )
