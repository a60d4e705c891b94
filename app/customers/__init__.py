"""/clientes: one customer across sales, Kommo and Gestão Click, and the navbar search."""

from flask import Blueprint

from app.security import require_operator

bp = Blueprint("customers", __name__, cli_group="customers")
bp.before_request(require_operator)

from app.customers import routes  # noqa: E402,F401
