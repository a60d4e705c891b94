"""/automacoes: the sale → Kommo switch and mapping, and the delivery log with retries
(the Gestão Click section lives in ``app.automations.gestao_click``)."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.automations import bp
from app.automations.gestao_click import page_context as gestao_click_context
from app.automations.saving import save_switch_and_mapping
from app.clients.errors import APIError
from app.extensions import db
from app.models import AutomationDelivery
from app.models.automation import DELIVERY_FAILED, DELIVERY_STATUSES
from app.paging import paginate
from app.plurals import ngettext
from app.registry import KOMMO_PUSH_FIELDS
from app.services import audit, automation_backfill, automation_sender, automations, kommo
from app.services import settings as settings_service
from app.services.automation_backfill import PERIOD_LABELS
from app.services.gestao_click_push import venda_url
from app.services.kommo_push import lead_url

log = logging.getLogger(__name__)

PER_PAGE = 50
ORDER = [(AutomationDelivery.id, True)]
STATUS_LABELS = {
    "pending": "Na fila",
    "sending": "Enviando",
    "sent": "Enviado",
    "failed": "Falhou",
    "cancelled": "Cancelado",
}
STEP_LABELS = {
    "contact_lead": "Venda aprovada → contato e negócio",
    "lost": "Reembolso/cancelamento → negócio perdido",
    "cart": "Carrinho/PIX/boleto → negócio de recuperação",
    "renewal_note": "Renovação → nota no negócio",
    "gc_venda": "Venda aprovada → cliente e venda no Gestão Click",
    "gc_refund": "Reembolso/cancelamento → situação da venda no Gestão Click",
    "notify_sale": "Aviso no Telegram: venda aprovada",
    "notify_revoked": "Aviso no Telegram: reembolso/cancelamento",
    "notify_failure": "Aviso no Telegram: falha",
    "notify_summary": "Aviso no Telegram: resumo do dia",
    "invite": "Telegram: link de convite do membro",
    "remove": "Telegram: remoção do membro do grupo",
}
TARGET_NAMES = {
    "kommo": "Kommo",
    "gestao_click": "Gestão Click",
    "telegram": "Telegram",
    "telegram_access": "Telegram (grupos)",
}
MAPPING_KEYS = (
    "KOMMO_SALE_PIPELINE_ID",
    "KOMMO_SALE_STATUS_ID",
    "KOMMO_LOST_STATUS_ID",
    "KOMMO_CART_STATUS_ID",
)


def _pipelines() -> tuple[list[dict], str | None]:
    """Kommo's pipelines with their statuses, for the pickers (an error message instead)."""
    if not kommo.is_configured():
        return [], "Configure o token do Kommo em Configurações para escolher o funil e as etapas."
    try:
        with kommo.build_client(retry_attempts=1) as client:
            items = client.pipelines()
    except APIError as exc:
        return [], f"Não foi possível ler os funis do Kommo: {exc.message}"
    out = []
    for p in items:
        statuses = (p.get("_embedded") or {}).get("statuses") or []
        out.append(
            {
                "id": p.get("id"),
                "name": p.get("name") or f"Funil {p.get('id')}",
                "is_main": bool(p.get("is_main")),
                "statuses": [
                    {"id": s.get("id"), "name": s.get("name") or str(s.get("id"))}
                    for s in statuses
                    if isinstance(s, dict)
                ],
            }
        )
    return out, None


def _status_filter() -> str:
    value = request.args.get("status", "")
    return value if value in DELIVERY_STATUSES else ""


@bp.get("/automacoes")
def index():
    status = _status_filter()
    stmt = select(AutomationDelivery)
    if status:
        stmt = stmt.where(AutomationDelivery.status == status)
    page = paginate(stmt, order=ORDER, per_page=PER_PAGE, key=lambda d: [d.id])
    counts = dict(
        db.session.execute(
            select(AutomationDelivery.status, func.count()).group_by(AutomationDelivery.status)
        ).all()
    )
    pipelines, pipelines_error = _pipelines()
    values = {key: settings_service.get(key) or "" for key in MAPPING_KEYS}
    return render_template(
        "automations/index.html",
        page=page,
        f={"status": status} if status else {},
        status=status,
        counts=counts,
        statuses=STATUS_LABELS,
        steps=STEP_LABELS,
        enabled=automations.kommo_enabled(),
        switch_source=settings_service.source(automations.KOMMO_SWITCH),
        values=values,
        pipelines=pipelines,
        pipelines_error=pipelines_error,
        kommo_configured=kommo.is_configured(),
        lead_url=lead_url,
        venda_url=venda_url,
        targets=TARGET_NAMES,
        backfill_periods=PERIOD_LABELS,
        backfill_status=automation_backfill.status_text(automation_backfill.latest()),
        **gestao_click_context(),
    )


@bp.post("/automacoes/kommo")
def save_kommo():
    """The switch and the mapping (same settings as /configuracoes → Kommo)."""
    return save_switch_and_mapping(
        KOMMO_PUSH_FIELDS,
        automations.KOMMO_SWITCH,
        MAPPING_KEYS,
        "kommo",
        "Kommo",
        url_for("automations.index"),
    )


def _back():
    status = request.form.get("status", "")
    return redirect(url_for("automations.index", **({"status": status} if status else {})))


@bp.post("/automacoes/<int:delivery_id>/retry")
def retry(delivery_id: int):
    delivery = db.get_or_404(AutomationDelivery, delivery_id)
    if not automation_sender.retry(delivery):
        flash("Este envio não está com falha: nada a tentar de novo.", "info")
        return _back()
    name = TARGET_NAMES.get(delivery.target, delivery.target)
    audit.record(
        audit.AUTOMATION_RETRIED,
        target_type="automation_delivery",
        target_id=delivery.id,
        details={"target": name, "step": delivery.step, "count": 1},
    )
    db.session.commit()  # the commit kicks the sender (app.events)
    db.session.refresh(delivery)
    if delivery.status == "sent":
        flash(f"Enviado ao {name}.", "success")
    elif delivery.status == DELIVERY_FAILED:
        flash(f"O {name} recusou de novo: {delivery.last_error}", "danger")
    else:
        flash("Envio recolocado na fila.", "success")
    return _back()


@bp.post("/automacoes/retry-failed")
def retry_failed():
    count = automation_sender.retry_failed()
    if count:
        audit.record(
            audit.AUTOMATION_RETRIED,
            target_type="automation_delivery",
            details={"target": "todos", "count": count},
        )
    db.session.commit()
    flash(
        ngettext(
            "%(num)s envio com falha recolocado na fila.",
            "%(num)s envios com falha recolocados na fila.",
            count,
        )
        if count
        else "Nenhum envio com falha.",
        "success" if count else "info",
    )
    return _back()
