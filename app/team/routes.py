"""/equipe: the operators of the panel, invites and roles (the owner changes them, everyone
else only looks); /convite/<token>: the invitee chooses a name and a password."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.routes import start_session
from app.extensions import db
from app.models import OPERATOR_ROLES
from app.models.types import utcnow
from app.security import require_owner
from app.services import outbox, team
from app.services.accounts import AccountError
from app.team import bp
from app.team.forms import AcceptInviteForm, ConfirmForm, InviteForm, RoleForm

log = logging.getLogger(__name__)


def _page(invite_form=None, issued=None, status=200):
    if invite_form is None:
        # after a successful invite (or any other POST) the form starts empty again
        invite_form = InviteForm(formdata=None)
    return render_template(
        "team/index.html",
        operators=team.operators(),
        invites=team.pending_invites(),
        invite_form=invite_form,
        confirm_form=ConfirmForm(),
        roles=OPERATOR_ROLES,
        last_owner=team.active_owner_count() <= 1,
        issued=issued,
        now=utcnow(),
        # a page answered to the invite POST: reloading must not invite again
        replace_url=url_for("team.index") if issued else None,
    ), status


@bp.get("/equipe")
def index():
    return _page()


@bp.post("/equipe/convites")
def invite():
    require_owner()
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        issued = team.invite(form.email.data, form.role.data, by=current_user)
    except AccountError as exc:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(exc)]
        return _page(form, status=422)
    db.session.commit()  # the e-mail goes to the outbox's sender on commit
    log.info("operator invite %s created", issued.invite.id)
    if outbox.smtp_configured():
        flash(f"Convite criado e e-mail para {issued.invite.email} na fila de envio.", "success")
    else:
        flash(
            "Convite criado. O e-mail ainda não está configurado: copie o link abaixo e envie "
            "você mesmo.",
            "warning",
        )
    return _page(issued=issued)


@bp.post("/equipe/convites/<int(max=2147483647):invite_id>/cancelar")
def revoke_invite(invite_id: int):
    require_owner()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("team.index"))
    try:
        row = team.revoke_invite(invite_id, by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("team.index"))
    db.session.commit()
    flash(f"Convite para {row.email} cancelado: o link deixou de valer.", "success")
    return redirect(url_for("team.index"))


@bp.post("/equipe/<int(max=2147483647):user_id>/papel")
def change_role(user_id: int):
    require_owner()
    form = RoleForm()
    if not form.validate_on_submit():
        return redirect(url_for("team.index"))
    try:
        user = team.change_role(user_id, form.role.data or "", by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _page(status=409)
    db.session.commit()
    flash(f"{user.name or user.email} agora é {user.operator_role_label}.", "success")
    return redirect(url_for("team.index"))


@bp.post("/equipe/<int(max=2147483647):user_id>/remover")
def remove(user_id: int):
    require_owner()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("team.index"))
    try:
        user = team.remove(user_id, by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _page(status=409)
    db.session.commit()
    flash(
        f"{user.name or user.email} foi removido da equipe e saiu de todas as sessões.", "success"
    )
    return redirect(url_for("team.index"))


@bp.route("/convite/<token>", methods=["GET", "POST"])
def accept(token: str):
    row, problem = team.find_invite(token)
    if problem:
        status = 404 if row is None else 410
        return render_template("team/invite_invalid.html", message=problem), status
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            user = team.accept(token, form.name.data, form.password.data)
        except team.TeamError as exc:
            db.session.rollback()
            return render_template("team/invite_invalid.html", message=str(exc)), 410
        except AccountError as exc:  # the password rules of signup and /setup
            db.session.rollback()
            form.password.errors = [*form.password.errors, str(exc)]
        else:
            db.session.commit()
            start_session(user)
            log.info("operator %s joined the team", user.id)
            flash(
                f"Bem-vindo à equipe, {user.name}! Seu papel: {user.operator_role_label}.",
                "success",
            )
            return redirect(url_for("dashboard.index"))
    return render_template("team/accept.html", form=form, invite=row)
