"""/hotmart: credentials status, "Testar conexão", syncs, products, sales and subscriptions."""

from __future__ import annotations

from flask import request

from app.dashboard import bp, integration_page
from app.extensions import db
from app.paging import page_arg
from app.services import hotmart as hotmart_service

PER_PAGE = 25
SORT_LABELS = {"name": "Nome", "status": "Status", "price": "Preço"}


@bp.get("/hotmart")
def hotmart():
    tab = integration_page.current_tab(hotmart_service.HOTMART)
    context: dict = {}
    if tab == "produtos":
        query = request.args.get("q", "").strip()[:200]
        sort = request.args.get("sort", "name")
        sort = sort if sort in SORT_LABELS else "name"
        direction = "desc" if request.args.get("dir") == "desc" else "asc"
        stmt = hotmart_service.products_query(query, sort, direction)
        context.update(
            page=db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False),
            args={"aba": tab, "q": query, "sort": sort, "dir": direction},
            q=query,
            sort=sort,
            direction=direction,
            sort_labels=SORT_LABELS,
        )
    elif tab == "assinaturas":
        statuses = hotmart_service.subscription_statuses()
        status = request.args.get("status", "")
        status = status if status in statuses else ""
        stmt = hotmart_service.subscriptions_query(status)
        context.update(
            page=db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False),
            args={"aba": tab, "status": status},
            statuses=statuses,
            status=status,
        )
    else:
        context["sales"] = hotmart_service.recent_sales(25)
    return integration_page.render(
        hotmart_service.HOTMART, tab, hotmart_service.counts(), **context
    )
