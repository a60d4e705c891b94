"""Gestão Click API: vendas, clientes, produtos, situações, lojas (PLATFORMS.md §7)."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from flask import Blueprint, Response, request

from .datasets import BRT, GC_GRUPOS, GestaoClickData
from .wire import emulator, json_response, query_with

bp = Blueprint("gestaoclick", __name__, url_prefix="/gestaoclick/api")

GENERATED = ("vendas", "clientes", "produtos")
STATIC = ("situacoes_vendas", "lojas")
# Documented resources this emulator does not model: they answer an empty list.
EMPTY = (
    "fornecedores",
    "funcionarios",
    "transportadoras",
    "grupos_produtos",
    "servicos",
    "orcamentos",
    "ordens_servicos",
    "compras",
    "situacoes_orcamentos",
    "situacoes_ordens_servicos",
    "situacoes_compras",
    "notas_fiscais_produtos",
    "notas_fiscais_servicos",
    "notas_fiscais_consumidores",
    "pagamentos",
    "recebimentos",
    "formas_pagamentos",
    "contas_bancarias",
    "planos_contas",
    "centros_custos",
    "atributos_produtos",
    "atributos_vendas",
    "estados",
    "cidades",
    "tipos_contatos",
    "tipos_enderecos",
    "usuarios",
)
LIMIT_MESSAGE = "O limite de requisicoes foi atingido"


class GcError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error(status: int, message: str) -> Response:
    data: dict = {"mensagem": message}
    if status == 404:
        data = {"erro": "Not Found", "mensagem": message}
    return json_response({"code": status, "status": "error", "data": data}, status)


def fault_response(kind: str, status: int) -> Response:
    if kind == "unauthorized":
        return error(401, "Acesso negado: access-token ou secret-access-token inválido")
    if kind == "blocked":
        return error(403, "Acesso bloqueado")
    if kind == "timeout":
        return error(504, "Tempo limite excedido")
    return error(status, "Erro interno do servidor")


@bp.errorhandler(GcError)
def _gc_error(exc: GcError) -> Response:
    return error(exc.status, exc.message)


def account_of() -> str:
    """The company a request counts against: a short hash of its ``access-token``."""
    token = request.headers.get("access-token", "")
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else "anonymous"


@bp.before_request
def _guard() -> Response | None:
    emu = emulator()
    cfg = emu.config
    access = request.headers.get("access-token", "")
    secret = request.headers.get("secret-access-token", "")
    if not (
        secrets.compare_digest(access, cfg.gc_access_token)
        and secrets.compare_digest(secret, cfg.gc_secret_token)
    ):
        return error(401, "Acesso negado: access-token ou secret-access-token inválido")
    if cfg.rate_limits_enabled:
        # Every authenticated request counts against the daily budget, refused ones included.
        day = datetime.fromtimestamp(cfg.clock(), BRT).strftime("%Y-%m-%d")
        if cfg.gc_daily_limit and not emu.runtime.gc_daily_hit(day):
            return error(429, LIMIT_MESSAGE)
        if cfg.gc_rate_limit and not emu.runtime.gc_window.hit()[0]:
            return error(429, LIMIT_MESSAGE)
    return None


# ---------------------------------------------------------------------------- lists


def page_param() -> int:
    raw = request.args.get("pagina", "1").strip() or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise GcError(404, "O parâmetro pagina deve ser um número inteiro maior que zero")
    return int(raw)


def envelope(resource: str, total: int, page: int, items: list[dict], size: int) -> Response:
    last = max(1, math.ceil(total / size))
    prev_page = page - 1 if page > 1 else None
    next_page = page + 1 if page < last else None
    meta: dict = {"total_registros": total}
    if resource == "produtos":
        meta["total_paginas"] = last
        meta["total_registros_pagina"] = len(items)
    else:
        meta["total_da_pagina"] = len(items)
    meta.update(
        {
            "pagina_atual": page,
            "limite_por_pagina": size,
            "pagina_anterior": prev_page,
            "url_anterior": f"{request.path}?{query_with('pagina', prev_page)}"
            if prev_page
            else None,
            "proxima_pagina": next_page,
            "proxima_url": f"{request.path}?{query_with('pagina', next_page)}"
            if next_page
            else None,
        }
    )
    return json_response({"code": 200, "status": "success", "meta": meta, "data": items})


def arg(name: str) -> str:
    return request.args.get(name, "").strip()


def digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def venda_indices(data: GestaoClickData) -> tuple[tuple, int, int, list[Callable]]:
    start, end = arg("data_inicio") or None, arg("data_fim") or None
    try:
        lo, hi = data.venda_range(start, end)
    except ValueError:
        raise GcError(404, "Data inválida: use o formato AAAA-MM-DD") from None
    preds: list[Callable[[int], bool]] = []
    tipo = arg("tipo") or "produto"
    if tipo not in ("produto", "servico", "vendas_balcao"):
        raise GcError(404, "O parâmetro tipo deve ser produto, servico ou vendas_balcao")
    preds.append(lambda i: data.venda_tipo(i) == tipo)
    situacao = arg("situacao_id")
    if situacao:
        preds.append(lambda i: data.venda_situacao(i)[0] == situacao)
    loja = arg("loja_id")
    if loja:
        preds.append(lambda i: data.venda_loja(i)[0] == loja)
    cliente = arg("cliente_id")
    if cliente:
        ci = data.index_of_id("clientes", cliente)
        preds.append(lambda i: ci is not None and data.venda_cliente(i) == ci)
    codigo = arg("codigo")
    if codigo:
        preds.append(lambda i: str(1000 + i) == codigo)
    nome = arg("nome").lower()
    if nome:
        preds.append(
            lambda i: (c := data.venda_cliente(i)) is not None and nome in data.cliente_text(c)
        )
    key = ("gc", "vendas", lo, hi, tipo, situacao, loja, cliente, codigo, nome)
    return key, lo, hi, preds


def cliente_indices(data: GestaoClickData) -> tuple[tuple, int, int, list[Callable]]:
    preds: list[Callable[[int], bool]] = []
    tipo = arg("tipo_pessoa").upper()
    if tipo:
        preds.append(lambda i: ("PJ" if data.cliente_pj(i) else "PF") == tipo)
    situacao = arg("situacao")
    if situacao in ("0", "1"):
        preds.append(lambda i: data.cliente_ativo(i) == (situacao == "1"))
    text_filters = {k: arg(k).lower() for k in ("nome", "email", "cidade_id", "estado") if arg(k)}
    doc = digits(arg("cpf_cnpj"))
    phone = digits(arg("telefone"))
    if text_filters or doc or phone:

        def match(i: int) -> bool:
            c = data.cliente(i)
            addr = c["enderecos"][0]["endereco"]
            values = {
                "nome": c["nome"],
                "email": c["email"],
                "cidade_id": addr["cidade_id"],
                "estado": addr["estado"],
            }
            if any(v not in values[k].lower() for k, v in text_filters.items()):
                return False
            if doc and doc != digits(c["cpf"] or c["cnpj"]):
                return False
            return not phone or phone in digits(c["telefone"]) + " " + digits(c["celular"])

        preds.append(match)
    key = ("gc", "clientes", tipo, situacao, tuple(sorted(text_filters.items())), doc, phone)
    return key, 0, data.n["clientes"], preds


def produto_indices(data: GestaoClickData) -> tuple[tuple, int, int, list[Callable]]:
    preds: list[Callable[[int], bool]] = []
    nome = arg("nome").lower()
    if nome:
        preds.append(lambda j: nome in data.produto_name(j).lower())
    codigo = arg("codigo")
    if codigo:
        preds.append(lambda j: f"P{j + 1:05d}" == codigo)
    grupo = arg("grupo_id")
    if grupo:
        preds.append(lambda j: data.produto_grupo(j) == grupo)
    ativo = arg("ativo")
    if ativo in ("0", "1"):
        preds.append(lambda j: data.produto_ativo(j) == (ativo == "1"))
    key = ("gc", "produtos", nome, codigo, grupo, ativo)
    return key, 0, data.n["produtos"], preds


SELECTORS = {"vendas": venda_indices, "clientes": cliente_indices, "produtos": produto_indices}


@bp.get("/<resource>")
def list_resource(resource: str) -> Response:
    emu = emulator()
    data = emu.data.gc
    size = emu.config.gc_page_size
    page = page_param()
    if resource in GENERATED:
        key, lo, hi, preds = SELECTORS[resource](data)
        indices: Sequence[int]
        if preds:
            indices = emu.runtime.cached_indices(
                key, lambda: [i for i in range(lo, hi) if all(p(i) for p in preds)]
            )
        else:
            indices = range(lo, hi)
        build = {"vendas": data.venda, "clientes": data.cliente, "produtos": data.produto}
        chunk = indices[(page - 1) * size : page * size]
        items = [build[resource](i) for i in chunk]
        # Records the app wrote (gestaoclick_writes) come after the generated ones.
        written = gestaoclick_writes.matching(resource)
        if len(items) < size and written:
            skip = max(0, (page - 1) * size - len(indices))
            items += written[skip : skip + size - len(items)]
        return envelope(resource, len(indices) + len(written), page, items, size)
    if resource in STATIC or resource in EMPTY:
        rows = {
            "situacoes_vendas": data.situacoes,
            "lojas": data.lojas,
            "formas_pagamentos": gestaoclick_writes.formas_pagamentos,
        }.get(resource, list)()
        if resource == "grupos_produtos":
            rows = [{"id": gid, "nome": name} for gid, name in GC_GRUPOS]
        chunk = rows[(page - 1) * size : page * size]
        return envelope(resource, len(rows), page, chunk, size)
    raise GcError(404, f"Recurso {resource} não encontrado")


@bp.get("/<resource>/<ident>")
def get_resource(resource: str, ident: str) -> Response:
    data = emulator().data.gc
    if resource in GENERATED:
        i = data.index_of_id(resource, ident)
        if i is None:
            written = gestaoclick_writes.find(resource, ident)
            if written is not None:
                return json_response({"code": 200, "status": "success", "data": written})
            raise GcError(404, "Registro não encontrado")
        build = {"vendas": data.venda, "clientes": data.cliente, "produtos": data.produto}
        return json_response({"code": 200, "status": "success", "data": build[resource](i)})
    if resource in STATIC:
        rows = {"situacoes_vendas": data.situacoes, "lojas": data.lojas}[resource]()
        row = next((r for r in rows if r["id"] == ident), None)
        if row is not None:
            return json_response({"code": 200, "status": "success", "data": row})
    if resource in STATIC or resource in EMPTY:
        raise GcError(404, "Registro não encontrado")
    raise GcError(404, f"Recurso {resource} não encontrado")


from . import gestaoclick_writes  # noqa: E402  (POST clientes/vendas; reads them here)
