"""The buyer's signup through an activation link (GET never consumes the token)."""

from __future__ import annotations

import logging
import math
import time

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.routes import start_session
from app.extensions import db, limiter
from app.models.activation import LINK_EXPIRED, LINK_PENDING, LINK_REVOKED, LINK_USED
from app.plurals import ngettext
from app.services import activation
from app.services.passwords import password_problem
from app.signup import bp
from app.signup.forms import SignupForm

log = logging.getLogger(__name__)


def _resend_key() -> str:
    """One budget per purchase: every link of the sale (old or replaced) and every address
    share it, so the buyer's inbox cannot be flooded by resends."""
    token = (request.view_args or {}).get("token", "")
    link = activation.find_by_token(token)
    if link is not None:
        return f"resend:sale:{link.sale_id}"
    return f"resend:{request.remote_addr}:{token[:16]}"


def _minutes_until_reset() -> int | None:
    current = limiter.current_limit
    if current is None:
        return None
    try:
        return max(1, math.ceil((current.reset_at - time.time()) / 60))
    except Exception:  # noqa: BLE001 - the page must render even if the storage is unwell
        return None


@bp.errorhandler(429)
def resend_refused(exc):
    """The resend limit stopped this request: say plainly that nothing was sent."""
    token = (request.view_args or {}).get("token", "")
    link = activation.find_by_token(token) if request.endpoint == "signup.resend" else None
    if link is None:
        from app.errors.handlers import error_response

        return error_response(429)
    minutes = _minutes_until_reset()
    wait = (
        ngettext("em cerca de %(num)s minuto", "em cerca de %(num)s minutos", minutes)
        if minutes
        else "mais tarde"
    )
    log.info("activation resend refused by the rate limit (link %s)", link.id)
    return render_template(
        "signup/gone.html",
        link=link,
        status=link.effective_status(),
        can_resend=False,
        error=(
            "Limite de reenvios atingido: nenhum novo link foi enviado agora. "
            f"Você poderá pedir outro {wait}. Se já recebeu um link por e-mail, use o mais recente."
        ),
    ), 429


def _not_found():
    return render_template("signup/not_found.html"), 404


def _state_page(link, status: str):
    if status == LINK_USED:
        if _signed_in_as(link):
            # The buyer came back through the e-mail: they are already in; no dead end.
            flash("Você já está na sua conta: o acesso desta compra já está liberado aqui.", "info")
            return redirect(url_for("member.account"))
        return render_template("signup/used.html", link=link), 200
    can_resend = activation.buyer_can_resend(link)
    return render_template("signup/gone.html", link=link, status=status, can_resend=can_resend), 410


def _signed_in_as(link) -> bool:
    """The signed-in user is the very account this link created (or added the purchase to)."""
    return bool(
        link.user_id is not None
        and current_user.is_authenticated
        and getattr(current_user, "id", None) == link.user_id
    )


@bp.route("/ativar/<token>", methods=["GET", "POST"])
def activate(token: str):
    link = activation.find_by_token(token)
    if link is None:
        return _not_found()
    status = link.effective_status()
    if status != LINK_PENDING:
        return _state_page(link, status)
    form = SignupForm()
    if request.method == "GET":
        activation.register_open(link)
        db.session.commit()
        if not form.name.data and link.buyer_name:
            form.name.data = link.buyer_name  # what the buyer typed at checkout
        return render_template("signup/form.html", form=form, link=link, products=_products(link))
    if form.validate_on_submit():
        problem = password_problem(form.password.data, link.buyer_email)
        if problem:
            form.password.errors.append(problem)
        else:
            try:
                user, created = activation.redeem(link, form.name.data, form.password.data)
            except activation.ActivationError as exc:
                db.session.rollback()
                fresh = activation.find_by_token(token)
                if fresh is not None and fresh.effective_status() != LINK_PENDING:
                    return _state_page(fresh, fresh.effective_status())
                form.password.errors.append(str(exc))
            else:
                db.session.commit()
                if created:
                    start_session(user)
                    flash("Conta criada! Seu acesso já está liberado.", "success")
                    return redirect(url_for("member.account"))
                flash(
                    "Você já tinha uma conta com este e-mail: a compra foi adicionada a ela. "
                    "Entre com sua senha.",
                    "success",
                )
                if current_user.is_authenticated and current_user.id == user.id:
                    return redirect(url_for("member.account"))
                return redirect(url_for("auth.login"))
    return render_template("signup/form.html", form=form, link=link, products=_products(link)), 422


def _products(link) -> list[str]:
    """Everything this purchase gives access to (several products share one link)."""
    return activation.purchase_products(link.sale) if link.sale else [link.product_name]


@bp.post("/ativar/<token>/reenviar")
@limiter.limit(lambda: current_app.config["ACTIVATION_RESEND_LIMIT"], key_func=_resend_key)
def resend(token: str):
    link = activation.find_by_token(token)
    if link is None:
        return _not_found()
    status = link.effective_status()
    if status not in (LINK_EXPIRED, LINK_REVOKED):
        return redirect(url_for("signup.activate", token=token))
    if not activation.buyer_can_resend(link):
        return _state_page(link, status)
    try:
        issued = activation.reissue(link)
        if issued.token is None and issued.link is not None:
            # A newer link is still pending (an earlier resend): the buyer asked for an e-mail
            # again, so that one is replaced too and a fresh link actually goes out.
            issued = activation.reissue(issued.link)
    except activation.ActivationError as exc:
        db.session.rollback()
        return render_template(
            "signup/gone.html", link=link, status=status, can_resend=False, error=str(exc)
        ), 410
    db.session.commit()
    log.info("activation link %s re-sent by the buyer", link.id)
    # Only a freshly minted token means a new e-mail is on its way; a still-valid link sent
    # earlier (reused) is not re-sent, and the page must not claim it was.
    return render_template(
        "signup/resent.html",
        email=link.buyer_email,
        attached=issued.attached_to is not None,
        sent=issued.token is not None,
    )
