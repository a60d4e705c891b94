from flask import Blueprint

from app.security import is_public_endpoint, require_operator

bp = Blueprint("team", __name__)


@bp.before_request
def _operators_only():
    """Every team page is for operators, except the invite link the invitee opens."""
    if is_public_endpoint():  # team.accept
        return None
    return require_operator()


from app.team import routes  # noqa: E402,F401
