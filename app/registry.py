"""The integration registry: inbound webhook platforms and outbound API integrations.

Webhook platforms declare a ``WebhookSource`` in their ``app/sources/<name>.py`` (collected by
``app.sources.registry``); the three API integrations are declared here as data: settings
schema with secret fields, nav entry, synced resources and their syncers, page (template,
tabs, "Testar conexão" endpoint), API prefix and rate budget, plus the module whose ``HOOKS``
supply the client factory (``app.services.integration`` runs the shared parts on them).
Config (``INTEGRATION_VARS``), the Settings page (``settings_schema``), the navigation bar,
the syncer registry, the integration pages and log masking read this module; nothing else
lists platforms. Pure: no Flask request objects, no database, nothing imported until used.

Size: declarations only (one table per integration and settings group, the rate budgets and
the helpers that read them, about 580 lines); split across modules they would scatter what a
platform is, which is what this module ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.schema import Field, Group
from app.sources.registry import SOURCES


@dataclass(frozen=True)
class Resource:
    """One synced resource of an API integration (``SyncRun.resource``)."""

    name: str
    label: str  # the "Sincronizar" row and the history
    interval: int  # seconds between scheduled runs (editable in /configuracoes)
    syncer: str  # ``module:function`` — ``(ctx, full) -> None``, resolved on registration


@dataclass(frozen=True)
class RateBudget:
    """The account's shared request budget (``app.clients.budget``, one per remote account):
    the one place a platform's limit and our pace are written (``app.clients.budget.BUDGETS``
    is derived from ``RATE_BUDGETS``)."""

    name: str  # the budget key prefix the client spends (``apply_budget(name, account, …)``)
    per_second: float  # default pace, under the platform's limit
    ceiling: float  # the platform's documented limit, requests per second (a pace is clamped)
    setting: str  # the tunable that overrides ``per_second`` (config.TUNABLES); "" for none
    limit: str  # the platform's documented limit, for people


@dataclass(frozen=True)
class Page:
    """The integration's dashboard page: the shared skeleton
    (``templates/integrations/page.html``) with the blocks of ``template``."""

    template: str  # extends integrations/page.html
    endpoint: str  # the page's view (``dashboard.hotmart``)
    tabs: tuple[tuple[str, str, str], ...]  # (``?aba=`` key, label, counts key)
    test_endpoint: str  # "Testar conexão" (always 200 with a ``ConnectionResult``)
    result_id: str  # the element its answer goes into (static/js/app.js, the e2e tests)
    test_method: str = "get"  # the hx- verb of that endpoint
    test_needs_credentials: bool = False  # the button is disabled until they are saved
    missing_label: str = "credenciais não configuradas"  # the status badge without them


@dataclass(frozen=True)
class ApiTest:
    """``{method} {api_prefix}{path}``: "Testar conexão" over JSON, always 200 with the
    ``ConnectionResult`` (plus the service's ``Hooks.connection_extras``)."""

    path: str
    endpoint: str  # ``api.<endpoint>``
    method: str = "get"


@dataclass(frozen=True)
class ApiList:
    """``GET {api_prefix}{path}``: one page of a local table in the paginated envelope
    (``app/api/paging.py``). The integration is never called per page view."""

    path: str
    endpoint: str
    query: str  # ``module:function`` → the statement, given ``args`` in order
    noun: tuple[str, str]  # ("contato encontrado", "contatos encontrados")
    args: tuple[tuple[str, str], ...] = (("query", ""),)  # query-string (name, default)
    serialize: str = ""  # ``module:function`` rows → list; default: each row's ``to_dict()``
    max_limit: int = 200


@dataclass(frozen=True)
class ApiSync:
    """``POST {api_prefix}{path}``: start (or join) runs → ``202`` with every run id
    (``app.api.routes.start_syncs_response``); ``{"full": true}`` for a complete run."""

    path: str
    endpoint: str
    resources: tuple[str, ...]
    primary: str  # whose ``run_id``/``status`` the answer leads with
    choosable: bool = False  # ``{"resource": …}`` or ``?resource=`` starts just that one


@dataclass(frozen=True)
class Integration:
    """An outbound API integration, declared as data.

    ``service`` names the module with its behaviour (``HOOKS``: client factory, connection
    test details, what "configured" means); ``app.services.integration`` runs the shared
    parts (credentials, build_client, test_connection, overview, status, syncers) on this
    declaration, so each integration's module keeps only what is really its own.
    Pure: nothing here is imported until used."""

    name: str  # settings group and SyncRun source
    label: str
    fields: tuple[Field, ...]
    nav_endpoint: str  # the dashboard page
    nav_label: str
    service: str = ""  # module holding ``HOOKS`` (imported lazily)
    resources: tuple[Resource, ...] = ()
    api_prefix: str = ""  # the JSON routes of SPEC §5 (``app/api``)
    sync_url: str = "/api/sync/{source}/{resource}"  # what the page's "Sincronizar" POSTs
    timeouts: tuple[str, str] = ("", "")  # (connect, read) tunables, seconds
    rate_budget: RateBudget | None = None
    page: Page | None = None
    # The JSON routes under ``api_prefix`` that follow the shared shapes (``app/api/declared.py``
    # registers them); the seeds' irregular ones stay hand-written in ``app/api/<name>.py``.
    api_test: ApiTest | None = None
    api_lists: tuple[ApiList, ...] = ()
    api_syncs: tuple[ApiSync, ...] = ()
    # Its account webhooks (CRM changes, not sales) land in the /webhooks inbox: filterable,
    # shown as form lines, no test card.
    inbox_webhooks: bool = False

    @property
    def required(self) -> tuple[str, ...]:
        """Keys that must be set for the integration to count as configured."""
        return tuple(field.key for field in self.fields if field.required)

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name), None)

    def sync_url_for(self, resource: str) -> str:
        return self.sync_url.format(source=self.name, resource=resource, prefix=self.api_prefix)


def _hour(hours: int) -> int:
    return hours * 3600


# Sale → Kommo (SPEC §9): the switch and where the leads go; also set on /automacoes.
def _push_switch(key: str, target: str, makes: str) -> Field:
    """The "Enviar vendas ao …" switch of a sale push (SPEC §9)."""
    return Field(
        key,
        f"Enviar vendas ao {target}",
        choices=("true", "false"),
        labels=("Sim", "Não"),
        help=f"Cada venda aprovada vira {makes} no {target} (veja Automações).",
        default="false",
    )


KOMMO_PUSH_FIELDS: tuple[Field, ...] = (
    _push_switch("KOMMO_PUSH_SALES", "Kommo", "um contato e um negócio"),
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

# Sale → Gestão Click (SPEC §9): the switch, the situação and the loja; also set on /automacoes.
GESTAOCLICK_PUSH_FIELDS: tuple[Field, ...] = (
    _push_switch("GESTAOCLICK_PUSH_SALES", "Gestão Click", "um cliente e uma venda"),
    Field(
        "GESTAOCLICK_SALE_SITUACAO_ID",
        "Situação das vendas enviadas (id)",
        kind="id",
        help="Vazio: a situação padrão da conta (ou a primeira).",
    ),
    Field(
        "GESTAOCLICK_LOJA_ID", "Loja das vendas enviadas (id)", kind="id", help="Vazio: a primeira."
    ),
    Field(
        "GESTAOCLICK_REFUND_SITUACAO_ID",
        "Situação do reembolso/cancelamento (id)",
        kind="id",
        help="Reembolsos, chargebacks e cancelamentos mudam a venda para esta situação. "
        "Vazio: a venda não é alterada.",
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
            Field(
                "HOTMART_ENV",
                "Ambiente",
                choices=("sandbox", "production"),
                labels=("Sandbox (testes)", "Produção"),
                default="sandbox",
            ),
            Field("HOTMART_API_URL", "URL da API (opcional)", kind="url"),
            Field("HOTMART_AUTH_URL", "URL de autenticação (opcional)", kind="url"),
        ),
        "dashboard.hotmart",
        "Hotmart",
        service="app.services.hotmart",
        resources=(
            Resource("products", "Produtos", _hour(6), "app.services.hotmart_sync:sync_products"),
            Resource("sales", "Vendas", _hour(1), "app.services.hotmart_sync:sync_sales"),
            Resource(
                "subscriptions",
                "Assinaturas",
                _hour(6),
                "app.services.hotmart_sync:sync_subscriptions",
            ),
        ),
        api_prefix="/api/hotmart",
        sync_url="{prefix}/{resource}",
        timeouts=("HOTMART_CONNECT_TIMEOUT", "HOTMART_TIMEOUT"),
        rate_budget=RateBudget(
            "hotmart", 8.0, 500 / 60, "HOTMART_THROTTLE_PER_SECOND", "500 por minuto"
        ),
        page=Page(
            "hotmart/index.html",
            "dashboard.hotmart",
            (
                ("produtos", "Produtos", "products"),
                ("vendas", "Vendas", "sales"),
                ("assinaturas", "Assinaturas", "subscriptions"),
            ),
            "api.hotmart_test_connection",
            "hotmart-test-result",
            test_method="put",
        ),
        api_test=ApiTest("/products", "hotmart_test_connection", method="put"),
        api_lists=(
            ApiList(
                "/products",
                "hotmart_list_products",
                "app.services.hotmart_queries:products_query",
                ("produto encontrado", "produtos encontrados"),
                args=(("query", ""), ("sort", "name"), ("dir", "asc")),
            ),
        ),
        api_syncs=tuple(
            ApiSync(f"/{name}", f"hotmart_sync_{name}", (name,), name)
            for name in ("products", "sales", "subscriptions")
        ),
    ),
    Integration(
        "kommo",
        "Kommo",
        (
            Field("KOMMO_JWT_TOKEN", "Token de longa duração (JWT)", secret=True, required=True),
            Field("KOMMO_API_URL", "URL da conta", help="Ex.: https://suaempresa.kommo.com"),
            Field("KOMMO_TIMEOUT", "Tempo limite (s)", kind="number"),
            Field(
                "KOMMO_WEBHOOK_SECRET",
                "Token do webhook (entrada)",
                secret=True,
                help="Vai no fim da URL /webhook/kommo/<token>. O botão “Registrar webhook no "
                "Kommo” da página Kommo gera um e cadastra a URL no Kommo.",
            ),
            *KOMMO_PUSH_FIELDS,
        ),
        "dashboard.kommo",
        "Kommo",
        service="app.services.kommo",
        resources=(
            Resource("contacts", "Contatos", 900, "app.services.kommo_sync:sync_contacts"),
            Resource("leads", "Negócios", 900, "app.services.kommo_sync:sync_leads"),
        ),
        api_prefix="/api/kommo",
        inbox_webhooks=True,
        timeouts=("KOMMO_CONNECT_TIMEOUT", "KOMMO_TIMEOUT"),
        rate_budget=RateBudget("kommo", 5.0, 7.0, "KOMMO_THROTTLE_PER_SECOND", "7 por segundo"),
        page=Page(
            "kommo/index.html",
            "dashboard.kommo",
            (("contatos", "Contatos", "contacts"), ("negocios", "Negócios", "leads")),
            "api.kommo_test_connection",
            "kommo-test-result",
            missing_label="token não configurado",
        ),
        api_test=ApiTest("/test-connection", "kommo_test_connection"),
        api_lists=(
            ApiList(
                "/contacts",
                "kommo_contacts",
                "app.services.kommo_queries:contacts_query",
                ("contato encontrado", "contatos encontrados"),
                max_limit=250,
            ),
            ApiList(
                "/deals",
                "kommo_deals",
                "app.services.kommo_queries:leads_query",
                ("negócio encontrado", "negócios encontrados"),
                args=(("query", ""), ("status", "")),
                serialize="app.services.kommo_queries:deals_json",
                max_limit=250,
            ),
        ),
        # ``run_id`` is the leads run (the one the deals tab waits for).
        api_syncs=(ApiSync("/sync", "kommo_sync", ("contacts", "leads"), "leads"),),
    ),
    Integration(
        "gestao_click",
        "Gestão Click",
        (
            Field("GESTAOCLICK_ACCESS_TOKEN", "Access token", secret=True, required=True),
            Field("GESTAOCLICK_SECRET_TOKEN", "Secret access token", secret=True, required=True),
            Field("GESTAOCLICK_API_URL", "URL da API", kind="url"),
            Field(
                "GESTAOCLICK_WEB_URL",
                "Endereço do painel (opcional)",
                kind="url",
                help="Para os links das vendas em Automações. Vazio: o endereço da API sem "
                "“api.” (https://gestaoclick.com).",
            ),
            *GESTAOCLICK_PUSH_FIELDS,
        ),
        "dashboard.gestao_click",
        "Gestão Click",
        service="app.services.gestao_click",
        resources=(
            # Long intervals stand in for "off-peak": the scheduler runs by interval.
            Resource("sales", "Vendas", _hour(6), "app.services.gestao_click_sync:sync_sales"),
            Resource(
                "clients", "Clientes", _hour(24), "app.services.gestao_click_sync:sync_clients"
            ),
            Resource(
                "products", "Produtos", _hour(24), "app.services.gestao_click_sync:sync_products"
            ),
        ),
        api_prefix="/api/gestao-click",
        timeouts=("GESTAOCLICK_CONNECT_TIMEOUT", "GESTAOCLICK_TIMEOUT"),
        rate_budget=RateBudget(
            "gestao_click",
            2.0,
            3.0,
            "GESTAOCLICK_THROTTLE_PER_SECOND",
            "3 por segundo e 30.000 por dia",
        ),
        page=Page(
            "gestao_click/index.html",
            "dashboard.gestao_click",
            (
                ("vendas", "Vendas", "sales"),
                ("clientes", "Clientes", "clients"),
                ("produtos", "Produtos", "products"),
            ),
            "api.gestao_click_test_connection",
            "gc-test-result",
            test_needs_credentials=True,
            missing_label="tokens não configurados",
        ),
        api_test=ApiTest("/test-connection", "gestao_click_test_connection"),
        api_lists=tuple(
            ApiList(
                f"/{name}",
                f"gestao_click_{name}",
                f"app.services.gestao_click_queries:{name}_query",
                noun,
                args=(("query", ""), ("tipo", "")) if name == "sales" else (("query", ""),),
                max_limit=100,
            )
            for name, noun in (
                ("sales", ("venda encontrada", "vendas encontradas")),
                ("clients", ("cliente encontrado", "clientes encontrados")),
                ("products", ("produto encontrado", "produtos encontrados")),
            )
        ),
        # Seed 003's "auto-import" is the same start under its own name.
        api_syncs=tuple(
            ApiSync(path, endpoint, ("sales", "clients", "products"), "sales", choosable=True)
            for path, endpoint in (
                ("/sync", "gestao_click_sync"),
                ("/auto-import", "gestao_click_auto_import"),
            )
        ),
    ),
)
BY_NAME = {integration.name: integration for integration in INTEGRATIONS}

# The Telegram bot (a settings group, not an API integration page): ~30 requests/s per bot,
# undocumented and dynamic (PLATFORMS-WRITES §4.6); its client paces itself at 20/s.
TELEGRAM_BUDGET = RateBudget("telegram", 20.0, 30.0, "", "cerca de 30 por segundo por bot")

# Every shared rate budget by name (``app.clients.budget`` reads its ceilings and paces here).
RATE_BUDGETS: dict[str, RateBudget] = {
    budget.name: budget
    for budget in (*(i.rate_budget for i in INTEGRATIONS if i.rate_budget), TELEGRAM_BUDGET)
}


def integration(name: str) -> Integration:
    """The declared API integration ``name`` (KeyError for an unknown one)."""
    return BY_NAME[name]


def _email_saved() -> None:
    from app import events

    events.mark_outbox_queued()  # e-mails waiting for a working SMTP go out right after


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
                default="false",
            ),
            Field(
                "SMTP_USE_SSL",
                "SSL direto",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="“Sim” para a porta 465.",
                default="false",
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
        on_change=_email_saved,
    ),
    # Telegram (SPEC §10): the bot, its groups and the operator's notifications.
    Group(
        "telegram",
        "Telegram",
        (
            Field(
                "TELEGRAM_BOT_TOKEN",
                "Token do bot",
                secret=True,
                required=True,
                help="Crie o bot com o @BotFather. Ele precisa ser administrador do grupo, "
                "com permissão de convidar e de banir usuários.",
            ),
            Field(
                "TELEGRAM_CHAT_ID",
                "Grupo ou canal dos compradores (id)",
                kind="chats",
                public=True,
                help="No formato -100…; pode listar vários separados por vírgula.",
            ),
            Field(
                "TELEGRAM_NOTIFY_CHAT_ID",
                "Chat que recebe os avisos de vendas (id)",
                kind="chats",
                public=True,
                help="Vendas aprovadas, reembolsos e falhas. Vazio: nenhum aviso.",
            ),
            Field(
                "TELEGRAM_NOTIFY_SALES",
                "Avisar cada venda aprovada",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="Comprador, produto e valor.",
                default="true",
            ),
            Field(
                "TELEGRAM_NOTIFY_REVOKED",
                "Avisar reembolsos, chargebacks e cancelamentos",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                default="true",
            ),
            Field(
                "TELEGRAM_NOTIFY_FAILURES",
                "Avisar falhas que precisam de você",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="Webhook com falha, e-mail não entregue, automação que falhou.",
                default="true",
            ),
            Field(
                "TELEGRAM_DAILY_SUMMARY",
                "Resumo diário",
                choices=YES_NO,
                labels=YES_NO_LABELS,
                help="Logo depois da meia-noite (horário de Brasília), um aviso com as vendas, "
                "o valor, os reembolsos e as falhas do dia que terminou.",
                default="false",
            ),
            Field(
                "TELEGRAM_WEBHOOK_SECRET",
                "Segredo do webhook",
                secret=True,
                help="Preenchido automaticamente. Deixe em branco.",
            ),
            Field("TELEGRAM_API_URL", "URL da API (opcional)", kind="url"),
        ),
        inbox_webhooks=True,  # the bot's updates (joins, leaves)
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


def inbox_webhook_labels() -> dict[str, str]:
    """name → label of the platforms other than the sales sources whose webhooks share the
    /webhooks inbox (Kommo's account webhooks, the Telegram bot's updates)."""
    labels = {i.name: i.label for i in INTEGRATIONS if i.inbox_webhooks}
    labels.update((g.platform, g.title) for g in SETTINGS_ONLY if g.inbox_webhooks)
    return labels


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
