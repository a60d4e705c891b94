"""The member area: profile and password (purchases are listed once sales exist)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.auth.routes import start_session
from app.extensions import db
from app.member import bp
from app.member.forms import ChangePasswordForm, NewInviteForm, ProfileForm
from app.services import access_catalogue, access_chats, accounts, activation, telegram_access
from app.services.passwords import verify_password


@bp.route("/conta", methods=["GET"])
@login_required
def account():
    return _page(ProfileForm(obj=current_user), ChangePasswordForm())


def _page(profile_form, password_form, status=200):
    purchases = activation.member_purchases(current_user)
    held = access_catalogue.member_holdings(current_user.id).items
    return render_template(
        "member/account.html",
        profile_form=profile_form,
        password_form=password_form,
        purchases=purchases,
        telegram_chats=telegram_access.member_chats(current_user._get_current_object()),
        invite_form=NewInviteForm(),
        access_items=held,
        member_chats=access_chats.member_chats(current_user.id),
        chat_instructions={
            h.item.chat_id: h.item.instructions for h in held if h.item.kind == "telegram"
        },
    ), status


@bp.post("/conta/telegram/novo-link")
@login_required
def new_telegram_link():
    """ "Gerar novo link" of one chat, once the member who joined through its link left."""
    form = NewInviteForm()
    if not form.validate_on_submit():
        abort(400)
    ok, message = telegram_access.regenerate(current_user._get_current_object(), form.chat.data)
    flash(message, "success" if ok else "warning")
    return redirect(url_for("member.account"))


@bp.post("/conta/perfil")
@login_required
def update_profile():
    form = ProfileForm()
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        db.session.commit()
        flash("Perfil atualizado.", "success")
        return redirect(url_for("member.account"))
    return _page(form, ChangePasswordForm(), 422)


@bp.post("/conta/senha")
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append("Senha atual incorreta.")
        else:
            try:
                accounts.set_password(current_user, form.password.data)
            except accounts.AccountError as exc:
                form.password.errors.append(str(exc))
            else:
                db.session.commit()
                start_session(current_user._get_current_object())
                flash("Senha alterada. Outras sessões abertas foram encerradas.", "success")
                return redirect(url_for("member.account"))
    db.session.rollback()
    return _page(ProfileForm(obj=current_user), form, 422)
