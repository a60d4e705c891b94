"""/auditoria: the read-only log of operator actions (there are no edit or delete routes)."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request

from app import csv_export
from app.audit import bp
from app.extensions import db
from app.paging import page_arg
from app.services import audit

PER_PAGE = 50


def _filters() -> dict:
    action = request.args.get("action", "")
    action = action if action in audit.ACTIONS else ""
    actor = request.args.get("actor", "").replace("\x00", "").strip()[:254]
    return {"action": action, "actor": actor}


@bp.get("/auditoria")
def index():
    f = _filters()
    action, actor = f["action"], f["actor"]
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
        f=f,
        actions=audit.ACTIONS,
        actors=audit.actors(),
        summary=audit.summary,
        label=audit.label,
    )


@bp.get("/auditoria/exportar.csv")
def export_csv():
    """The filtered log, newest first, as CSV, streamed in batches."""
    from app.formatting import DISPLAY_TZ, datetime_br

    f = _filters()
    stmt = audit.query(f["action"] or None, f["actor"] or None).execution_options(yield_per=500)

    def rows():  # a generator: the query runs while the response streams
        for e in db.session.scalars(stmt):
            yield (
                datetime_br(e.created_at),
                e.actor_email,
                audit.label(e),
                audit.summary(e),
                e.remote_addr or "",
            )

    header = ("Quando", "Quem", "O quê", "Detalhes", "Endereço IP")
    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(header, rows(), f"auditoria-{now:%Y%m%d-%H%M}.csv")
