"""The integration registry: inbound webhook platforms and outbound API integrations.

Webhook platforms declare a ``WebhookSource`` in their ``app/sources/<name>.py`` (collected by
``app.sources.registry``); the three API integrations are declared here as data (settings
schema with secret fields, nav entry). Config (``INTEGRATION_VARS``), the Settings page
(``settings_schema``), the navigation bar and log masking read this module; nothing else lists
platforms. Pure: no Flask request objects, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.schema import Field, Group
from app.sources.registry import SOURCES


@dataclass(frozen=True)
class Integration:
    """An outbound API integration, declared (its client and service live in their modules)."""

    name: str  # settings group and SyncRun source
    label: str
    fields: tuple[Field, ...]
    nav_endpoint: str  # the dashboard page
    nav_label: str


# Sale → Kommo (SPEC §9): the switch and where the leads go; also set on /automacoes.
KOMMO_PUSH_FIELDS: tuple[Field, ...] = (
    Field(
        "KOMMO_PUSH_SALES",
        "Enviar vendas ao Kommo",
        choices=("true", "false"),
        labels=("Sim", "Não"),
        help="Cada venda aprovada vira um contato e um negócio no Kommo (veja Automações).",
    ),
    Field(
        "KOMMO_SALE_PIPELINE_ID",
        "Funil das vendas (id)",
        kind="id",
        help="Vazio: o funil principal.",
    ),
    Field("KOMMO_SALE_STATUS_ID", "Etapa da venda aprovada (id)", kind="id", help="142 = ganho."),
    Field(
        "KOMMO_LOST_STATUS_ID",
        "Etapa do reembolso/cancelamento (id)",
        kind="id",
        help="143 = perdido.",
    ),
    Field(
        "KOMMO_CART_STATUS_ID",
        "Etapa de recuperação (id)",
        kind="id",
        help="Carrinho abandonado, PIX ou boleto gerado. Vazio: não são enviados.",
    ),
)

INTEGRATIONS: tuple[Integration, ...] = (
    Integration(
        "hotmart",
        "Hotmart",
        (
            Field("HOTMART_CLIENT_ID", "Client ID", required=True),
            Field("HOTMART_CLIENT_SECRET", "Client Secret", secret=True, required=True),
            Field(
                "HOTMART_BASIC",
                "Basic (opcional)",
                secret=True,
                help="Derivado de Client ID:Client Secret quando vazio.",
            ),
            Field("HOTMART_ENV", "Ambiente", choices=("sandbox", "production")),
            Field("HOTMART_API_URL", "URL da API (opcional)", kind="url"),
            Field("HOTMART_AUTH_URL", "URL de autenticação (opcional)", kind="url"),
        ),
        "dashboard.hotmart",
        "Hotmart",
    ),
    Integration(
        "kommo",
        "Kommo",
        (
            Field("KOMMO_JWT_TOKEN", "Token de longa duração (JWT)", secret=True, required=True),
            Field("KOMMO_API_URL", "URL da conta", help="Ex.: https://suaempresa.kommo.com"),
            Field("KOMMO_TIMEOUT", "Tempo limite (s)", kind="number"),
            *KOMMO_PUSH_FIELDS,
        ),
        "dashboard.kommo",
        "Kommo",
    ),
    Integration(
        "gestao_click",
        "Gestão Click",
        (
            Field("GESTAOCLICK_ACCESS_TOKEN", "Access token", secret=True, required=True),
            Field("GESTAOCLICK_SECRET_TOKEN", "Secret access token", secret=True, required=True),
            Field("GESTAOCLICK_API_URL", "URL da API", kind="url"),
        ),
        "dashboard.gestao_click",
        "Gestão Click",
    ),
)


YES_NO = ("true", "false")
YES_NO_LABELS = ("Sim", "Não")

# Settings with no integration page of their own: outgoing e-mail (SPEC §4 ``SMTP_*``).
SETTINGS_ONLY: tuple[Group, ...] = (
    Group(
        "email",
        "E-mail (SMTP)",
        (
            Field(
                "SMTP_HOST",
                "Servidor SMTP",
                required=True,
                public=True,
                help="Ex.: smtp.gmail.com, smtp.office365.com, smtp-relay.brevo.com.",
            ),
            Field(
                "SMTP_PORT",
                "Porta",
                kind="port",
                help="587 com STARTTLS (o mais comum) ou 465 com SSL.",
            ),
            Field(
                "SMTP_USE_TLS",
                "STARTTLS",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="“Sim” para a porta 587.",
            ),
            Field(
                "SMTP_USE_SSL",
                "SSL direto",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="“Sim” para a porta 465.",
            ),
            Field("SMTP_USER", "Usuário", help="Em geral, o e-mail da conta."),
            Field(
                "SMTP_PASSWORD",
                "Senha",
                secret=True,
                help="No Gmail e no Outlook, uma “senha de app”, não a senha normal.",
            ),
            Field(
                "SMTP_FROM",
                "Remetente",
                required=True,
                public=True,
                help="Como os compradores veem: Minha Loja <contato@minhaloja.com.br>.",
            ),
        ),
    ),
)


def settings_schema() -> tuple[Group, ...]:
    """One group per platform: webhook platforms first (an API integration of the same name
    adds its fields before the webhook secret), then the API-only integrations."""
    apis = {integration.name: integration for integration in INTEGRATIONS}
    groups = []
    for name, source in SOURCES.items():
        api = apis.pop(name, None)
        fields = (api.fields if api else ()) + source.secrets
        groups.append(Group(name, source.label, fields))
    groups.extend(Group(i.name, i.label, i.fields) for i in INTEGRATIONS if i.name in apis)
    groups.extend(SETTINGS_ONLY)
    return tuple(groups)


def integration_vars() -> tuple[str, ...]:
    """Every setting that may come from the environment or the Settings page."""
    return tuple(field.key for group in settings_schema() for field in group.fields)


def loggable_vars() -> frozenset[str]:
    """Settings whose values are never credentials (not masked in logs)."""
    return frozenset(
        field.key for group in settings_schema() for field in group.fields if field.loggable
    )


def nav_entries() -> tuple[tuple[str, str], ...]:
    """(endpoint, label) of each API integration's dashboard page, for the navigation bar."""
    return tuple((i.nav_endpoint, i.nav_label) for i in INTEGRATIONS)


def template_globals() -> dict:
    """What templates read instead of listing platforms (nav, webhook URLs, labels)."""
    return {
        "integration_nav": nav_entries(),
        "webhook_platforms": tuple(SOURCES),
        "webhook_sources": SOURCES,
        "webhook_labels": join_pt([source.label for source in SOURCES.values()]),
    }


def init_app(app) -> None:
    app.jinja_env.globals.update(template_globals())


def join_pt(words: list[str] | tuple[str, ...]) -> str:
    """``["A", "B", "C"]`` → ``"A, B e C"``."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " e " + words[-1]
