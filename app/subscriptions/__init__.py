"""/assinaturas: subscribers, MRR and its movement, churn, next charges and overdue."""

from flask import Blueprint

from app.security import require_operator

bp = Blueprint("subscriptions", __name__, cli_group="subscriptions")
bp.before_request(require_operator)

from app.subscriptions import routes  # noqa: E402,F401
