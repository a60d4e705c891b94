from flask import Blueprint

from app.security import require_operator

bp = Blueprint("activations", __name__)
bp.before_request(require_operator)

from app.activations import routes  # noqa: E402,F401
