"""JSON API used by the dashboard buttons (operator only; POSTs carry X-CSRFToken)."""

from flask import Blueprint

from app.security import require_operator

bp = Blueprint("api", __name__)
bp.before_request(require_operator)

from app.api import gestao_click, gestao_click_schedule, kommo, reports, routes  # noqa: E402,F401
from app.api.declared import register  # noqa: E402

register(bp)
