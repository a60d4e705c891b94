"""Gestão Click writes: find/create a cliente, create a venda, the lookups they need
(PLATFORMS-WRITES.md §3), over a ``GestaoClickClient`` (its gateway, budget and counter).

* ``find_cliente(client, cpf_cnpj=…, email=…)``: ``GET /clientes?cpf_cnpj=`` — the formatted
  document first, then the digits (whether the filter needs formatting is unverified) — compared
  on digits; else ``GET /clientes?email=`` compared case-insensitively. ``None`` when not found.
* ``create_cliente(client, nome=…, …)``: ``POST /clientes`` → the created record (``id``).
* ``create_venda(client, venda_body(…))``: ``POST /vendas`` → the created venda. The payments
  must add up to the total (products/services + freight), or Gestão Click refuses it.
* Validation errors come back as HTTP **404** with ``data.mensagem``: raised as
  ``InvalidRequestError`` whose ``detail`` is that message (never retried: a 4xx).
* Writes are sent **once** (no automatic retry: a timed-out POST may have created the record;
  the caller — the automation outbox — looks it up before trying again). A 429 is raised as
  ``RateLimitError`` with the wait, for the caller to honour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
)
from .gestao_click import API_NAME, MSG_MISSING, GestaoClickClient

CENT = Decimal("0.01")


def digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdecimal())


def format_document(doc: str) -> str:
    """``47718252620`` → ``477.182.526-20``; 14 digits → ``12.345.678/0001-90``."""
    d = digits(doc)
    if len(d) == 11:
        return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"
    if len(d) == 14:
        return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"
    return d


def post(client: GestaoClickClient, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST path`` (sent once) → the envelope's ``data``; errors as the client's APIErrors."""
    return write(client, "POST", path, body)


def write(
    client: GestaoClickClient, method: str, path: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """``POST``/``PUT`` ``path`` (sent once) → the envelope's ``data``."""
    if not client.has_credentials:
        raise AuthenticationError(MSG_MISSING, code="missing_credentials", api=API_NAME)
    try:
        response = client.gateway.request(method, path, json=dict(body), retry_attempts=0)
    except NotFoundError as exc:
        # On a write, a 404 is the platform's validation error even when its message reads
        # "… não encontrado" (a cliente, situação or produto the body names).
        client.counter.add(client.account, exc.attempts)
        raise InvalidRequestError(
            api=API_NAME, status=exc.status, detail=exc.detail, body=exc.body, code=exc.code
        ) from None
    except APIError as exc:
        if not isinstance(exc, APIConnectionError) or exc.status is not None:
            client.counter.add(client.account, exc.attempts)
        raise
    client.counter.add(client.account, response.attempts)
    envelope = response.data if isinstance(response.data, dict) else {}
    data = envelope.get("data")
    if envelope.get("status") != "success" or not isinstance(data, dict) or not data.get("id"):
        detail = data.get("mensagem") if isinstance(data, dict) else data
        raise InvalidRequestError(
            api=API_NAME,
            status=response.status,
            detail=str(detail or "resposta sem o registro criado"),
            body=envelope,
        )
    return data


def _first_page(client: GestaoClickClient, path: str, **filters: Any) -> list[dict[str, Any]]:
    body = client.get(path, filters)
    items = body.get("data") if isinstance(body, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


# ---------------------------------------------------------------------------- clientes


def find_cliente(
    client: GestaoClickClient, cpf_cnpj: str | None = None, email: str | None = None
) -> dict[str, Any] | None:
    doc = digits(cpf_cnpj)
    if len(doc) in (11, 14):
        for query in dict.fromkeys((format_document(doc), doc)):
            for item in _first_page(client, "/clientes", cpf_cnpj=query):
                if digits(item.get("cpf") or item.get("cnpj")) == doc:
                    return item
    email = (email or "").strip().lower()
    if email:
        for item in _first_page(client, "/clientes", email=email):
            if (item.get("email") or "").strip().lower() == email:
                return item
    return None


def create_cliente(
    client: GestaoClickClient,
    *,
    nome: str,
    cpf_cnpj: str | None = None,
    email: str | None = None,
    celular: str | None = None,
    telefone: str | None = None,
    tipo_pessoa: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """``POST /clientes``: PF with a CPF (11 digits), PJ with a CNPJ (14), formatted as the
    vendor's examples; ``extra`` goes as is (``enderecos``, ``loja_id``…)."""
    doc = digits(cpf_cnpj)
    tipo = tipo_pessoa or ("PJ" if len(doc) == 14 else "PF")
    body: dict[str, Any] = {"tipo_pessoa": tipo, "nome": nome, "ativo": "1"}
    if len(doc) == 14:
        body["cnpj"] = format_document(doc)
        body.setdefault("razao_social", nome)
    elif len(doc) == 11:
        body["cpf"] = format_document(doc)
    for key, value in (("email", email), ("celular", celular), ("telefone", telefone)):
        if value:
            body[key] = value
    body.update({k: v for k, v in extra.items() if v is not None})
    return post(client, "/clientes", body)


def find_or_create_cliente(client: GestaoClickClient, **fields: Any) -> tuple[dict, bool]:
    """(cliente, created): found by CPF/CNPJ, then e-mail; else created."""
    found = find_cliente(client, fields.get("cpf_cnpj"), fields.get("email"))
    if found is not None:
        return found, False
    return create_cliente(client, **fields), True


# ---------------------------------------------------------------------------- vendas


def money(value: Decimal | int | float | str) -> str:
    return str(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


@dataclass(frozen=True)
class Line:
    """A produto line (``produto_id``) or, without it, a serviço line (``nome``)."""

    valor_venda: Decimal | str | float
    quantidade: Decimal | str | float = 1
    produto_id: str | None = None
    servico_id: str | None = None
    nome: str | None = None
    detalhes: str | None = None

    @property
    def total(self) -> Decimal:
        unit = Decimal(money(self.valor_venda))
        return (unit * Decimal(str(self.quantidade))).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Payment:
    valor: Decimal | str | float
    forma_pagamento_id: str | None = None
    data_vencimento: date | str | None = None
    observacao: str | None = None


def venda_body(
    *,
    cliente_id: str,
    situacao_id: str,
    lines: Sequence[Line],
    payments: Iterable[Payment] | None = None,
    day: date | str,
    loja_id: str | None = None,
    valor_frete: Decimal | str | float = 0,
    observacoes: str | None = None,
    vendedor_id: str | None = None,
) -> dict[str, Any]:
    """The ``POST /vendas`` object (§3.3). Without ``payments``: one payment of the total on
    ``day``. ``tipo`` is ``produto`` when a line names a produto, else ``servico``."""
    day_text = day.isoformat() if isinstance(day, date) else str(day)
    produtos = [
        {
            "produto": _clean(
                {
                    "produto_id": str(line.produto_id),
                    "quantidade": money(line.quantidade),
                    "valor_venda": money(line.valor_venda),
                    "detalhes": line.detalhes,
                    "tipo_desconto": "R$",
                    "desconto_valor": "0.00",
                }
            )
        }
        for line in lines
        if line.produto_id
    ]
    servicos = [
        {
            "servico": _clean(
                {
                    "servico_id": line.servico_id,
                    "nome_servico": line.nome,
                    "quantidade": money(line.quantidade),
                    "valor_venda": money(line.valor_venda),
                    "detalhes": line.detalhes,
                    "desconto_valor": "0.00",
                }
            )
        }
        for line in lines
        if not line.produto_id
    ]
    total = sum((line.total for line in lines), Decimal(0)) + Decimal(money(valor_frete))
    payments = list(payments or [Payment(total)])
    pagamentos = [
        {
            "pagamento": _clean(
                {
                    "data_vencimento": (
                        p.data_vencimento.isoformat()
                        if isinstance(p.data_vencimento, date)
                        else p.data_vencimento or day_text
                    ),
                    "valor": money(p.valor),
                    "forma_pagamento_id": p.forma_pagamento_id,
                    "observacao": p.observacao,
                }
            )
        }
        for p in payments
    ]
    body = {
        "tipo": "produto" if produtos else "servico",
        "cliente_id": str(cliente_id),
        "data": day_text,
        "situacao_id": str(situacao_id),
        "loja_id": loja_id,
        "vendedor_id": vendedor_id,
        "condicao_pagamento": "parcelado" if len(pagamentos) > 1 else "a_vista",
        "valor_frete": money(valor_frete),
        "observacoes": observacoes,
        "produtos": produtos,
        "servicos": servicos,
        "pagamentos": pagamentos,
    }
    return _clean(body)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


def create_venda(client: GestaoClickClient, body: Mapping[str, Any]) -> dict[str, Any]:
    return post(client, "/vendas", body)


def get_venda(client: GestaoClickClient, venda_id: str) -> dict[str, Any] | None:
    body = client.get(f"/vendas/{venda_id}")
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) and data.get("id") else None


VENDA_PUT_KEYS = (
    "tipo", "codigo", "cliente_id", "vendedor_id", "data", "prazo_entrega", "situacao_id",
    "transportadora_id", "centro_custo_id", "valor_frete", "condicao_pagamento", "loja_id",
    "observacoes", "observacoes_interna", "produtos", "servicos", "pagamentos",
)  # fmt: skip


def update_venda_situacao(
    client: GestaoClickClient, venda: Mapping[str, Any], situacao_id: str
) -> dict[str, Any]:
    """``PUT /vendas/{id}`` with the **complete** record (a partial PUT is refused, §3.1) and
    the new ``situacao_id``; ``venda`` is the record as read (``get_venda``)."""
    body = {k: venda[k] for k in VENDA_PUT_KEYS if venda.get(k) not in (None, "", [])}
    if "prazo_entrega" not in body and venda.get("previsao_entrega"):
        body["prazo_entrega"] = venda["previsao_entrega"]
    body["situacao_id"] = str(situacao_id)
    return write(client, "PUT", f"/vendas/{venda['id']}", body)


def vendas_of_cliente(
    client: GestaoClickClient, cliente_id: str, tipo: str = "produto", day: str | None = None
) -> list[dict[str, Any]]:
    """The cliente's vendas of ``tipo`` — of one ``day`` (``data_inicio`` = ``data_fim``) when
    given — every page of them (a buyer with many renewals has more than one)."""
    return list(client.iter_vendas(day, day, tipo, cliente_id=str(cliente_id)))


# ---------------------------------------------------------------------------- lookups


def situacoes_vendas(client: GestaoClickClient) -> list[dict[str, Any]]:
    return client.situacoes_vendas()


def lojas(client: GestaoClickClient) -> list[dict[str, Any]]:
    return client.lojas()


def formas_pagamentos(client: GestaoClickClient) -> list[dict[str, Any]]:
    return list(client._iter("/formas_pagamentos"))


def produtos_by(client: GestaoClickClient, *, codigo: str | None = None, nome: str | None = None):
    """``GET /produtos?codigo=`` or ``?nome=`` (first page): to map a product to a produto_id."""
    filters = {k: v for k, v in (("codigo", codigo), ("nome", nome)) if v}
    return _first_page(client, "/produtos", **filters) if filters else []
