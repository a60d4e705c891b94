"""Gestão Click API items → the columns of ``GcSale``, ``GcClient`` and ``GcProduct`` (pure).

A fingerprint of each record (``payload_hash``) with ``modificado_em`` decides between
``updated`` and ``unchanged`` on a rescan (the API has no "modified since" filter).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from app.services import bulk
from app.sources.base import as_dict, as_list, decimal_to_cents, digits_only, local_to_utc, text


def fingerprint(item: dict) -> str:
    raw = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def parse_day(value: Any) -> date | None:
    raw = text(value, 32)
    if not raw:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw[:10], fmt).date()
        except ValueError:
            continue
    return None


def _inner(wrapper: Any, key: str) -> dict:
    """Nested arrays wrap each element in a one-key object: ``{"pagamento": {…}}``."""
    value = as_dict(wrapper)
    return as_dict(value.get(key)) if key in value else value


def _bool(value: Any, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "sim", "s", "yes")


def _stock(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        return None
    return number if number == number and abs(number) < 1e15 else None


def sale_fields(item: dict, pass_tipo: str | None = None) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    produtos = as_list(item.get("produtos"))
    servicos = as_list(item.get("servicos"))
    tipo = text(item.get("tipo"), 20) or pass_tipo
    if tipo is None:
        tipo = "servico" if servicos and not produtos else "produto"
    forma = None
    for wrapper in as_list(item.get("pagamentos")):
        forma = text(_inner(wrapper, "pagamento").get("nome_forma_pagamento"), 120)
        if forma:
            break
    return {
        "remote_id": remote_id,
        "codigo": text(item.get("codigo"), 64),
        "cliente_id": text(item.get("cliente_id"), 32),
        "cliente_nome": text(item.get("nome_cliente"), 255),
        "vendedor_id": text(item.get("vendedor_id"), 32),
        "vendedor_nome": text(item.get("nome_vendedor"), 255),
        "data": parse_day(item.get("data")),
        "situacao_id": text(item.get("situacao_id"), 32),
        "situacao_nome": text(item.get("nome_situacao"), 120),
        "valor_total_cents": decimal_to_cents(item.get("valor_total")),
        "valor_frete_cents": decimal_to_cents(item.get("valor_frete")),
        "tipo": tipo,
        "loja_id": text(item.get("loja_id"), 32),
        "loja_nome": text(item.get("nome_loja"), 255),
        "forma_pagamento": forma,
        "items_count": len(produtos) + len(servicos),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }


def client_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    address = {}
    for wrapper in as_list(item.get("enderecos")):
        address = _inner(wrapper, "endereco")
        if address:
            break
    estado = text(address.get("estado"), 2)
    return {
        "remote_id": remote_id,
        "tipo_pessoa": text(item.get("tipo_pessoa"), 4),
        "nome": text(item.get("nome"), 255) or text(item.get("razao_social"), 255) or "",
        "razao_social": text(item.get("razao_social"), 255),
        "cpf_cnpj": digits_only(item.get("cnpj") or item.get("cpf"), 14),
        "email": bulk.email(item.get("email")) or text(item.get("email"), 254),
        "telefone": text(item.get("telefone"), 40),
        "celular": text(item.get("celular"), 40),
        "cidade": text(address.get("nome_cidade"), 120),
        "estado": estado.upper() if estado else None,
        "ativo": _bool(item.get("ativo")),
        "cadastrado_em": local_to_utc(item.get("cadastrado_em")),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }


def product_fields(item: dict) -> dict[str, Any] | None:
    remote_id = text(item.get("id"), 32)
    if remote_id is None:
        return None
    return {
        "remote_id": remote_id,
        "nome": text(item.get("nome"), 255) or "",
        "codigo_interno": text(item.get("codigo_interno"), 64),
        "codigo_barra": text(item.get("codigo_barra"), 64),
        "ativo": _bool(item.get("ativo")),
        "estoque": _stock(item.get("estoque")),
        "valor_custo_cents": decimal_to_cents(item.get("valor_custo")),
        "valor_venda_cents": decimal_to_cents(item.get("valor_venda")),
        "grupo_id": text(item.get("grupo_id"), 32),
        "grupo_nome": text(item.get("nome_grupo"), 255),
        "cadastrado_em": local_to_utc(item.get("cadastrado_em")),
        "modificado_em": local_to_utc(item.get("modificado_em")),
        "payload_hash": fingerprint(item),
    }
