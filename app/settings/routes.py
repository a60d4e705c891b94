"""/configuracoes: credentials per integration; secrets are never echoed back."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.services import settings as settings_service
from app.settings import bp

log = logging.getLogger(__name__)


@bp.get("/configuracoes")
def index():
    return render_template("settings/index.html", groups=settings_service.overview())


@bp.post("/configuracoes/<platform>")
def save(platform: str):
    group = next((g for g in settings_service.SCHEMA if g.platform == platform), None)
    if group is None:
        abort(404)
    changed = []
    try:
        for field in group.fields:
            if request.form.get(f"clear_{field.key}"):
                settings_service.clear(field.key)
                changed.append(field.label)
                continue
            value = (request.form.get(field.key) or "").strip()
            if not value:
                continue  # blank keeps the current value (secrets are never prefilled)
            if not field.secret and value == (settings_service.get(field.key) or ""):
                continue
            settings_service.set_value(field.key, value, by=current_user.email)
            changed.append(field.label)
    except settings_service.SettingsError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return render_template("settings/index.html", groups=settings_service.overview()), 422
    db.session.commit()
    if changed:
        log.info("settings of %s changed: %s", platform, ", ".join(changed))
        flash(f"{group.title}: configurações salvas ({', '.join(changed)}).", "success")
    else:
        flash(f"{group.title}: nada foi alterado.", "info")
    return redirect(url_for("settings.index") + f"#{platform}")
