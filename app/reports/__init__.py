from flask import Blueprint

from app.security import require_operator

bp = Blueprint("reports", __name__)
bp.before_request(require_operator)

from app.reports import cross, reconciliation, routes  # noqa: E402,F401
