"""/kommo: configuration and token status, "Testar conexão", syncs, contacts and deals."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from app.dashboard import bp
from app.models import KommoContact, KommoLead
from app.paging import capped_count, paginate_nulls_last
from app.services import kommo as kommo_service
from app.services import kommo_webhook_setup
from app.services import sync as sync_service

TABS = {"contatos": "Contatos", "negocios": "Negócios"}
OUTCOMES = {"": "Todos", "open": "Em andamento", "won": "Ganhos", "lost": "Perdidos"}
PER_PAGE = 25


@bp.get("/kommo")
def kommo():
    tab = request.args.get("aba", "contatos")
    tab = tab if tab in TABS else "contatos"
    query = request.args.get("q", "").strip()[:200]
    context = {
        "tab": tab,
        "tabs": TABS,
        "info": kommo_service.overview(),
        # Tab badges: counts that stop at paging.COUNT_CAP ("10.000+").
        "counts": {
            "contacts": capped_count(select(KommoContact)),
            "leads": capped_count(select(KommoLead)),
        },
        "resources": _resources(),
        "webhook": kommo_webhook_setup.status(),
        "q": query,
    }
    if tab == "contatos":
        stmt = kommo_service.contacts_query(query)
        context.update(
            page=paginate_nulls_last(
                stmt, KommoContact.remote_updated_at, KommoContact.id, PER_PAGE
            ),
            args={"aba": tab, "q": query},
        )
    else:
        outcome = request.args.get("status", "")
        outcome = outcome if outcome in OUTCOMES else ""
        stmt = kommo_service.leads_query(query, outcome)
        page = paginate_nulls_last(stmt, KommoLead.remote_updated_at, KommoLead.id, PER_PAGE)
        context.update(
            page=page,
            args={"aba": tab, "q": query, "status": outcome},
            outcome=outcome,
            outcomes=OUTCOMES,
            contacts=kommo_service.contacts_by_remote_id({lead.contact_id for lead in page.items}),
            currency=kommo_service.account_currency_code(),
            won_totals=kommo_service.won_totals(),
        )
    return render_template("kommo/index.html", **context)


def _resources() -> list[dict]:
    latest = sync_service.latest_runs()
    return [
        {
            "resource": resource,
            "label": label,
            "last": latest.get((kommo_service.SOURCE, resource)),
            "active": sync_service.active_run(kommo_service.SOURCE, resource),
        }
        for resource, label in kommo_service.RESOURCES.items()
    ]
