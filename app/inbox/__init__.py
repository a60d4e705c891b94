from flask import Blueprint

from app.security import require_operator

bp = Blueprint("inbox", __name__)
bp.before_request(require_operator)

from app.inbox import guides, routes  # noqa: E402,F401
