"""/configuracoes: credentials per integration; secrets are never echoed back."""

from __future__ import annotations

import logging
import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db, limiter
from app.security import require_owner
from app.services import audit, mail_settings
from app.services import jobs as jobs_service
from app.services import settings as settings_service
from app.settings import bp
from app.sources import SOURCES

log = logging.getLogger(__name__)


SECRETS_OWNER_ONLY = (
    "Somente o proprietário da conta altera senhas e tokens. Os demais campos você pode salvar "
    "deixando os de senha em branco."
)
SECTIONS = {g.platform for g in settings_service.SCHEMA} | {"agendamentos"}


def _section_url(section: str) -> str:
    """Back to one card of the page, whose result message is shown inside that card (the
    page is long: a message at the top would be out of sight)."""
    return url_for("settings.index", secao=section) + f"#{section}"


@bp.get("/configuracoes")
def index():
    section = request.args.get("secao", "")
    return render_template(
        "settings/index.html",
        groups=settings_service.overview(),
        schedules=jobs_service.overview(),
        flash_inline=section if section in SECTIONS else None,
    )


# Platforms whose webhook token the seller chooses (Kirvano's is optional and often left
# empty): the panel generates one to paste there (``WebhookSource.generated_token``).
GENERATED_TOKENS = {name: s.secret_key for name, s in SOURCES.items() if s.generated_token}


@bp.post("/configuracoes/<platform>/gerar-token")
def generate_token(platform: str):
    require_owner()  # a webhook token is a secret: the owner's (docs/operators.md)
    key = GENERATED_TOKENS.get(platform)
    if key is None:
        abort(404)
    token = secrets.token_urlsafe(32)
    settings_service.set_value(key, token, by=current_user.email)
    group, field = settings_service.FIELDS[key]
    audit.record(
        audit.SETTINGS_CHANGED,
        target_type="settings",
        target_id=platform,
        details={"group": group.title, "fields": [f"{field.label} (gerado)"], "keys": [key]},
    )
    db.session.commit()
    log.info("webhook token of %s generated", platform)
    # Shown once, in this answer only (never stored in a flash cookie nor shown again).
    return render_template(
        "settings/index.html",
        groups=settings_service.overview(),
        schedules=jobs_service.overview(),
        generated={"platform": platform, "token": token},
        # Reloading must not generate yet another token: the address goes back to the GET.
        replace_url=url_for("settings.index") + f"#{platform}",
    )


@bp.post("/configuracoes/<platform>")
def save(platform: str):
    group = next((g for g in settings_service.SCHEMA if g.platform == platform), None)
    if group is None:
        abort(404)
    if not current_user.is_owner and any(
        f.secret and (request.form.get(f"clear_{f.key}") or (request.form.get(f.key) or "").strip())
        for f in group.fields
    ):
        abort(403, description=SECRETS_OWNER_ONLY)
    changed, keys, cleared = [], [], []
    try:
        for field in group.fields:
            if request.form.get(f"clear_{field.key}"):
                settings_service.clear(field.key)
                changed.append(field.label)
                cleared.append(field.key)
                continue
            value = (request.form.get(field.key) or "").strip()
            if not value:
                continue  # blank keeps the current value (secrets are never prefilled)
            if not field.secret and value == (settings_service.get(field.key) or ""):
                continue
            settings_service.set_value(field.key, value, by=current_user.email)
            changed.append(field.label)
            keys.append(field.key)
    except settings_service.SettingsError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return render_template(
            "settings/index.html",
            groups=settings_service.overview(),
            schedules=jobs_service.overview(),
        ), 422
    if changed:
        # Which settings, never their values (secret or not).
        audit.record(
            audit.SETTINGS_CHANGED,
            target_type="settings",
            target_id=platform,
            details={
                "group": group.title,
                "fields": changed,
                "keys": keys + cleared,
                "cleared": cleared,
            },
        )
    if changed and group.on_change is not None:
        group.on_change()  # declared by the group (the e-mail one kicks the outbox)
    db.session.commit()
    if changed:
        log.info("settings of %s changed: %s", platform, ", ".join(changed))
        flash(f"{group.title}: configurações salvas ({', '.join(changed)}).", "success")
    else:
        flash(f"{group.title}: nada foi alterado.", "info")
    return redirect(_section_url(platform))


@bp.post("/configuracoes/email/teste")
@limiter.limit("20 per hour")
def test_email():
    """Send a test message with the saved SMTP settings and say plainly what happened."""
    from app.services import accounts

    try:
        to = accounts.normalize_email(request.form.get("to") or current_user.email)
    except accounts.AccountError as exc:
        flash(f"E-mail de teste: {exc}", "danger")
        return redirect(_section_url("email"))
    ok, message = mail_settings.send_test(to)
    log.info("test e-mail to %s: %s", to, "sent" if ok else "failed")
    flash(message, "success" if ok else "danger")
    return redirect(_section_url("email"))


@bp.post("/configuracoes/telegram/teste")
@limiter.limit("20 per hour")
def test_telegram():
    """getMe, then each configured chat: is the bot an admin that can invite and ban?"""
    from app.services import telegram

    result = telegram.test_connection()
    # one line per group checked: templates/_flashes.html shows a list
    flash(list(result.lines) or result.message, "success" if result.success else "danger")
    return redirect(_section_url("telegram"))


@bp.post("/configuracoes/agendamentos")
def save_schedules():
    """Intervals (minutes) and on/off per job; the scheduler leader applies them at once."""
    from app import scheduler

    changed, errors, audited = [], [], []
    for job in jobs_service.catalogue():
        raw = request.form.get(f"interval-{job.id}")
        if raw is None:
            continue  # not on the submitted form: leave it alone
        try:
            minutes = int(raw.strip())
            enabled = request.form.get(f"enabled-{job.id}") == "1"
            if jobs_service.save(job, minutes * 60, enabled, by=current_user.email):
                changed.append(job.label)
                audited.append(
                    {
                        "job_id": job.id,
                        "job": job.label,
                        "interval_minutes": minutes,
                        "enabled": enabled,
                    }
                )
        except ValueError:
            errors.append(job.label)
    if errors:
        db.session.rollback()
        flash(
            "Intervalo inválido (use minutos entre 1 e 10080) em: " + ", ".join(errors) + ".",
            "danger",
        )
        return redirect(_section_url("agendamentos"))
    if audited:
        audit.record(audit.SCHEDULES_CHANGED, target_type="schedules", details={"jobs": audited})
    db.session.commit()
    if changed:
        log.info("schedules changed: %s", ", ".join(changed))
        running = scheduler.current(current_app)
        if running is not None and running.is_leader:
            running.reload()
            flash("Agendamentos salvos e aplicados.", "success")
        else:
            flash(
                "Agendamentos salvos. O agendador em execução aplica as mudanças em até "
                f"{int(current_app.config.get('SCHEDULER_RENEW_SECONDS', 15))} s.",
                "success",
            )
    else:
        flash("Agendamentos: nada foi alterado.", "info")
    return redirect(_section_url("agendamentos"))
