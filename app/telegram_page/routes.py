from __future__ import annotations

from flask import render_template

from app.automations.routes import STATUS_LABELS, STEP_LABELS
from app.services import telegram, telegram_overview
from app.telegram_page import bp


@bp.get("/telegram")
def index():
    return render_template(
        "telegram/index.html",
        configured=telegram.configured(),
        chats=telegram_overview.chats(),
        members=telegram_overview.joined_members(),
        removals=telegram_overview.pending_removals(),
        log=telegram_overview.delivery_log(),
        steps=STEP_LABELS,
        statuses=STATUS_LABELS,
    )
