"""/webhooks: the inbox of received events, replay, and signed test deliveries."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app import csv_export
from app.extensions import db
from app.inbox import bp
from app.inbox.guides import other_guides
from app.models import OutboxEmail, WebhookEvent
from app.models.outbox import OUTBOX_SENT
from app.models.webhooks import EVENT_STATUSES, EVENT_SUPERSEDED
from app.paging import paginate
from app.registry import inbox_webhook_labels
from app.services import audit
from app.services import settings as settings_service
from app.services import webhooks as service
from app.sorting import SortKey, sort_from_args, sort_values
from app.sources import PLATFORMS, SOURCES
from app.webhooks import http_status

PER_PAGE = 50
# Kommo's account webhooks and the bot's updates share the inbox (not sales): filterable, no
# test card. Declared in the registry (``inbox_webhooks``).
CRM_PLATFORMS = inbox_webhook_labels()
STATUS_LABELS = {
    "received": "Recebido",
    "processed": "Processado",
    "ignored": "Ignorado",
    "failed": "Falhou",
    "superseded": "Substituído",
}
TEST_OUTCOMES = {
    "accepted": "aceito e processado",
    "ignored": "aceito (evento informativo)",
    "duplicate": "duplicado (já recebido antes)",
}
# The buyer's e-mails a test sale can queue, as the success message names them.
TEST_MAIL_KINDS = {
    "activation": "Um e-mail de ativação de teste",
    "purchase_added": "Um e-mail de compra adicionada de teste",
}
TEST_BUYER_NAME = "Comprador de teste"
TEST_EVENTS = {
    "approved": "Compra aprovada",
    "refunded": "Reembolso",
    "chargeback": "Chargeback",
    "canceled": "Cancelada / recusada",
    "pix_generated": "PIX gerado",
    "billet_generated": "Boleto gerado",
    "abandoned_cart": "Carrinho abandonado",
    "subscription_renewed": "Assinatura renovada",
    "subscription_canceled": "Assinatura cancelada",
}


def rejection_help(platform: str, reason: str) -> str:
    """A refused delivery (401) explained in plain words: what to fix, and where."""
    from app.sources.base import NO_SECRET_REASON

    source = SOURCES.get(platform)
    name = source.label if source is not None else platform.title()
    if reason == NO_SECRET_REASON or source is None:
        return (
            f"O segredo do webhook da {name} não está configurado neste painel, então toda "
            f"entrega é recusada. Configure-o em Configurações → {name}."
        )
    if "ausente" in reason.lower():
        return source.missing_proof_help
    return source.invalid_proof_help


# Header sorts, each backed by a (column, id) index (app.models.webhooks).
SORTS = {
    "recebido": SortKey(WebhookEvent.received_at, "Recebido", lambda e: e.received_at, True),
    "plataforma": SortKey(WebhookEvent.platform, "Plataforma", lambda e: e.platform),
    "status": SortKey(WebhookEvent.status, "Status", lambda e: e.status),
}


def _filtered():
    """(filters, statement) of the list and its export: platform, status and search."""
    platform = request.args.get("platform", "")
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()[:200]
    stmt = select(WebhookEvent)
    if platform in PLATFORMS or platform in CRM_PLATFORMS:
        stmt = stmt.where(WebhookEvent.platform == platform)
    else:
        platform = ""
    if status in EVENT_STATUSES:
        stmt = stmt.where(WebhookEvent.status == status)
    else:
        status = ""
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            db.or_(
                db.func.lower(WebhookEvent.buyer_email).like(like),
                db.func.lower(WebhookEvent.transaction_id).like(like),
                db.func.lower(WebhookEvent.event_type).like(like),
            )
        )
    return {"platform": platform, "status": status, "q": q}, stmt


@bp.get("/webhooks")
def index():
    f, stmt = _filtered()
    sort = sort_from_args(request.args, SORTS, "recebido")
    page = paginate(
        stmt,
        order=sort.order(WebhookEvent.id),
        per_page=PER_PAGE,
        key=sort_values(sort),
    )
    secrets = {p: bool(settings_service.webhook_secret(p)) for p in PLATFORMS}
    return render_template(
        "inbox/index.html",
        address=current_webhook_address(),
        page=page,
        platforms=PLATFORMS,
        labels={name: source.label for name, source in SOURCES.items()} | CRM_PLATFORMS,
        filter_platforms=(*PLATFORMS, *CRM_PLATFORMS),
        statuses=STATUS_LABELS,
        f=f,
        test_events=TEST_EVENTS,
        secrets=secrets,
        rejections=service.rejections(),
        rejection_help=rejection_help,
        sort=sort,
        other_guides=other_guides(PLATFORMS),
    )


EXPORT_HEADER = (
    "Recebido em",
    "Plataforma",
    "Evento",
    "Transação",
    "E-mail do comprador",
    "Status",
    "Tentativas",
    "Processado em",
    "Erro",
)


@bp.get("/webhooks/exportar.csv")
def export_csv():
    """The received events of the list's filters and sort, as CSV, streamed in batches."""
    from app.formatting import DISPLAY_TZ, datetime_br, event_label, platform_label

    f, stmt = _filtered()
    sort = sort_from_args(request.args, SORTS, "recebido")
    order = [col.desc() if desc else col.asc() for col, desc in sort.order(WebhookEvent.id)]
    stmt = stmt.order_by(*order).execution_options(yield_per=500)

    def rows():
        for e in db.session.scalars(stmt):
            yield (
                datetime_br(e.received_at),
                CRM_PLATFORMS.get(e.platform) or platform_label(e.platform),
                event_label(e.event_type),
                e.transaction_id or "",
                e.buyer_email or "",
                STATUS_LABELS.get(e.status, e.status),
                e.attempts,
                datetime_br(e.processed_at) if e.processed_at else "",
                e.last_error or "",
            )

    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(EXPORT_HEADER, rows(), f"webhooks-{now:%Y%m%d-%H%M}.csv")


def webhook_address(app_url: str, used: str) -> dict:
    """Where the platforms must send: the address the operator is using when it differs from
    ``APP_URL`` (both shown), and whether the platforms can reach it at all (a public HTTPS
    address; localhost and private networks only work on this computer or network)."""
    configured, used = app_url.rstrip("/"), used.rstrip("/")
    base = used or configured
    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    try:
        private = ipaddress.ip_address(host).is_private or ipaddress.ip_address(host).is_loopback
    except ValueError:
        private = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    return {
        "base": base,
        "configured": configured if configured and configured != base else None,
        "public_https": parts.scheme == "https" and not private,
    }


def current_webhook_address() -> dict:
    """``webhook_address`` of this request (``APP_URL`` and the address in the browser); the
    pages call it as ``webhook_address_in_use()``."""
    return webhook_address(current_app.config.get("APP_URL") or "", request.host_url)


bp.add_app_template_global(current_webhook_address, "webhook_address_in_use")


@bp.get("/webhooks/<int(max=2147483647):event_id>")
def detail(event_id: int):
    event = db.session.get(WebhookEvent, event_id)
    if event is None:
        abort(404)
    try:
        pretty = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = _form_lines(event.raw_body) if event.platform in CRM_PLATFORMS else None
        pretty = pretty or event.raw_body
    return render_template(
        "inbox/detail.html",
        event=event,
        pretty=pretty,
        statuses=STATUS_LABELS,
        replaced_by=_replaced_by(event),
    )


def _form_lines(raw: str) -> str | None:
    """A form-encoded body (Kommo's) one decoded ``key=value`` a line, for reading."""
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    return "\n".join(f"{key} = {value}" for key, value in pairs) or None


def _replaced_by(event: WebhookEvent) -> int | None:
    """The id of the corrected delivery that superseded ``event`` (named in its note)."""
    if event.status != EVENT_SUPERSEDED:
        return None
    match = re.search(r"#(\d+)\s*$", event.last_error or "")
    return int(match.group(1)) if match else None


@bp.post("/webhooks/<int(max=2147483647):event_id>/reprocessar")
def replay(event_id: int):
    stored = db.session.get(WebhookEvent, event_id)
    if stored is not None and stored.status == EVENT_SUPERSEDED:
        # Its corrected delivery already took its place: replaying the old body could undo it.
        flash(
            f"O evento #{event_id} foi substituído por uma entrega corrigida e não é reprocessado.",
            "warning",
        )
        return redirect(url_for("inbox.detail", event_id=event_id))
    try:
        status = service.process(event_id)  # commits on its own: recorded right after
    except LookupError:
        abort(404)
    event = db.session.get(WebhookEvent, event_id)
    audit.record(
        audit.WEBHOOK_REPLAYED,
        target_type="webhook_event",
        target_id=event_id,
        details={
            "event_id": event_id,
            "platform": event.platform if event else None,
            "event_type": event.event_type if event else None,
            "transaction_id": event.transaction_id if event else None,
            "status": status,
            "result": STATUS_LABELS.get(status, status),
        },
    )
    db.session.commit()
    category = "success" if status in ("processed", "ignored") else "danger"
    flash(f"Evento #{event_id} reprocessado: {STATUS_LABELS.get(status, status)}.", category)
    return redirect(url_for("inbox.detail", event_id=event_id))


def _test_mail_since(last_id: int) -> OutboxEmail | None:
    """The buyer's e-mail the test sale queued (read after the commit: sent, or still queued)."""
    return db.session.scalar(
        select(OutboxEmail)
        .where(OutboxEmail.id > last_id, OutboxEmail.kind.in_(tuple(TEST_MAIL_KINDS)))
        .order_by(OutboxEmail.id.desc())
        .limit(1)
    )


@bp.post("/webhooks/teste")
def send_test():
    """Post a signed sample of the platform's real format through the real receiver."""
    from webhook_samples import build_event

    platform = request.form.get("platform", "")
    family = request.form.get("event", "")
    email = (request.form.get("email") or "").strip()
    if platform not in PLATFORMS or family not in TEST_EVENTS:
        abort(400, description="Plataforma ou evento de teste inválido.")
    secret = settings_service.webhook_secret(platform)
    if not secret:
        flash(
            f"Configure o segredo do webhook da {SOURCES[platform].label} antes de testar.",
            "warning",
        )
        return redirect(url_for("inbox.index"))
    # Marked as a test wherever the sale shows up; stable per platform and buyer so that an
    # approval followed by a refund test acts on the same sale.
    digest = hashlib.sha256(f"{platform}:{email.lower()}".encode()).hexdigest()[:8].upper()
    overrides = {"transaction": f"TESTE-{digest}", "name": TEST_BUYER_NAME}
    if email:
        overrides["email"] = email
    body, headers, query = build_event(platform, family, secret=secret, **overrides)
    last_mail = db.session.scalar(select(func.max(OutboxEmail.id))) or 0
    # Processed in this request: the operator reads the result on the next page.
    result = service.receive(
        platform, body, headers, query, remote_addr="painel (teste)", inline=True
    )
    status_code = http_status(result, platform)
    if result.ok:
        outcome = TEST_OUTCOMES.get(result.outcome.value, result.outcome.value)
    else:
        outcome = f"recusado ({status_code})"
    audit.record(
        audit.WEBHOOK_TEST_SENT,
        target_type="webhook_event" if result.event_id else None,
        target_id=result.event_id,
        details={
            "platform": platform,
            "event": TEST_EVENTS[family],
            "email": email or None,
            "transaction_id": overrides["transaction"],
            "status_code": status_code,
            "result": outcome,
        },
    )
    db.session.commit()
    if result.ok:
        message = f"Webhook de teste da {SOURCES[platform].label} recebido: {outcome}."
        mail = _test_mail_since(last_mail)
        if mail is not None:
            sent = "foi enviado para" if mail.status == OUTBOX_SENT else "entrou na fila para"
            message += f" {TEST_MAIL_KINDS[mail.kind]} {sent} {mail.to_email}."
        flash(message, "success")
    else:
        flash(
            f"Webhook de teste recusado ({status_code}): {result.message}",
            "danger",
        )
    if result.event_id:
        return redirect(url_for("inbox.detail", event_id=result.event_id))
    return redirect(url_for("inbox.index"))
