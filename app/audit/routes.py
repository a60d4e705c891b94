"""/auditoria: the read-only log of operator actions (there are no edit or delete routes)."""

from __future__ import annotations

from flask import render_template, request

from app.audit import bp
from app.extensions import db
from app.paging import page_arg
from app.services import audit

PER_PAGE = 50


@bp.get("/auditoria")
def index():
    action = request.args.get("action", "")
    action = action if action in audit.ACTIONS else ""
    actor = request.args.get("actor", "").replace("\x00", "").strip()[:254]
    page = db.paginate(
        audit.query(action or None, actor or None),
        page=page_arg(),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "audit/index.html",
        page=page,
        f={"action": action, "actor": actor},
        actions=audit.ACTIONS,
        actors=audit.actors(),
        summary=audit.summary,
        label=audit.label,
    )
