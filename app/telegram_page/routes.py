from __future__ import annotations

from flask import render_template

from app.automations.routes import STATUS_LABELS, STEP_LABELS
from app.services import telegram, telegram_overview
from app.telegram_page import bp


@bp.get("/telegram")
def index():
    chats = telegram_overview.chats()
    members = telegram_overview.joined_members()
    removals = telegram_overview.pending_removals()
    shown = [invite.chat_id for invite, _, _ in members]
    shown += [(d.payload or {}).get("chat_id") for d in removals]
    return render_template(
        "telegram/index.html",
        configured=telegram.configured(),
        chats=chats,
        chat_titles=telegram_overview.chat_titles(chats, shown),
        members=members,
        removals=removals,
        log=telegram_overview.delivery_log(),
        steps=STEP_LABELS,
        statuses=STATUS_LABELS,
    )
