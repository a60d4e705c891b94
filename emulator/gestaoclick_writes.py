"""Gestão Click writes: ``POST /clientes``, ``POST /vendas`` and ``PUT /vendas/{id}``
(PLATFORMS-WRITES.md §3).

Bodies are the real JSON objects (nested items wrapped: ``produtos: [{"produto": {…}}]``,
``pagamentos: [{"pagamento": {…}}]``); success is ``{"code": 200, "status": "success", "data":
{…, "id": "…"}}``; validation errors are the platform's **404** ``{"code": 404, "status":
"error", "data": {"erro": "Not Found", "mensagem": "…"}}`` (e.g. "O valor do pedido não pode
ser diferente do valor das parcelas"). Same tokens, rate limit and daily budget as the reads
(``gestaoclick._guard``). The server does not deduplicate clientes by CPF (as far as known).

What is written stays readable through the read API: ``GET /clientes?cpf_cnpj=`` (digits or
formatted), ``?email=``, ``GET /vendas?cliente_id=``, ``GET /clientes/{id}``, ``/vendas/{id}``
(``gestaoclick.list_resource`` / ``get_resource`` call ``matching`` / ``find`` here).
``GET /formas_pagamentos`` lists the payment methods the generated vendas use.

Size: the two write endpoints with the platform's validation rules (a little over 400 lines).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Flask, Response, request

from . import gestaoclick
from .datasets import (
    BRT,
    CLIENTE_ID_BASE,
    GC_FORMAS,
    PRODUTO_ID_BASE,
    VENDA_ID_BASE,
)
from .wire import emulator, json_response

bp = Blueprint("gestaoclick_writes", __name__, url_prefix="/gestaoclick/api")
bp.before_request(gestaoclick._guard)
bp.register_error_handler(gestaoclick.GcError, gestaoclick._gc_error)

EXTENSION = "emulator_gestaoclick_writes"
WRITTEN_ID_OFFSET = 5_000_000  # written ids never collide with generated ones
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CENT = Decimal("0.01")


@dataclass
class Written:
    lock: threading.Lock = field(default_factory=threading.Lock)
    clientes: list[dict] = field(default_factory=list)
    vendas: list[dict] = field(default_factory=list)


def store(app: Flask | None = None) -> Written:
    from flask import current_app

    return (app or current_app).extensions.setdefault(EXTENSION, Written())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def invalid(message: str) -> gestaoclick.GcError:
    return gestaoclick.GcError(404, message)


def formas_pagamentos() -> list[dict]:
    return [{"id": fid, "nome": name} for fid, name in GC_FORMAS]


def _now() -> str:
    return datetime.fromtimestamp(emulator().config.clock(), BRT).strftime("%Y-%m-%d %H:%M:%S")


def _text(body: dict, key: str, limit: int = 255) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise invalid(f"O campo {key} é inválido")
    return str(value).strip()[:limit] or None


def _money(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"O campo {what} deve ser um valor numérico")
    try:
        amount = Decimal(str(value).replace(",", ".")).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        raise invalid(f"O campo {what} deve ser um valor numérico") from None
    if amount < 0:
        raise invalid(f"O campo {what} não pode ser negativo")
    return amount


def _object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("Corpo da requisição inválido: envie um objeto JSON")
    return body


# ---------------------------------------------------------------------------- clientes


@bp.post("/clientes")
def create_cliente() -> Response:
    body = _object()
    tipo = _text(body, "tipo_pessoa")
    if tipo not in ("PF", "PJ", "ES"):
        raise invalid("O campo tipo pessoa é obrigatório e deve ser PF, PJ ou ES")
    nome = _text(body, "nome")
    if not nome:
        raise invalid("O campo nome é obrigatório")
    cpf, cnpj = _text(body, "cpf", 20), _text(body, "cnpj", 20)
    if cpf and len(gestaoclick.digits(cpf)) != 11:
        raise invalid("CPF inválido")
    if cnpj and len(gestaoclick.digits(cnpj)) != 14:
        raise invalid("CNPJ inválido")
    email = _text(body, "email", 254)
    if email and not EMAIL.match(email):
        raise invalid("E-mail inválido")
    now = _now()
    record = {
        "tipo_pessoa": tipo,
        "nome": nome,
        "razao_social": _text(body, "razao_social"),
        "cnpj": cnpj,
        "cpf": cpf,
        "rg": _text(body, "rg", 30),
        "inscricao_estadual": _text(body, "inscricao_estadual", 30),
        "inscricao_municipal": _text(body, "inscricao_municipal", 30),
        "data_nascimento": _text(body, "data_nascimento", 10),
        "telefone": _text(body, "telefone", 30),
        "celular": _text(body, "celular", 30),
        "fax": _text(body, "fax", 30),
        "email": email,
        "ativo": "0" if str(body.get("ativo", "1")) == "0" else "1",
        "vendedor_id": _text(body, "vendedor_id", 20),
        "nome_vendedor": None,
        "cadastrado_em": now,
        "modificado_em": now,
        "contatos": body.get("contatos") if isinstance(body.get("contatos"), list) else [],
        "enderecos": body.get("enderecos") if isinstance(body.get("enderecos"), list) else [],
    }
    st = store()
    with st.lock:
        record = {"id": str(CLIENTE_ID_BASE + WRITTEN_ID_OFFSET + len(st.clientes)), **record}
        st.clientes.append(record)
    return json_response({"code": 200, "status": "success", "data": record})


def _cliente_exists(ident: str) -> dict | None:
    data = emulator().data.gc
    i = data.index_of_id("clientes", ident)
    if i is not None:
        return data.cliente(i)
    return find("clientes", ident)


# ---------------------------------------------------------------------------- vendas


def _items(body: dict, key: str, inner: str) -> list[dict]:
    raw = body.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid(f"O campo {key} deve ser uma lista")
    items = []
    for n, wrapped in enumerate(raw, 1):
        item = wrapped.get(inner) if isinstance(wrapped, dict) else None
        if not isinstance(item, dict):
            raise invalid(f'Item {n} de {key} inválido: use [{{"{inner}": {{...}}}}]')
        items.append(item)
    return items


def _produto_lines(body: dict) -> tuple[list[dict], Decimal]:
    data = emulator().data.gc
    lines, total = [], Decimal(0)
    for n, item in enumerate(_items(body, "produtos", "produto"), 1):
        ident = str(item.get("produto_id") or "").strip()
        j = data.index_of_id("produtos", ident)
        if j is None:
            raise invalid(f"Produto {ident or '(vazio)'} não encontrado (item {n})")
        qty = _money(item.get("quantidade", 1), "quantidade")
        if qty <= 0:
            raise invalid(f"A quantidade do item {n} deve ser maior que zero")
        unit = _money(item.get("valor_venda", data.produto(j)["valor_venda"]), "valor_venda")
        discount = _money(item.get("desconto_valor", 0) or 0, "desconto_valor")
        line = (qty * unit - discount).quantize(CENT)
        total += line
        lines.append(
            {
                "produto": {
                    "produto_id": PRODUTO_ID_BASE + j,
                    "variacao_id": item.get("variacao_id"),
                    "nome_produto": data.produto_name(j),
                    "detalhes": _text(item, "detalhes") or "",
                    "quantidade": str(qty),
                    "valor_venda": str(unit),
                    "tipo_desconto": _text(item, "tipo_desconto", 2) or "R$",
                    "desconto_valor": str(discount),
                    "desconto_porcentagem": "0.00",
                    "valor_total": str(line),
                }
            }
        )
    return lines, total


def _servico_lines(body: dict) -> tuple[list[dict], Decimal]:
    lines, total = [], Decimal(0)
    for n, item in enumerate(_items(body, "servicos", "servico"), 1):
        nome = _text(item, "nome_servico")
        ident = _text(item, "servico_id", 20) or _text(item, "id", 20)
        if not nome and not ident:
            raise invalid(f"Informe servico_id ou nome_servico no serviço {n}")
        qty = _money(item.get("quantidade", 1), "quantidade")
        if qty <= 0:
            raise invalid(f"A quantidade do serviço {n} deve ser maior que zero")
        unit = _money(item.get("valor_venda"), "valor_venda")
        discount = _money(item.get("desconto_valor", 0) or 0, "desconto_valor")
        line = (qty * unit - discount).quantize(CENT)
        total += line
        lines.append(
            {
                "servico": {
                    "id": str(7_500_000 + n),
                    "servico_id": ident,
                    "nome_servico": nome,
                    "detalhes": _text(item, "detalhes") or "",
                    "quantidade": str(qty),
                    "valor_venda": str(unit),
                    "tipo_desconto": "R$",
                    "desconto_valor": str(discount),
                    "desconto_porcentagem": "0.00",
                    "valor_total": str(line),
                }
            }
        )
    return lines, total


def _payments(body: dict, day: str) -> tuple[list[dict], Decimal]:
    formas = dict(GC_FORMAS)
    out, total = [], Decimal(0)
    for n, item in enumerate(_items(body, "pagamentos", "pagamento"), 1):
        value = _money(item.get("valor"), "valor")
        forma = _text(item, "forma_pagamento_id", 20)
        if forma and forma not in formas:
            raise invalid(f"Forma de pagamento {forma} não encontrada (parcela {n})")
        due = _text(item, "data_vencimento", 10) or day
        if not DATE.match(due):
            raise invalid(f"Data de vencimento inválida na parcela {n}: use AAAA-MM-DD")
        total += value
        out.append(
            {
                "pagamento": {
                    "data_vencimento": due,
                    "valor": str(value),
                    "forma_pagamento_id": forma,
                    "nome_forma_pagamento": formas.get(
                        forma or "", _text(item, "nome_forma_pagamento")
                    ),
                    "plano_contas_id": _text(item, "plano_contas_id", 20),
                    "nome_plano_conta": None,
                    "observacao": _text(item, "observacao"),
                }
            }
        )
    return out, total


@bp.post("/vendas")
def create_venda() -> Response:
    body = _object()
    data = emulator().data.gc
    tipo = _text(body, "tipo") or "produto"
    if tipo not in ("produto", "servico"):
        raise invalid("O campo tipo deve ser produto ou servico")
    cliente_id = _text(body, "cliente_id", 20)
    if not cliente_id:
        raise invalid("O campo cliente é obrigatório")
    cliente = _cliente_exists(cliente_id)
    if cliente is None:
        raise invalid(f"Cliente {cliente_id} não encontrado")
    day = _text(body, "data", 10)
    if not day or not DATE.match(day):
        raise invalid("O campo data é obrigatório (AAAA-MM-DD)")
    situacoes = {s["id"]: s["nome"] for s in data.situacoes()}
    situacao = _text(body, "situacao_id", 20)
    if not situacao:
        raise invalid("O campo situação é obrigatório")
    if situacao not in situacoes:
        raise invalid(f"Situação {situacao} não encontrada")
    lojas = {loja["id"]: loja["nome"] for loja in data.lojas()}
    loja = _text(body, "loja_id", 20) or next(iter(lojas))
    if loja not in lojas:
        raise invalid(f"Loja {loja} não encontrada")
    produtos, total_p = _produto_lines(body)
    servicos, total_s = _servico_lines(body)
    if not produtos and not servicos:
        raise invalid("Informe ao menos um produto ou serviço")
    frete = _money(body.get("valor_frete", 0) or 0, "valor_frete")
    total = total_p + total_s + frete
    pagamentos, paid = _payments(body, day)
    if pagamentos and paid != total:
        raise invalid(
            "O valor do pedido não pode ser diferente do valor das parcelas "
            f"(pedido {total}, parcelas {paid})"
        )
    condicao = _text(body, "condicao_pagamento", 20) or "a_vista"
    if condicao not in ("a_vista", "parcelado"):
        raise invalid("O campo condicao_pagamento deve ser a_vista ou parcelado")
    now = _now()
    record = {
        "cliente_id": cliente["id"],
        "nome_cliente": cliente["nome"],
        "vendedor_id": _text(body, "vendedor_id", 20),
        "nome_vendedor": None,
        "data": day,
        "previsao_entrega": _text(body, "prazo_entrega", 10),
        "situacao_id": situacao,
        "nome_situacao": situacoes[situacao],
        "valor_total": str(total),
        "valor_frete": str(frete),
        "loja_id": loja,
        "nome_loja": lojas[loja],
        "condicao_pagamento": condicao,
        "observacoes": _text(body, "observacoes", 5000),
        "observacoes_interna": _text(body, "observacoes_interna", 5000),
        "tipo": tipo,
        "hash": secrets.token_hex(6),
        "cadastrado_em": now,
        "modificado_em": now,
        "pagamentos": pagamentos,
        "produtos": produtos,
        "servicos": servicos,
        "atributos": [],
        "equipamentos": [],
    }
    st = store()
    with st.lock:
        n = len(st.vendas)
        record = {
            "id": str(VENDA_ID_BASE + WRITTEN_ID_OFFSET + n),
            "codigo": str(900_000 + n),
            **record,
        }
        st.vendas.append(record)
    return json_response({"code": 200, "status": "success", "data": record})


@bp.put("/vendas/<ident>")
def update_venda(ident: str) -> Response:
    """``PUT /vendas/{id}``: the complete record is required (a partial PUT gets the 404
    validation error, §3.1); the emulator applies its situação (what the app changes)."""
    body = _object()
    data = emulator().data.gc
    st = store()
    with st.lock:
        record = next((r for r in st.vendas if r["id"] == ident), None)
    if record is None:
        raise invalid(f"Venda {ident} não encontrada")
    for key, label in (("cliente_id", "cliente"), ("data", "data"), ("situacao_id", "situação")):
        if not _text(body, key, 20):
            raise invalid(f"O campo {label} é obrigatório")
    if not _items(body, "produtos", "produto") and not _items(body, "servicos", "servico"):
        raise invalid("Informe ao menos um produto ou serviço")
    if not _items(body, "pagamentos", "pagamento"):
        raise invalid("O valor do pedido não pode ser diferente do valor das parcelas")
    situacoes = {s["id"]: s["nome"] for s in data.situacoes()}
    situacao = _text(body, "situacao_id", 20)
    if situacao not in situacoes:
        raise invalid(f"Situação {situacao} não encontrada")
    with st.lock:
        record.update(situacao_id=situacao, nome_situacao=situacoes[situacao], modificado_em=_now())
        out = dict(record)
    return json_response({"code": 200, "status": "success", "data": out})


# ---------------------------------------------------------------------------- reads


def _arg(name: str) -> str:
    return request.args.get(name, "").strip()


def _cliente_matches(c: dict) -> bool:
    digits = gestaoclick.digits
    doc = digits(_arg("cpf_cnpj"))
    if doc and doc != digits(c.get("cpf") or c.get("cnpj")):
        return False
    for key in ("nome", "email", "tipo_pessoa"):
        wanted = _arg(key).lower()
        if wanted and wanted not in (c.get(key) or "").lower():
            return False
    phone = digits(_arg("telefone"))
    if phone and phone not in digits(c.get("telefone")) + " " + digits(c.get("celular")):
        return False
    situacao = _arg("situacao")
    return situacao not in ("0", "1") or c["ativo"] == situacao


def _venda_matches(v: dict) -> bool:
    if v["tipo"] != (_arg("tipo") or "produto"):
        return False
    for key in ("cliente_id", "situacao_id", "loja_id", "codigo"):
        wanted = _arg(key)
        if wanted and wanted != v.get(key):
            return False
    start, end = _arg("data_inicio"), _arg("data_fim")
    if start and v["data"] < start:
        return False
    if end and v["data"] > end:
        return False
    nome = _arg("nome").lower()
    return not nome or nome in v["nome_cliente"].lower()


def matching(resource: str) -> list[dict]:
    """Written records of ``resource`` that match the request's filters, oldest first."""
    st = emulator_store()
    if st is None or resource not in ("clientes", "vendas"):
        return []
    test = _cliente_matches if resource == "clientes" else _venda_matches
    with st.lock:
        rows = list(getattr(st, resource))
    return [dict(r) for r in rows if test(r)]


def find(resource: str, ident: str) -> dict | None:
    st = emulator_store()
    if st is None or resource not in ("clientes", "vendas"):
        return None
    with st.lock:
        return next((dict(r) for r in getattr(st, resource) if r["id"] == ident), None)


def emulator_store() -> Written | None:
    from flask import current_app

    return current_app.extensions.get(EXTENSION)
