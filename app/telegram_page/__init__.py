"""/telegram: the operator's view of the Telegram groups (chats, joins, removals, log)."""

from flask import Blueprint

from app.security import require_operator

bp = Blueprint("telegram_page", __name__)
bp.before_request(require_operator)

from app.telegram_page import routes  # noqa: E402,F401
