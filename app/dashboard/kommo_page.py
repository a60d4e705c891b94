"""/kommo: configuration and token status, "Testar conexão", syncs, contacts and deals."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from app import csv_export
from app.dashboard import bp, integration_page
from app.extensions import db
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


@bp.get("/kommo/exportar.csv")
def kommo_export_csv():
    """The tab's contacts or deals with its search (and the deals' outcome) as CSV, newest
    change first, streamed in batches."""
    from datetime import datetime

    from app.formatting import DISPLAY_TZ, datetime_br

    tab = integration_page.current_tab(kommo_service.KOMMO)
    query = request.args.get("q", "").strip()[:200]
    now = datetime.now(DISPLAY_TZ)
    if tab == "contatos":
        model, stmt = KommoContact, kommo_service.contacts_query(query)
        header = ("Contato", "ID no Kommo", "E-mail", "Telefone", "Atualizado no Kommo")

        def row(c):
            return (
                c.name,
                c.remote_id,
                c.email or "",
                c.phone or "",
                datetime_br(c.remote_updated_at),
            )
    else:
        outcome = request.args.get("status", "")
        outcome = outcome if outcome in OUTCOMES else ""
        model, stmt = KommoLead, kommo_service.leads_query(query, outcome)
        header = (
            "Negócio",
            "ID no Kommo",
            "Valor",
            "Moeda",
            "Funil",
            "Etapa",
            "Situação",
            "Contato (ID no Kommo)",
            "Atualizado no Kommo",
        )
        labels = {"open": "Em andamento", "won": "Ganho", "lost": "Perdido"}

        def row(lead):
            price = None if lead.price is None else lead.price * 100
            return (
                lead.name,
                lead.remote_id,
                csv_export.money(price),
                lead.currency or "",
                lead.pipeline_name or "",
                lead.status_name or "",
                labels[lead.outcome],
                lead.contact_id or "",
                datetime_br(lead.remote_updated_at),
            )

    stmt = (
        stmt.order_by(None)
        .order_by(model.remote_updated_at.desc().nulls_last(), model.id.desc())
        .execution_options(yield_per=500)
    )

    def rows():
        for item in db.session.scalars(stmt):
            yield row(item)

    name = "kommo-contatos" if tab == "contatos" else "kommo-negocios"
    return csv_export.stream(header, rows(), f"{name}-{now:%Y%m%d-%H%M}.csv")
