from flask import Blueprint

from app.security import require_operator

bp = Blueprint("sales", __name__)
bp.before_request(require_operator)

from app.sales_pages import routes  # noqa: E402,F401
