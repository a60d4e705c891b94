from flask import Blueprint

from app.security import require_operator

bp = Blueprint("automations", __name__)
bp.before_request(require_operator)

from app.automations import backfill, gestao_click, routes  # noqa: E402,F401
