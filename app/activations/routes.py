"""/ativacoes: the operator's view of activation links, e-mails and the funnel."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.activations import bp
from app.csv_export import safe_cell
from app.csv_export import stream as csv_stream
from app.extensions import db
from app.models import ActivationLink, ActivationProduct, OutboxEmail
from app.models.activation import LINK_EXPIRED, LINK_PENDING, LINK_STATUSES
from app.models.outbox import OUTBOX_FAILED, OUTBOX_PENDING
from app.models.types import utcnow
from app.paging import paginate
from app.security import safe_next
from app.services import activation, audit, outbox, stats
from app.sorting import SortKey, sort_from_args, sort_values
from app.sources import PLATFORMS

PER_PAGE = 50
STATUS_LABELS = {
    "pending": "Pendente",
    "used": "Usado",
    "expired": "Expirado",
    "revoked": "Revogado",
}
REVOKE_REASONS = {
    "refunded": "reembolso",
    "chargeback": "chargeback",
    "canceled": "compra cancelada",
    "subscription_canceled": "assinatura cancelada",
    "operator": "pelo operador",
    "replaced": "substituído por reenvio",
    "email_changed": "e-mail corrigido",
}


def _filters() -> dict:
    args = request.args
    status = args.get("status", "")
    platform = args.get("platform", "")
    return {
        "q": args.get("q", "").strip()[:200],
        "status": status if status in LINK_STATUSES else "",
        "platform": platform if platform in PLATFORMS else "",
        "product": args.get("product", "").strip()[:255],
    }


def _query(f: dict):
    stmt = select(ActivationLink)
    now = utcnow()
    if f["q"]:
        stmt = stmt.where(activation.search_filter(f["q"]))
    if f["status"] == LINK_PENDING:
        stmt = stmt.where(ActivationLink.status == LINK_PENDING, ActivationLink.expires_at > now)
    elif f["status"] == LINK_EXPIRED:
        stmt = stmt.where(
            or_(
                ActivationLink.status == LINK_EXPIRED,
                and_(ActivationLink.status == LINK_PENDING, ActivationLink.expires_at <= now),
            )
        )
    elif f["status"]:
        stmt = stmt.where(ActivationLink.status == f["status"])
    if f["platform"]:
        stmt = stmt.where(ActivationLink.platform == f["platform"])
    if f["product"]:
        stmt = stmt.where(ActivationLink.product_id == f["product"])
    return stmt.order_by(ActivationLink.created_at.desc(), ActivationLink.id.desc())


ORDER = [(ActivationLink.created_at, True), (ActivationLink.id, True)]
# Header sorts, each backed by a (column, id) index (app.models.activation).
SORTS = {
    "criado": SortKey(
        ActivationLink.created_at, "Criado", lambda link: link.created_at, descending=True
    ),
    "comprador": SortKey(ActivationLink.buyer_email, "Comprador", lambda link: link.buyer_email),
}


def _products() -> list[tuple[str, str]]:
    """Every product with links (from the ``activation_products`` summary)."""
    name = db.func.max(db.func.nullif(ActivationProduct.product_name, ""))
    rows = db.session.execute(
        select(ActivationProduct.product_id, name)
        .where(ActivationProduct.n > 0)
        .group_by(ActivationProduct.product_id)
        .order_by(name)
    )
    return [(pid, name or pid) for pid, name in rows]


@bp.get("/ativacoes")
def index():
    f = _filters()
    sort = sort_from_args(request.args, SORTS, "criado")
    page = paginate(
        _query(f).order_by(None).options(selectinload(ActivationLink.sale)),
        order=sort.order(ActivationLink.id),
        per_page=PER_PAGE,
        key=sort_values(sort),
    )
    failed_emails = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == OUTBOX_FAILED)
        .order_by(OutboxEmail.id.desc())
        .limit(20)
    ).all()
    queued = db.session.scalar(
        select(db.func.count(OutboxEmail.id)).where(OutboxEmail.status == OUTBOX_PENDING)
    )
    return render_template(
        "activations/index.html",
        page=page,
        f=f,
        reasons=REVOKE_REASONS,
        platforms=PLATFORMS,
        statuses=STATUS_LABELS,
        products=_products(),
        funnel=stats.funnel(since=utcnow() - timedelta(days=30)),
        failed_emails=failed_emails,
        queued_emails=queued,
        smtp_configured=outbox.smtp_configured(),
        now=utcnow(),
        sort=sort,
    )


def _link_or_404(link_id: int) -> ActivationLink:
    link = db.session.get(ActivationLink, link_id)
    if link is None:
        abort(404)
    return link


def _link_target(link: ActivationLink) -> dict:
    return {"target_type": "activation_link", "target_id": link.id}


def _link_details(link: ActivationLink) -> dict:
    """What identifies a link to a seller (never its token: only the hash is stored anyway)."""
    return {
        "email": link.buyer_email,
        "product": link.product_name,
        "platform": link.platform,
        "sale_id": link.sale_id,
    }


def _back():
    return redirect(safe_next(request.form.get("back"), "activations.index"))


def _reissue_audited(link: ActivationLink, *, copy: bool):
    """A fresh link for ``link``'s purchase — e-mailed, or (``copy``) shown to the operator —
    audited and committed; ``None`` (with the reason flashed) when the purchase allows none."""
    try:
        issued = activation.fresh_link(link) if copy else activation.reissue(link)
    except activation.ActivationError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return None
    attached = issued.attached_to is not None
    audit.record(
        audit.ACTIVATION_LINK_COPIED if copy and not attached else audit.ACTIVATION_RESENT,
        **_link_target(link),
        details={
            **_link_details(link),
            "new_link_id": issued.link.id if issued.link else None,
            "attached": attached,
        },
    )
    db.session.commit()
    if attached:
        flash(
            f"{link.buyer_email} já tem conta: a compra foi adicionada a ela. Basta entrar com "
            "esse e-mail.",
            "info",
        )
    return issued


@bp.post("/ativacoes/<int(max=2147483647):link_id>/reenviar")
def resend(link_id: int):
    link = _link_or_404(link_id)
    issued = _reissue_audited(link, copy=False)
    if issued is None or issued.attached_to is not None:
        return _back()
    if outbox.smtp_configured():
        flash(
            f"Novo link na fila de envio para {link.buyer_email}; o anterior deixou de valer. "
            "A coluna “Enviado” mostra quando ele sair.",
            "success",
        )
    else:
        flash(
            f"Novo link criado para {link.buyer_email}, mas o e-mail não está configurado: ele "
            "fica na fila até você configurar o envio em Configurações. Para enviar agora por "
            "WhatsApp, use “Copiar novo link”.",
            "warning",
        )
    return _back()


@bp.post("/ativacoes/<int(max=2147483647):link_id>/copiar-link")
def copy_link(link_id: int):
    """A fresh link shown once, to send by WhatsApp or another channel; nothing is e-mailed."""
    link = _link_or_404(link_id)
    issued = _reissue_audited(link, copy=True)
    if issued is None or issued.attached_to is not None:
        return _back()
    url = activation.activation_url(issued.token)
    phone = "".join(ch for ch in (link.sale.buyer_phone or "") if ch.isdecimal())
    message = (
        f"Olá{', ' + link.buyer_name.split()[0] if link.buyer_name else ''}! "
        f"Seu acesso a {issued.link.product_name or 'sua compra'} está pronto. "
        f"Crie sua conta por este link: {url}"
    )
    return render_template(
        "activations/copy_link.html",
        link=issued.link,
        old=link,
        url=url,
        whatsapp=f"https://wa.me/{phone}?text={quote(message)}" if phone else None,
        whatsapp_any=f"https://wa.me/?text={quote(message)}",
        back=safe_next(request.form.get("back"), "activations.index"),
        # Reloading must not mint yet another link: the address goes back to the list.
        replace_url=url_for("activations.index"),
    )


@bp.post("/ativacoes/<int(max=2147483647):link_id>/revogar")
def revoke(link_id: int):
    link = _link_or_404(link_id)
    try:
        activation.revoke(link, reason="operator")
    except activation.ActivationError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return _back()
    audit.record(audit.ACTIVATION_REVOKED, **_link_target(link), details=_link_details(link))
    db.session.commit()
    flash(f"Link de {link.buyer_email} revogado.", "success")
    return _back()


@bp.post("/ativacoes/<int(max=2147483647):link_id>/email")
def change_email(link_id: int):
    link = _link_or_404(link_id)
    new_email = (request.form.get("email") or "").strip()
    old_email = link.buyer_email
    try:
        issued = activation.change_email(link, new_email)
    except activation.ActivationError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _back()
    target = issued.link.buyer_email if issued.link else new_email
    audit.record(
        audit.ACTIVATION_EMAIL_CHANGED,
        **_link_target(link),
        details={
            **_link_details(link),
            "old_email": old_email,
            "new_email": target,
            "new_link_id": issued.link.id if issued.link else None,
        },
    )
    db.session.commit()
    flash(
        f"E-mail corrigido: novo link enviado para {target}; o anterior deixou de valer.", "success"
    )
    return _back()


@bp.post("/ativacoes/emails/<int(max=2147483647):email_id>/reenviar")
def retry_email(email_id: int):
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    outbox.retry(email)
    audit.record(
        audit.EMAIL_RETRIED,
        target_type="outbox_email",
        target_id=email.id,
        details={"to": email.to_email, "subject": email.subject, "attempts": email.attempts},
    )
    db.session.commit()
    flash(f"E-mail para {email.to_email} colocado de volta na fila de envio.", "success")
    return _back()


_csv_cell = safe_cell  # app.csv_export: the formula-safe cell every export uses


@bp.get("/ativacoes/exportar.csv")
def export_csv():
    from app.formatting import datetime_br

    f = _filters()
    now = utcnow()
    header = (
        "id",
        "email",
        "nome",
        "plataforma",
        "produto",
        "transacao",
        "status",
        "criado_em",
        "enviado_em",
        "aberto_em",
        "aberturas",
        "usado_em",
    )

    def rows():
        for link in db.session.scalars(_query(f).execution_options(yield_per=500)):
            yield (
                link.id,
                link.buyer_email,
                link.buyer_name,
                link.platform,
                link.product_name,
                link.sale.transaction_id,
                STATUS_LABELS[link.effective_status(now)],
                datetime_br(link.created_at),
                datetime_br(link.sent_at),
                datetime_br(link.opened_at),
                link.open_count,
                datetime_br(link.used_at),
            )

    return csv_stream(header, rows(), f"ativacoes-{now:%Y%m%d-%H%M}.csv")
