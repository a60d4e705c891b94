"""/ajuda/<guia>: step-by-step set-up of each platform, in plain pt-BR, with this install's
real addresses (the ones /webhooks shows). One data-driven template; the menu names come from
/work/shared/PLATFORMS*.md, and the unverified ones say so."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, render_template

from app.inbox import bp

MAY_VARY = "o nome do menu pode variar"


@dataclass(frozen=True)
class Guide:
    slug: str
    title: str
    intro: str
    settings: str  # the /configuracoes group anchor
    webhook_path: str | None  # appended to the base address, shown to copy
    steps: tuple[str, ...]
    api_steps: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    page: str | None = None  # the integration's own page (endpoint)
    technical: tuple[str, ...] = field(default=())


GUIDES: dict[str, Guide] = {
    g.slug: g
    for g in (
        Guide(
            "hotmart",
            "Hotmart",
            "A Hotmart avisa o painel a cada venda pelo webhook (também chamado de postback). "
            "As credenciais da API servem para buscar o histórico de vendas e os produtos.",
            "hotmart",
            "/webhook/hotmart",
            (
                "Entre na Hotmart e abra Ferramentas → Webhook (" + MAY_VARY + ").",
                "Crie uma nova configuração, cole o endereço acima no campo da URL e escolha a "
                "versão 2.0.0 (só ela traz os dados completos do comprador e os produtos "
                "adicionais).",
                "Marque os produtos e os eventos: compra aprovada, compra completa, reembolso, "
                "chargeback, cancelamento, boleto ou PIX gerado, carrinho abandonado e "
                "cancelamento de assinatura.",
                "Ainda na ferramenta de webhook, abra Autenticação e copie o hottok.",
                "Aqui no painel, em Configurações → Hotmart, cole o hottok no campo “Hottok do "
                "webhook” e salve.",
                "Volte a Webhooks e use “Enviar teste” (ou o teste da própria Hotmart) para "
                "conferir que a entrega chega como “Processado”.",
            ),
            (
                "Na Hotmart, abra Ferramentas → Credenciais Developers (" + MAY_VARY + ") e crie "
                "uma credencial. Ela é de produção ou de teste (sandbox), e isso não muda depois.",
                "Copie o Client ID e o Client Secret (o Basic é opcional) para Configurações → "
                "Hotmart e escolha o mesmo Ambiente da credencial.",
                "Na página Hotmart, clique em “Testar conexão”.",
            ),
            (
                "A Hotmart não assina as entregas: só o hottok prova que vieram dela, por isso o "
                "endereço precisa ser HTTPS.",
                "Um endereço que falha muitas vezes é desativado pela Hotmart; depois de corrigir, "
                "ative a configuração de novo por lá.",
            ),
            page="dashboard.hotmart",
        ),
        Guide(
            "kiwify",
            "Kiwify",
            "A Kiwify avisa o painel a cada venda pelo webhook e assina cada entrega com o token "
            "que você define.",
            "kiwify",
            "/webhook/kiwify",
            (
                "No painel da Kiwify, abra Apps → Webhooks (" + MAY_VARY + ") e crie um webhook.",
                "Cole o endereço acima no campo da URL, sem acrescentar nada: a Kiwify junta a "
                "assinatura ao endereço sozinha.",
                "Escolha os produtos e os eventos: compra aprovada, reembolso, chargeback, compra "
                "recusada, boleto ou PIX gerado, carrinho abandonado e os de assinatura.",
                "Copie o token que a Kiwify mostra (ou digite um longo e aleatório) e salve o "
                "webhook por lá.",
                "Aqui no painel, em Configurações → Kiwify, cole o mesmo token em “Token do "
                "webhook” e salve.",
                "Volte a Webhooks e use “Enviar teste” para conferir.",
            ),
            notes=(
                "Sem o token, toda entrega é recusada: os dois lados precisam ter exatamente o "
                "mesmo valor.",
            ),
        ),
        Guide(
            "kirvano",
            "Kirvano",
            "A Kirvano avisa o painel a cada venda pelo webhook, com um token para provar que a "
            "entrega veio dela.",
            "kirvano",
            "/webhook/kirvano",
            (
                "Aqui no painel, em Configurações → Kirvano, clique em “Gerar token para a "
                "Kirvano” e copie o token mostrado (ele aparece uma vez só).",
                "Na Kirvano, abra Integrações → Webhooks e crie um webhook.",
                "Cole o endereço acima no campo da URL e o token no campo “Token”.",
                "Marque os eventos de venda: aprovada, reembolso, chargeback, recusada, PIX ou "
                "boleto gerado e os de assinatura.",
                "Salve e use “Enviar teste” em Webhooks para conferir.",
            ),
            notes=(
                "A Kirvano não tem ambiente de teste: para uma prova real, faça uma compra de "
                "valor baixo por PIX e, se preciso, use “Reenviar webhook” no painel da Kirvano.",
            ),
        ),
        Guide(
            "eduzz",
            "Eduzz",
            "A Eduzz avisa o painel a cada venda pelo webhook e assina cada entrega com uma "
            "chave secreta.",
            "eduzz",
            "/webhook/eduzz",
            (
                "Na Eduzz, abra o Developer Hub → Webhooks (" + MAY_VARY + ").",
                "Crie uma chave secreta e copie-a.",
                "Crie uma configuração de webhook, cole o endereço acima, escolha a chave que "
                "assina as mensagens e marque os eventos de fatura (paga, cancelada, reembolsada, "
                "aberta, aguardando pagamento) e de contrato.",
                "Aqui no painel, em Configurações → Eduzz, cole a chave em “Chave secreta do "
                "webhook” e salve.",
                "Na Eduzz, ative a configuração: ela envia um evento de teste e só ativa se este "
                "endereço responder bem. O botão “Verificar URL” faz a mesma prova.",
            ),
            notes=(
                "No formato antigo da Eduzz (webhook do Órbita, marcado como obsoleto), use o "
                "token “origin” da sua conta no mesmo campo.",
                "Quando o endereço falha, a Eduzz tenta de novo algumas vezes e depois guarda as "
                "entregas por até 7 dias.",
            ),
        ),
        Guide(
            "kommo",
            "Kommo",
            "O painel lê negócios e contatos do Kommo com um token de longa duração e recebe as "
            "mudanças na hora por um webhook que ele mesmo registra.",
            "kommo",
            None,
            (
                "Entre no Kommo como administrador e abra Configurações → Integrações "
                "(" + MAY_VARY + ").",
                "Crie uma integração privada e abra a aba “Chaves e escopos”.",
                "Gere um token de longa duração e escolha a validade (de 1 dia a 5 anos). Copie "
                "na hora: o Kommo mostra o token uma vez só.",
                "Aqui no painel, em Configurações → Kommo, cole o token em “Token de longa "
                "duração (JWT)” e informe a URL da conta (por exemplo "
                "https://suaempresa.kommo.com). Salve.",
                "Na página Kommo, clique em “Testar conexão”.",
                "Ainda na página Kommo, clique em “Registrar webhook no Kommo”: o painel gera o "
                "endereço secreto acima e pede ao Kommo para avisar as mudanças de negócios e "
                "contatos.",
            ),
            notes=(
                "O token age com os direitos do administrador que o gerou. Quando vencer, gere "
                "outro e cole no mesmo campo.",
                "Registrar webhooks pela API exige o plano Avançado (ou superior) do Kommo, e o "
                "Kommo confere se o endereço existe na internet antes de aceitar.",
                "O Kommo desativa um webhook depois de muitas respostas com erro; registre de "
                "novo para reativar.",
            ),
            page="dashboard.kommo",
        ),
        Guide(
            "gestao-click",
            "Gestão Click",
            "O painel lê clientes e vendas do Gestão Click (e pode enviar as vendas para lá) com "
            "dois tokens da API.",
            "gestao_click",
            None,
            (
                "No Gestão Click, confira se o complemento de API está ativo na sua assinatura.",
                "Abra Configurações → Aplicativos → API (" + MAY_VARY + ").",
                "Copie o Access token e o Secret access token.",
                "Aqui no painel, em Configurações → Gestão Click, cole cada um no campo de mesmo "
                "nome e salve. Deixe a URL da API em branco, a menos que o suporte indique outra.",
                "Na página Gestão Click, clique em “Testar conexão”.",
            ),
            notes=(
                "O Gestão Click aceita até 3 pedidos por segundo e 30.000 por dia: o painel "
                "respeita esse limite sozinho.",
            ),
            page="dashboard.gestao_click",
        ),
        Guide(
            "email",
            "E-mail (SMTP)",
            "É por este e-mail que os compradores recebem o link de ativação. Sem ele, os "
            "e-mails esperam na fila.",
            "email",
            None,
            (
                "Pegue com o seu provedor de e-mail os dados de envio (SMTP): servidor, porta, "
                "usuário e senha.",
                "Em Configurações → E-mail (SMTP), informe o servidor (por exemplo "
                "smtp.gmail.com) e a porta: 587 com STARTTLS “Sim” (o mais comum) ou 465 com "
                "SSL direto “Sim”.",
                "Informe o usuário (em geral o próprio e-mail) e a senha. No Gmail e no Outlook, "
                "use uma “senha de app”, criada nas configurações de segurança da conta "
                "(" + MAY_VARY + "); a senha normal é recusada.",
                "Informe o remetente como os compradores vão ver, por exemplo "
                "Minha Loja <contato@minhaloja.com.br>, e salve.",
                "Clique em “Enviar e-mail de teste” e confira a sua caixa de entrada (e o spam).",
            ),
            notes=(
                "Use um remetente do mesmo domínio da conta de envio: outros endereços costumam "
                "cair no spam ou ser recusados.",
            ),
        ),
        Guide(
            "telegram",
            "Telegram",
            "O bot do Telegram manda a cada comprador um convite pessoal para o grupo e remove "
            "quem teve reembolso, chargeback ou cancelamento. Também pode avisar você de cada "
            "venda.",
            "telegram",
            "/webhook/telegram",
            (
                "No Telegram, abra uma conversa com @BotFather, envie /newbot e siga as "
                "perguntas (nome e um usuário que termine em “bot”).",
                "Copie o token que o @BotFather responde e cole em Configurações → Telegram → "
                "“Token do bot”.",
                "Use um supergrupo ou um canal para os compradores e adicione o bot como "
                "administrador, com as permissões de convidar usuários (por link) e de banir "
                "usuários.",
                "Descubra o id do grupo: ele começa com -100. Uma forma é abrir o grupo no "
                "Telegram Web e ler o número no fim do endereço (o jeito pode variar).",
                "Cole o id em “Grupo ou canal dos compradores (id)” e, se quiser avisos de "
                "vendas, o id do seu chat em “Chat que recebe os avisos de vendas (id)”. Salve.",
                "Quem instala o painel registra o webhook do bot no endereço acima, para o "
                "painel saber quem entrou pelo convite.",
            ),
            notes=("Grupos comuns não servem: as remoções só funcionam em supergrupos e canais.",),
            page="telegram_page.index",
            technical=("Registro do webhook no servidor: flask telegram set-webhook",),
        ),
    )
}


def slug_of(platform: str) -> str:
    """The guide of a platform or settings group (``gestao_click`` → ``gestao-click``)."""
    return platform.replace("_", "-")


@bp.app_template_global()
def guide_slug(platform: str) -> str | None:
    """The slug of ``platform``'s guide, or ``None`` when it has none (no link is shown: a
    platform registered without a guide would otherwise link to a 404)."""
    slug = slug_of(platform)
    return slug if slug in GUIDES else None


def other_guides(platforms) -> tuple[Guide, ...]:
    """The guides of everything but ``platforms`` (the webhook cards link their own)."""
    return tuple(g for g in GUIDES.values() if g.settings not in platforms)


@bp.get("/ajuda")
def help_index():
    return render_template("help/index.html", guides=GUIDES.values())


@bp.get("/ajuda/<slug>")
def help_page(slug: str):
    from app.inbox.routes import current_webhook_address

    guide = GUIDES.get(slug)
    if guide is None:
        abort(404)
    address = current_webhook_address()
    url = None
    if guide.webhook_path:
        url = address["base"] + guide.webhook_path
    elif guide.slug == "kommo":
        url = address["base"] + "/webhook/kommo/<token>"
    return render_template(
        "help/page.html", guide=guide, url=url, address=address, guides=GUIDES.values()
    )
