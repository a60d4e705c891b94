from flask import Blueprint, request

from app.security import require_operator

bp = Blueprint("team", __name__)


@bp.before_request
def _operators_only():
    """Every team page is for operators, except the invite link the invitee opens."""
    if request.endpoint == "team.accept":
        return None
    return require_operator()


from app.team import routes  # noqa: E402,F401
