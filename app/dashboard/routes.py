"""Operator pages. Sections whose feature is not built yet show an honest empty state."""

from __future__ import annotations

from flask import render_template, request

from app.dashboard import bp
from app.registry import join_pt
from app.services import access_catalogue, charts, outbox, overview, reconciliation_watch
from app.services import settings as settings_service
from app.services import sync as sync_service
from app.sources import PLATFORMS, SOURCES

_LABELS = [source.label for source in SOURCES.values()]

# Sections of SPEC §5 and what each will hold; the pages say so until the data exists.
SECTIONS = {
    "sales": {
        "title": "Vendas",
        "icon": "💰",
        "what": f"Todas as vendas da {join_pt([*_LABELS, 'Gestão Click'])} em uma lista única.",
        "how": "As vendas chegam pelos webhooks das plataformas e pelas sincronizações.",
        "settings": (*PLATFORMS, "gestao_click"),
    },
    "activations": {
        "title": "Ativações",
        "icon": "🔑",
        "what": "Links de ativação enviados aos compradores: busca, filtros, reenvio, revogação "
        "e exportação CSV.",
        "how": "Cada compra aprovada recebida por webhook gera um link de ativação por e-mail.",
        "settings": PLATFORMS,
    },
    "hotmart": {
        "title": "Hotmart",
        "icon": "🔥",
        "what": "Produtos, vendas e assinaturas da Hotmart, com “Testar conexão” e “Sincronizar”.",
        "how": "Informe Client ID e Client Secret da Hotmart em Configurações.",
        "settings": ("hotmart",),
    },
    "kommo": {
        "title": "Kommo",
        "icon": "📇",
        "what": "Contatos e negócios (leads) do Kommo CRM.",
        "how": "Informe o token de longa duração e a URL da conta Kommo em Configurações.",
        "settings": ("kommo",),
    },
    "gestao_click": {
        "title": "Gestão Click",
        "icon": "🧾",
        "what": "Vendas, clientes e produtos do Gestão Click.",
        "how": "Informe o access token e o secret access token em Configurações.",
        "settings": ("gestao_click",),
    },
    "webhooks": {
        "title": "Webhooks",
        "icon": "📥",
        "what": "Caixa de entrada de eventos recebidos: corpo original, status, tentativas, "
        "erros e reprocessamento.",
        "how": f"Cadastre as URLs {join_pt([f'/webhook/{p}' for p in PLATFORMS])} nas "
        "plataformas e o token de cada uma em Configurações.",
        "settings": PLATFORMS,
    },
    "sync_runs": {
        "title": "Sincronizações",
        "icon": "🔄",
        "what": "Histórico das sincronizações com duração, contagens e erros.",
        "how": "As sincronizações rodam pelos botões “Sincronizar” e pelos agendamentos.",
        "settings": ("hotmart", "kommo", "gestao_click"),
    },
    "reports": {
        "title": "Relatórios",
        "icon": "📊",
        "what": "Relatórios cruzados: conversão de ativações, vendas por origem e produto.",
        "how": "Os relatórios usam as vendas e ativações já registradas.",
        "settings": (),
    },
}


def _section(key: str):
    section = SECTIONS[key]
    groups = {g["group"].platform: g for g in settings_service.overview()}
    status = [
        {"title": groups[p]["group"].title, "configured": settings_service.configured(groups[p])}
        for p in section["settings"]
    ]
    return render_template("dashboard/section.html", section=section, key=key, status=status)


@bp.get("/")
def index():
    groups = settings_service.overview()
    integrations = [
        {
            "title": g["group"].title,
            "platform": g["group"].platform,
            "configured": settings_service.configured(g),
        }
        for g in groups
    ]
    period = charts.from_args(request.args)
    data = overview.build(since=period.since, until=period.until)
    return render_template(
        "dashboard/index.html",
        integrations=integrations,
        data=data,
        period=period,
        presets=charts.PRESETS,
        charts=charts.build(period, data.funnel),
        sections=SECTIONS,
        failed_syncs=sync_service.recent_failures(hours=24),
        smtp_configured=outbox.smtp_configured(),
        reconciliation=reconciliation_watch.snapshot(),
        unmapped_products=access_catalogue.unmapped_if_catalogue(),
    )
