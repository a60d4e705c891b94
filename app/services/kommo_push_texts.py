"""What the sale → Kommo pushes say: lead names, prices, tags, notes (pt-BR), the sale's origin.

Pure functions of the delivery's data (``app.services.kommo_push`` sends them).
"""

from __future__ import annotations

import json
from typing import Any

from app.extensions import db
from app.formatting import brl, payment_method
from app.models import Sale, WebhookEvent
from app.models.automation import AutomationDelivery
from app.sources.registry import labels
from app.sources.tracking import TRACKING_FIELDS

PLATFORM_LABELS = labels()  # the sales platforms' names, from their WebhookSource


def utm_of(delivery: AutomationDelivery) -> dict[str, str]:
    """The sale's origin for the note: the UTM and tracking codes stored on the sale
    (``app.sources.tracking``); a cart (no sale) reads the ``utm_*`` of its stored webhook."""
    sale = db.session.get(Sale, delivery.sale_id) if delivery.sale_id else None
    if sale is not None:
        return {name: getattr(sale, name) for name in TRACKING_FIELDS if getattr(sale, name)}
    if not delivery.webhook_event_id:
        return {}
    row = db.session.get(WebhookEvent, delivery.webhook_event_id)
    if row is None or not row.raw_body:
        return {}
    try:
        body = json.loads(row.raw_body)
    except ValueError:
        return {}
    found: dict[str, str] = {}

    def walk(value: Any, depth: int) -> None:
        if depth > 5 or len(found) >= 8:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if (
                    isinstance(key, str)
                    and key.lower().startswith("utm_")
                    and isinstance(item, str)
                ):
                    if item.strip():
                        found.setdefault(key.lower(), item.strip()[:120])
                else:
                    walk(item, depth + 1)
        elif isinstance(value, list):
            for item in value[:10]:
                walk(item, depth + 1)

    walk(body, 0)
    return found


def same_product(a: dict, b: dict) -> bool:
    """The same product, by id or by name (a platform's cart events may carry another id
    than its sales: Hotmart's numeric id vs the product's ucode)."""
    ids = (a.get("product_id"), b.get("product_id"))
    if all(ids) and str(ids[0]) == str(ids[1]):
        return True
    names = [str(x.get("product_name") or "").strip().lower() for x in (a, b)]
    if all(names):
        return names[0] == names[1]
    return not all(ids)  # nothing to tell them apart: the buyer's latest cart


# ---------------------------------------------------------------------------- texts


def price(data: dict) -> int:
    """Kommo prices are whole units of the account currency."""
    cents = data.get("amount_cents") or 0
    return int((int(cents) + 50) // 100)


def tags(data: dict) -> list[str]:
    out = [PLATFORM_LABELS.get(data.get("platform") or "", data.get("platform") or "")]
    if data.get("product_name"):
        out.append(str(data["product_name"])[:100])
    if data.get("cart"):
        out.append("Recuperação")
    if data.get("is_test"):
        out.append("Teste")
    return [t for t in out if t]


def lead_name(data: dict) -> str:
    """``<product> — <transaction>``; a recovery lead without a transaction (Hotmart's
    abandoned cart) carries its delivery's reference instead (``lead_ref``), so that a retry
    finds it by Kommo's search like a sale's lead by its transaction."""
    product = data.get("product_name") or "Venda"
    tx = data.get("transaction_id")
    if tx:
        return f"{product} — {tx}"[:250]
    if data.get("lead_ref"):
        return f"{str(product)[:200]} — carrinho {data['lead_ref']}"
    return str(product)[:250]


def _platform(data: dict) -> str:
    return PLATFORM_LABELS.get(data.get("platform") or "", data.get("platform") or "?")


def _lines(data: dict) -> list[str]:
    lines = [f"Transação: {data.get('transaction_id') or '—'}"]
    lines.append(f"Produto: {data.get('product_name') or data.get('product_id') or '—'}")
    if data.get("amount_cents") is not None:
        lines.append(f"Valor: {brl(data['amount_cents'], data.get('currency') or 'BRL')}")
    if data.get("payment_method"):
        lines.append(f"Pagamento: {payment_method(data['payment_method'])}")
    return lines


def sale_note(data: dict, utm: dict[str, str]) -> str:
    lines = [f"Venda aprovada na {_platform(data)} (Vendas Hub)", *_lines(data)]
    if utm:
        lines.append("UTM: " + ", ".join(f"{k}={v}" for k, v in sorted(utm.items())))
    return "\n".join(lines)


def lost_note(data: dict) -> str:
    reasons = {"refunded": "reembolsada", "chargeback": "estornada (chargeback)"}
    what = reasons.get(data.get("status") or "", "cancelada")
    return "\n".join([f"Venda {what} na {_platform(data)} (Vendas Hub)", *_lines(data)])


def cart_note(data: dict) -> str:
    method = data.get("payment_method")
    if data.get("status") == "abandoned":
        title = "Carrinho abandonado"
    elif method in ("pix", "boleto"):
        title = f"{payment_method(method)} gerado e ainda não pago"
    else:
        title = "Pagamento pendente"
    lines = [f"{title} na {_platform(data)} (Vendas Hub)", *_lines(data)]
    if data.get("checkout_url"):
        lines.append(f"Link para concluir a compra: {data['checkout_url']}")
    return "\n".join(lines)


def renewal_note(data: dict) -> str:
    n = data.get("recurrence_number")
    title = f"Renovação nº {n} paga" if n else "Renovação paga"
    return "\n".join([f"{title} na {_platform(data)} (Vendas Hub)", *_lines(data)])
