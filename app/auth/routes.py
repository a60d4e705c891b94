"""Login, logout, first-operator setup and password reset."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SetupForm
from app.extensions import db, limiter
from app.ratelimit import login_account_key
from app.security import operator_exists, safe_next
from app.services import accounts, audit, user_sessions

log = logging.getLogger(__name__)

INVALID_LOGIN = "E-mail ou senha inválidos."


def _account_key() -> str:
    return login_account_key(request.form.get("email") or "")


def _home_for(user) -> str:
    return "dashboard.index" if user.is_admin else "member.account"


def start_session(user) -> None:
    """Log in with a fresh session (no fixation): a new server-side record, remember-me off."""
    session.clear()
    user_sessions.open_session(user)
    login_user(user, remember=False)
    session.permanent = False


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"], key_func=_account_key
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for(_home_for(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            log.info("failed login attempt")
            flash(INVALID_LOGIN, "danger")
            return render_template("auth/login.html", form=form), 200
        if user.is_admin:
            audit.record(audit.LOGIN, actor=user, target_type="user", target_id=user.id)
        db.session.commit()
        start_session(user)
        log.info("user %s logged in", user.id)
        return redirect(safe_next(request.args.get("next"), _home_for(user)))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        if current_user.is_admin:
            audit.record(audit.LOGOUT, target_type="user", target_id=current_user.id)
            db.session.commit()
        user_sessions.close_session(current_user.session_token)
        log.info("user %s logged out", current_user.id)
    logout_user()
    session.clear()
    flash("Você saiu da sua conta.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if operator_exists():
        flash("O operador inicial já foi criado. Entre com sua conta.", "info")
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        accounts.lock_setup()
        try:
            user = accounts.create_operator(form.email.data, form.password.data, form.name.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            message = str(exc)
            # the message says which field it is about ("e-mail" or "senha")
            field = form.email if "e-mail" in message.lower() else form.password
            field.errors = [*field.errors, message]
        else:
            if accounts.operator_count() > 1:  # another request won the race after our check
                db.session.rollback()
                abort(409, description="O operador inicial já foi criado.")
            audit.record(
                audit.OPERATOR_CREATED,
                actor=user,
                target_type="user",
                target_id=user.id,
                details={"email": user.email, "via": "configuração inicial (/setup)"},
            )
            db.session.commit()
            current_app.extensions["vendas_operator_exists"] = True
            start_session(user)
            flash("Operador criado. Bem-vindo ao Vendas Hub!", "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/esqueci-senha", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT"], methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        flash(
            "Se houver uma conta com este e-mail, enviamos um link para redefinir a senha.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/redefinir-senha/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if accounts.reset_token_user(token) is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except accounts.AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Senha redefinida. Entre com a nova senha.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
