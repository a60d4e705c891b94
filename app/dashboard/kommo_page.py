"""/kommo: configuration and token status, "Testar conexão", syncs, contacts and deals."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app.dashboard import bp, integration_page
from app.models import KommoContact, KommoLead
from app.paging import capped_count, paginate_nulls_last
from app.services import kommo as kommo_service
from app.services import kommo_webhook_setup

OUTCOMES = {"": "Todos", "open": "Em andamento", "won": "Ganhos", "lost": "Perdidos"}
PER_PAGE = 25


@bp.get("/kommo")
def kommo():
    tab = integration_page.current_tab(kommo_service.KOMMO)
    query = request.args.get("q", "").strip()[:200]
    # Tab badges: counts that stop at paging.COUNT_CAP ("10.000+").
    counts = {
        "contacts": capped_count(select(KommoContact)),
        "leads": capped_count(select(KommoLead)),
    }
    context: dict = {"q": query, "webhook": kommo_webhook_setup.status()}
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
    return integration_page.render(kommo_service.KOMMO, tab, counts, **context)
