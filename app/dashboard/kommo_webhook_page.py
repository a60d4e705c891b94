"""/kommo's "Registrar webhook no Kommo" button (POST, CSRF, operator only)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import current_user

from app.dashboard import bp
from app.services import kommo_webhook_setup


@bp.post("/kommo/webhook/registrar")
def kommo_register_webhook():
    result = kommo_webhook_setup.register(by=current_user.email)
    flash(result.message, "success" if result.ok else "danger")
    return redirect(url_for("dashboard.kommo") + "#webhook")
