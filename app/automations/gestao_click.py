"""/automacoes → Gestão Click: the switch, the situação/loja mapping and the dry-run preview."""

from __future__ import annotations

import logging

from flask import render_template, url_for
from sqlalchemy import select

from app.automations import bp
from app.automations.saving import save_switch_and_mapping
from app.clients import gestao_click_writes as gcw
from app.clients.errors import APIError
from app.extensions import db
from app.models import Sale
from app.registry import GESTAOCLICK_PUSH_FIELDS
from app.services import automations, gestao_click
from app.services import settings as settings_service
from app.services.automations import snapshot

log = logging.getLogger(__name__)

GC_MAPPING_KEYS = (
    "GESTAOCLICK_SALE_SITUACAO_ID",
    "GESTAOCLICK_LOJA_ID",
    "GESTAOCLICK_REFUND_SITUACAO_ID",
)
PREVIEW_SALES = 5
MSG_NOT_CONFIGURED = (
    "Configure os tokens do Gestão Click em Configurações para escolher a situação e a loja."
)
APPROVED = ("approved", "complete")


def _options(items: list[dict]) -> list[dict]:
    return [
        {
            "id": str(i.get("id")),
            "name": i.get("nome") or str(i.get("id")),
            "padrao": i.get("padrao"),
        }
        for i in items
        if isinstance(i, dict) and i.get("id")
    ]


def lookups() -> tuple[list[dict], list[dict], str | None]:
    """Gestão Click's situações and lojas for the pickers (an error message instead)."""
    if not gestao_click.is_configured():
        return [], [], MSG_NOT_CONFIGURED
    try:
        with gestao_click.build_client(retry_attempts=1) as client:
            return _options(gcw.situacoes_vendas(client)), _options(gcw.lojas(client)), None
    except APIError as exc:
        return [], [], f"Não foi possível ler o Gestão Click: {exc.message}"


def page_context() -> dict:
    """What the /automacoes page needs for its Gestão Click section."""
    situacoes, lojas, error = lookups()
    return {
        "gc_enabled": automations.gestao_click_enabled(),
        "gc_switch_source": settings_service.source(automations.GESTAOCLICK_SWITCH),
        "gc_values": {key: settings_service.get(key) or "" for key in GC_MAPPING_KEYS},
        "gc_situacoes": situacoes,
        "gc_lojas": lojas,
        "gc_error": error,
        "gc_configured": gestao_click.is_configured(),
    }


@bp.post("/automacoes/gestao-click")
def save_gestao_click():
    """The switch and the mapping (same settings as /configuracoes → Gestão Click)."""
    return save_switch_and_mapping(
        GESTAOCLICK_PUSH_FIELDS,
        automations.GESTAOCLICK_SWITCH,
        GC_MAPPING_KEYS,
        "gestao_click",
        "Gestão Click",
        url_for("automations.index") + "#gestao-click",
    )


def _preview_rows(sales: list[Sale]) -> tuple[list[dict], str | None]:
    from app.services.gestao_click_push import GestaoClickPusher, amount

    rows: list[dict] = []
    pusher = GestaoClickPusher()
    try:
        for sale in sales:
            plan = pusher.plan(snapshot(sale), sale)
            rows.append({"sale": sale, "plan": plan, "total": amount(snapshot(sale))})
    except APIError as exc:
        return rows, f"Não foi possível ler o Gestão Click: {exc.message}"
    finally:
        pusher.close()
    return rows, None


@bp.get("/automacoes/gestao-click/previa")
def preview_gestao_click():
    """Dry run: what the last approved sales would become in Gestão Click. Only reads."""
    situacoes, lojas, error = lookups()
    rows: list[dict] = []
    if error is None:
        sales = list(
            db.session.scalars(
                select(Sale)
                .where(Sale.status.in_(APPROVED), Sale.is_test.is_(False))
                .order_by(Sale.id.desc())
                .limit(PREVIEW_SALES)
            )
        )
        rows, error = _preview_rows(sales)
    names = {
        "situacao": {s["id"]: s["name"] for s in situacoes},
        "loja": {loja["id"]: loja["name"] for loja in lojas},
    }
    return render_template(
        "automations/gc_preview.html",
        rows=rows,
        error=error,
        names=names,
        enabled=automations.gestao_click_enabled(),
        limit=PREVIEW_SALES,
    )
