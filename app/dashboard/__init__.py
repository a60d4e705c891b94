from flask import Blueprint

from app.security import require_operator

bp = Blueprint("dashboard", __name__)
bp.before_request(require_operator)

from app.dashboard import (  # noqa: E402,F401
    gestao_click_page,
    hotmart_page,
    kommo_page,
    kommo_webhook_page,
    routes,
    sync_runs,
)
