"""Saving one automation target's switch and mapping from /automacoes (the same settings as
/configuracoes), audited and flashed in pt-BR; shared by the Kommo and Gestão Click forms."""

from __future__ import annotations

from flask import flash, redirect, request
from flask_login import current_user

from app.extensions import db
from app.schema import Field
from app.services import audit
from app.services import settings as settings_service


def save_switch_and_mapping(
    push_fields: tuple[Field, ...],
    switch: str,
    mapping_keys: tuple[str, ...],
    target_id: str,
    target_name: str,
    back: str,
):
    """Store what changed of ``switch`` (the form's ``enabled`` box) and ``mapping_keys``."""
    fields = {field.key: field for field in push_fields}
    wanted = {switch: "true" if request.form.get("enabled") else "false"}
    for key in mapping_keys:
        wanted[key] = (request.form.get(key) or "").strip()
    changed, keys = [], []
    try:
        for key, value in wanted.items():
            if value == (settings_service.get(key) or ""):
                continue
            if value == "":
                settings_service.clear(key)
            else:
                settings_service.set_value(key, value, by=current_user.email)
            changed.append(fields[key].label)
            keys.append(key)
    except settings_service.SettingsError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back)
    if changed:
        audit.record(
            audit.SETTINGS_CHANGED,
            target_type="settings",
            target_id=target_id,
            details={"group": f"Automações ({target_name})", "fields": changed, "keys": keys},
        )
    db.session.commit()
    if changed:
        state = "ligado" if wanted[switch] == "true" else "desligado"
        flash(f"Automações salvas: envio de vendas ao {target_name} {state}.", "success")
    else:
        flash("Nada foi alterado.", "info")
    return redirect(back)
