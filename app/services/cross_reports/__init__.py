"""Cross reports of /relatorios (issue 16, SPEC §11): sales read against the Kommo CRM, the
sales' origin (UTM/src) and their outcome, over one São Paulo date range.

Every figure is a SQL aggregate (``GROUP BY`` in the database), most of them over daily
summaries. The two reports of one row per person or lead ("comprou fora do CRM", "ganho sem
venda") read a page by keyset (``Report.page`` after a row's ``key``, its place in the
report's order): their full pages and CSV cost the same on the first rows and the last. The
grouped reports have a row per user, origin, product or month: a page is ``OFFSET``/``LIMIT``
over the grouped result (the grouping costs the same on any page) and the CSV reads that one
SELECT in chunks. "Comprou fora do CRM"'s pages walk the range's sales newest first and group
only the page's buyers (``_not_in_crm_page``), and its total and chart count distinct
buyers as a sum over days of ``sales_daily_buyers`` (``_people``: each sale's day of its
buyer's previous sale, kept by triggers). "Ganho sem venda" counts from ``kommo_won_daily``. Test
sales are never counted and money is BRL in integer cents (sales in other currencies are left
out of every report, as on the charts).

People are matched through ``customer_keys`` (normalized e-mail, E.164 phone, CPF/CNPJ): a
sale is "in the CRM" when one of its keys is also a Kommo contact's; a won lead "has a sale"
when its contact shares a key with a non-test approved sale. The reports read that match
precomputed (``app.services.customers.matches``: ``sales.crm_matched``, ``crm_owner_id``,
``kommo_contacts.has_sale``, kept on write), so a range costs one pass over its rows.

A sale's date is ``Sale.listed_at`` (the ``ix_sales_when_id`` expression, the day the charts
and ``sales_daily`` use); a won lead's is its ``closed_at`` (``ix_kommo_leads_won_closed``).
Refund rates read ``sales_daily`` (São Paulo days), so they cost the same at any size.

Split by job: ``base`` (the report shapes, the shared pieces, how a cell reads), ``people``
(the two keyset reports of one row per person or lead), ``revenue`` (the four grouped reports
and the whole-month spans they read) and this module, which declares the six reports
(``REPORTS``, ``API_NAMES``) and re-exports the names callers use. Tunables that tests change
(``base.CSV_CHUNK``, ``people.WALK_WINDOW``) live in the module that reads them.
"""

from __future__ import annotations

from app.formatting import platform_label  # noqa: F401 - read as cross_reports.platform_label
from app.models import KommoLead, Sale
from app.services.cross_reports.base import (  # noqa: F401 - the package's names
    CSV_CHUNK,
    DAY,
    INT,
    MONEY,
    PAID_STATUSES,
    PERCENT,
    TEXT,
    WHEN,
    Column,
    Report,
    Row,
    Slice,
    cell,
    csv_value,
    month_label,
    period_dict,
    user_label,
)
from app.services.cross_reports.people import (  # noqa: F401 - the tests read the walk
    WALK_WINDOW,
    _buyer,
    _not_in_crm_chart,
    _not_in_crm_count,
    _not_in_crm_edge,
    _not_in_crm_page,
    _not_in_crm_query,
    _not_in_crm_row,
    _not_in_crm_walk,
    _won_without_sale_chart,
    _won_without_sale_count,
    _won_without_sale_page,
    _won_without_sale_query,
    _won_without_sale_row,
)
from app.services.cross_reports.revenue import (  # noqa: F401 - payment_label read from here
    _by_product_chart,
    _by_product_query,
    _by_product_row,
    _by_responsible_chart,
    _by_responsible_query,
    _by_responsible_row,
    _by_utm_chart,
    _by_utm_query,
    _by_utm_row,
    _refunds_chart,
    _refunds_query,
    _refunds_row,
    payment_label,
)

REPORTS: dict[str, Report] = {
    r.slug: r
    for r in (
        Report(
            "comprou-fora-do-crm",
            "Compraram, mas não estão no CRM",
            "Compradores com venda aprovada no período que não aparecem como contato no Kommo "
            "(nem pelo e-mail, nem pelo telefone, nem pelo CPF/CNPJ).",
            "Todos os compradores do período estão no Kommo.",
            (
                Column("buyer_email", "E-mail"),
                Column("buyer_name", "Nome"),
                Column("sales", "Compras", INT),
                Column("amount_cents", "Valor", MONEY),
                Column("last_sale_at", "Última compra", WHEN),
            ),
            _not_in_crm_query,
            _not_in_crm_row,
            _not_in_crm_chart,
            _not_in_crm_count,
            _not_in_crm_page,
            (Sale.listed_at, _buyer()),
            key_int=False,
            synced_from=("kommo", "contacts"),
        ),
        Report(
            "ganho-sem-venda",
            "Ganhos no Kommo sem venda",
            "Negócios marcados como ganhos no Kommo no período cujo contato não tem nenhuma "
            "compra aprovada nas plataformas. Valores em outra moeda (a da conta do Kommo) "
            "aparecem à parte, sem conversão para reais.",
            "Todos os negócios ganhos do período têm uma compra aprovada.",
            (
                Column("lead_name", "Negócio"),
                Column("contact_name", "Contato"),
                Column("contact_email", "E-mail"),
                Column("contact_phone", "Telefone"),
                Column("responsible", "Responsável"),
                Column("price_cents", "Valor no Kommo", MONEY),
                Column("price_other", "Outra moeda"),
                Column("closed_at", "Ganho em", WHEN),
            ),
            _won_without_sale_query,
            _won_without_sale_row,
            _won_without_sale_chart,
            _won_without_sale_count,
            _won_without_sale_page,
            (KommoLead.closed_at, KommoLead.id),
            synced_from=("kommo", "leads"),
        ),
        Report(
            "receita-por-responsavel",
            "Receita por responsável no Kommo",
            "Vendas aprovadas do período somadas pelo responsável do contato no Kommo "
            "(o do negócio ganho, quando houver).",
            "Nenhuma venda aprovada neste período.",
            (
                Column("responsible", "Responsável"),
                Column("sales", "Vendas", INT),
                Column("amount_cents", "Receita", MONEY),
                Column("average_cents", "Ticket médio", MONEY),
                Column("share", "Parte da receita", PERCENT),
            ),
            _by_responsible_query,
            _by_responsible_row,
            _by_responsible_chart,
        ),
        Report(
            "por-origem",
            "Receita e conversão por origem (UTM)",
            "De onde vieram as vendas: utm_source (ou o código src) e utm_campaign. Conversão é "
            "a parte das vendas daquela origem que foi aprovada.",
            "Nenhuma venda neste período.",
            (
                Column("source", "Origem"),
                Column("campaign", "Campanha"),
                Column("sales", "Vendas", INT),
                Column("approved", "Aprovadas", INT),
                Column("conversion", "Conversão", PERCENT),
                Column("amount_cents", "Receita", MONEY),
            ),
            _by_utm_query,
            _by_utm_row,
            _by_utm_chart,
        ),
        Report(
            "por-produto",
            "Receita por plataforma, produto e forma de pagamento",
            "Vendas aprovadas do período somadas por plataforma, produto e forma de pagamento.",
            "Nenhuma venda aprovada neste período.",
            (
                Column("platform_label", "Plataforma"),
                Column("product_name", "Produto"),
                Column("payment_label", "Pagamento"),
                Column("sales", "Vendas", INT),
                Column("amount_cents", "Receita", MONEY),
            ),
            _by_product_query,
            _by_product_row,
            _by_product_chart,
        ),
        Report(
            "reembolsos",
            "Taxa de reembolsos e chargebacks",
            "De cada 100 vendas pagas no mês, quantas foram reembolsadas ou contestadas no "
            "cartão (chargeback), por plataforma.",
            "Nenhuma venda paga neste período.",
            (
                Column("month", "Mês", DAY),
                Column("platform_label", "Plataforma"),
                Column("paid", "Vendas pagas", INT),
                Column("refunded", "Reembolsos", INT),
                Column("refund_rate", "Taxa de reembolso", PERCENT),
                Column("chargeback", "Chargebacks", INT),
                Column("chargeback_rate", "Taxa de chargeback", PERCENT),
                Column("lost_cents", "Valor devolvido", MONEY),
            ),
            _refunds_query,
            _refunds_row,
            _refunds_chart,
        ),
    )
}


# API paths (/api/reports/<name>) in English, like /api/reports/reconciliation.
API_NAMES = {
    "not-in-crm": "comprou-fora-do-crm",
    "won-without-sale": "ganho-sem-venda",
    "revenue-by-responsible": "receita-por-responsavel",
    "by-utm": "por-origem",
    "by-product": "por-produto",
    "refunds": "reembolsos",
}


__all__ = ["API_NAMES", "REPORTS", "Column", "Report", "Row", "Slice", "cell", "csv_value"]
