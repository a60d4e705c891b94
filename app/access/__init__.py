from flask import Blueprint

from app.security import require_operator

bp = Blueprint("access", __name__)
bp.before_request(require_operator)

from app.access import routes  # noqa: E402,F401
