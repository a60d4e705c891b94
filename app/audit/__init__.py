from flask import Blueprint

from app.security import require_operator

bp = Blueprint("audit", __name__)
bp.before_request(require_operator)

from app.audit import routes  # noqa: E402,F401
