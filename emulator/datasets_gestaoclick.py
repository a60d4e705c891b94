"""Gestão Click's generated records: vendas, clientes, produtos, lojas (see ``datasets``).

Size: one generator class and its lookup tables (a little over 400 lines).
"""

from __future__ import annotations

from .config import EmulatorConfig
from .datasets_common import (
    ALNUM_LOWER,
    DAY,
    People,
    code,
    coprime_multiplier,
    date_local,
    first_at_or_after,
    iso_local,
    local_midnight_ts,
    spread,
)
from .fake import (
    company_name,
    format_cnpj,
    format_cpf,
    h64,
    make_cnpj,
    money_str,
    price_cents,
    rng,
    unit,
    weighted,
)

GC_SITUACOES = [
    ("3150", "Confirmado", 0.55),
    ("3151", "Em aberto", 0.15),
    ("3152", "Em andamento", 0.1),
    ("3153", "Cancelado", 0.08),
    ("3154", "Concretizada", 0.12),
]
GC_LOJAS = [("279", "Loja Matriz"), ("280", "Loja Online")]
GC_VENDEDORES = [("45", "João da Silva"), ("46", "Ana Paula Ramos"), ("47", "Carlos Eduardo Lima")]
GC_FORMAS = [
    ("579722", "Cartão de Crédito"),
    ("579723", "PIX"),
    ("579724", "Boleto Bancário"),
    ("579725", "Dinheiro"),
]
GC_TIPOS = [("produto", 0.75), ("servico", 0.1), ("vendas_balcao", 0.15)]
GC_GRUPOS = [("101", "Produtos físicos"), ("102", "Cursos e treinamentos"), ("103", "Acessórios")]
GC_PRODUCT_NAMES = [
    ("Cortina Blackout", "101"),
    ("Camiseta Básica Algodão", "101"),
    ("Caneca Personalizada", "103"),
    ("Curso Online de Excel", "102"),
    ("Kit Escritório", "101"),
    ("Mentoria Individual", "102"),
    ("Agenda Planner", "103"),
    ("Livro Finanças Pessoais", "101"),
    ("Workshop Presencial", "102"),
    ("Mochila Executiva", "103"),
    ("Garrafa Térmica", "103"),
    ("Apostila Impressa", "101"),
]
GC_SERVICOS = [("9001", "Consultoria"), ("9002", "Instalação"), ("9003", "Suporte técnico mensal")]
VENDA_ID_BASE, CLIENTE_ID_BASE, PRODUTO_ID_BASE = 8_800_000, 1_150_000, 1_238_000


def ean13(r) -> str:
    body = "789" + "".join(str(r.randrange(10)) for _ in range(9))
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class GestaoClickData:
    def __init__(self, cfg: EmulatorConfig, people: People):
        self.cfg = cfg
        self.people = people
        self.key = f"{cfg.seed}:gestaoclick"
        self.n = {"vendas": cfg.gc_sales, "clientes": cfg.gc_clients, "produtos": cfg.gc_products}
        self.now = cfg.now_ts
        self.start = self.now - cfg.span_days * DAY
        self.mult = coprime_multiplier(max(1, cfg.gc_clients))

    def ts(self, resource: str, i: int) -> int:
        start = self.start if resource == "vendas" else self.start - 2 * 365 * DAY
        end = self.now if resource == "vendas" else self.start + 300 * DAY
        return spread((self.key, resource), i, self.n[resource], start, end)

    def index_of_id(self, resource: str, ident: str) -> int | None:
        base = {"vendas": VENDA_ID_BASE, "clientes": CLIENTE_ID_BASE, "produtos": PRODUTO_ID_BASE}[
            resource
        ]
        if not ident.isdigit():
            return None
        i = int(ident) - base
        return i if 0 <= i < self.n[resource] else None

    # ------------------------------------------------------------------ cheap attributes

    def venda_tipo(self, i: int) -> str:
        return weighted(unit(self.key, "vtipo", i), GC_TIPOS)

    def venda_situacao(self, i: int) -> tuple[str, str]:
        sid = weighted(unit(self.key, "vsit", i), [(s[0], s[2]) for s in GC_SITUACOES])
        return sid, next(s[1] for s in GC_SITUACOES if s[0] == sid)

    def venda_cliente(self, i: int) -> int | None:
        n = self.n["clientes"]
        return None if not n else (i * self.mult + h64(self.key, "coff") % n) % n

    def venda_loja(self, i: int) -> tuple[str, str]:
        return GC_LOJAS[0] if unit(self.key, "vloja", i) < 0.7 else GC_LOJAS[1]

    def cliente_pj(self, i: int) -> bool:
        return unit(self.key, "cpj", i) < 0.15

    def cliente_ativo(self, i: int) -> bool:
        return unit(self.key, "cativo", i) >= 0.05

    def produto_ativo(self, j: int) -> bool:
        return unit(self.key, "pativo", j) >= 0.08

    def produto_grupo(self, j: int) -> str:
        return GC_PRODUCT_NAMES[j % len(GC_PRODUCT_NAMES)][1]

    # ------------------------------------------------------------------ records

    def produto_name(self, j: int) -> str:
        name = GC_PRODUCT_NAMES[j % len(GC_PRODUCT_NAMES)][0]
        batch = j // len(GC_PRODUCT_NAMES)
        return f"{name} {batch + 1}" if batch else name

    def produto_price(self, j: int) -> int:
        return price_cents(rng(self.key, "pprice", j))

    def produto(self, j: int) -> dict:
        r = rng(self.key, "produto", j)
        cents = self.produto_price(j)
        cost = cents * r.randrange(35, 65) // 100
        grupo = self.produto_grupo(j)
        created = self.ts("produtos", j)
        modified = created + int(r.random() * (self.now - created))
        pid = PRODUTO_ID_BASE + j
        estoque = r.randrange(0, 500) if grupo != "102" else 0
        return {
            "id": str(pid),
            "nome": self.produto_name(j),
            "codigo_interno": f"P{j + 1:05d}",
            "codigo_barra": ean13(r),
            "possui_variacao": "1",
            "possui_composicao": "0",
            "movimenta_estoque": "1" if grupo != "102" else "0",
            "peso": "0.500",
            "largura": "0.00",
            "altura": "0.00",
            "comprimento": "0.00",
            "ativo": "1" if self.produto_ativo(j) else "0",
            "grupo_id": grupo,
            "nome_grupo": dict(GC_GRUPOS)[grupo],
            "descricao": "",
            "estoque": estoque,
            "valor_custo": money_str(cost),
            "valor_venda": money_str(cents),
            "cadastrado_em": iso_local(created),
            "modificado_em": iso_local(modified),
            "valores": [
                {
                    "valor": {
                        "tipo_id": "90858",
                        "nome_tipo": "Varejo",
                        "lucro_utilizado": f"{(cents - cost) * 100 / cost:.2f}",
                        "valor_custo": money_str(cost),
                        "valor_venda": money_str(cents),
                    }
                }
            ],
            "variacoes": [
                {
                    "variacao": {
                        "id": str(4_152_000 + j),
                        "nome": "Padrão",
                        "estoque": str(estoque),
                        "valores": [
                            {
                                "valor": {
                                    "tipo_id": "90858",
                                    "nome_tipo": "Varejo",
                                    "valor_custo": money_str(cost),
                                    "valor_venda": money_str(cents),
                                }
                            }
                        ],
                    }
                }
            ],
            "fiscal": {
                "ncm": "49019900" if grupo == "102" else "63039200",
                "cest": "",
                "peso_liquido": None,
                "peso_bruto": None,
                "valor_aproximado_tributos": None,
                "valor_fixo_pis": None,
                "valor_fixo_pis_st": None,
                "valor_fixo_confins": None,
                "valor_fixo_confins_st": None,
            },
        }

    def cliente(self, i: int) -> dict:
        person = self.people[i]
        r = rng(self.key, "cliente", i)
        pj = self.cliente_pj(i)
        created = self.ts("clientes", i)
        modified = created + int(r.random() * (self.now - created))
        cnpj = make_cnpj(r) if pj else None
        return {
            "id": str(CLIENTE_ID_BASE + i),
            "tipo_pessoa": "PJ" if pj else "PF",
            "nome": company_name(r, person) if pj else person.name,
            "razao_social": f"{company_name(r, person)} EPP" if pj else None,
            "cnpj": format_cnpj(cnpj) if cnpj else None,
            "cpf": None if pj else format_cpf(person.cpf),
            "rg": None if pj else f"{r.randrange(10**7, 10**8)}-{r.randrange(10)}",
            "inscricao_estadual": str(r.randrange(10**8, 10**9)) if pj else None,
            "inscricao_municipal": None,
            "data_nascimento": None if pj else person.birth_date,
            "telefone": person.landline_br,
            "celular": person.mobile_br,
            "fax": None,
            "email": person.email,
            "ativo": "1" if self.cliente_ativo(i) else "0",
            "vendedor_id": GC_VENDEDORES[i % len(GC_VENDEDORES)][0],
            "nome_vendedor": GC_VENDEDORES[i % len(GC_VENDEDORES)][1],
            "cadastrado_em": iso_local(created),
            "modificado_em": iso_local(modified),
            "contatos": (
                [
                    {
                        "contato": {
                            "tipo_id": "1",
                            "nome_tipo": "Comercial",
                            "nome": person.name,
                            "contato": person.email,
                            "cargo": "Sócio",
                            "observacao": None,
                        }
                    }
                ]
                if pj
                else []
            ),
            "enderecos": [
                {
                    "endereco": {
                        "cep": person.cep,
                        "logradouro": person.street,
                        "numero": person.number,
                        "complemento": None,
                        "bairro": person.bairro,
                        "cidade_id": person.city_id,
                        "nome_cidade": person.city,
                        "estado": person.state,
                    }
                }
            ],
        }

    def cliente_text(self, i: int) -> str:
        return self.cliente(i)["nome"].lower()

    def venda(self, i: int) -> dict:
        r = rng(self.key, "venda", i)
        tipo = self.venda_tipo(i)
        sid, sname = self.venda_situacao(i)
        ts = self.ts("vendas", i)
        ci = self.venda_cliente(i)
        cliente_nome = self.cliente(ci)["nome"] if ci is not None else "Consumidor final"
        vend_id, vend_nome = GC_VENDEDORES[h64(self.key, "vvend", i) % len(GC_VENDEDORES)]
        loja_id, loja_nome = self.venda_loja(i)
        forma_id, forma_nome = GC_FORMAS[h64(self.key, "vforma", i) % len(GC_FORMAS)]
        produtos, servicos, total = [], [], 0
        if tipo == "servico":
            sv_id, sv_nome = r.choice(GC_SERVICOS)
            cents = price_cents(r)
            total = cents
            servicos.append(
                {
                    "servico": {
                        "id": str(7_000_000 + i),
                        "servico_id": sv_id,
                        "nome_servico": sv_nome,
                        "detalhes": "",
                        "quantidade": "1.00",
                        "tipo_valor_id": None,
                        "nome_tipo_valor": None,
                        "valor_venda": money_str(cents),
                        "tipo_desconto": "R$",
                        "desconto_valor": "0.00",
                        "desconto_porcentagem": "0.00",
                        "valor_total": money_str(cents),
                    }
                }
            )
        elif self.n["produtos"]:
            for _ in range(r.choice((1, 1, 1, 2, 3))):
                j = r.randrange(self.n["produtos"])
                qty = r.choice((1, 1, 2, 3))
                unit_cents = self.produto_price(j)
                line = unit_cents * qty
                total += line
                produtos.append(
                    {
                        "produto": {
                            "produto_id": PRODUTO_ID_BASE + j,
                            "variacao_id": 4_152_000 + j,
                            "nome_produto": self.produto_name(j),
                            "detalhes": "",
                            "movimenta_estoque": "1",
                            "possui_variacao": "1",
                            "sigla_unidade": "UND",
                            "quantidade": f"{qty}.00",
                            "tipo_valor_id": "90858",
                            "nome_tipo_valor": "Varejo",
                            "valor_custo": money_str(unit_cents // 2),
                            "valor_venda": money_str(unit_cents),
                            "tipo_desconto": "R$",
                            "desconto_valor": "0.00",
                            "desconto_porcentagem": "0.00",
                            "valor_total": money_str(line),
                        }
                    }
                )
        frete = 0 if tipo != "produto" or r.random() < 0.7 else r.choice((1500, 2290, 3500))
        total += frete
        parcelas = r.choice((1, 1, 2, 3)) if forma_nome == "Cartão de Crédito" else 1
        pagamentos = []
        for k in range(parcelas):
            value = total // parcelas + (total % parcelas if k == parcelas - 1 else 0)
            due = date_local(ts + k * 30 * DAY)
            pagamentos.append(
                {
                    "pagamento": {
                        "data_vencimento": due,
                        "valor": money_str(value),
                        "forma_pagamento_id": forma_id,
                        "nome_forma_pagamento": forma_nome,
                        "plano_contas_id": "2512",
                        "nome_plano_conta": "Receitas de vendas",
                        "observacao": None,
                    }
                }
            )
        return {
            "id": str(VENDA_ID_BASE + i),
            "codigo": str(1000 + i),
            "cliente_id": str(CLIENTE_ID_BASE + ci) if ci is not None else None,
            "nome_cliente": cliente_nome,
            "vendedor_id": vend_id,
            "nome_vendedor": vend_nome,
            "tecnico_id": None,
            "nome_tecnico": None,
            "data": date_local(ts),
            "previsao_entrega": None,
            "situacao_id": sid,
            "nome_situacao": sname,
            "valor_total": money_str(total),
            "transportadora_id": None,
            "nome_transportadora": None,
            "centro_custo_id": "1",
            "nome_centro_custo": "Centro de Custo 01",
            "aos_cuidados_de": None,
            "validade": None,
            "introducao": None,
            "observacoes": None,
            "observacoes_interna": None,
            "valor_frete": money_str(frete),
            "nome_canal_venda": "Loja virtual" if loja_id == "280" else "Balcão",
            "nome_loja": loja_nome,
            "valor_custo": money_str(total // 2),
            "condicao_pagamento": "parcelado" if parcelas > 1 else "a_vista",
            "situacao_financeiro": "1" if sid in ("3150", "3154") else "0",
            "situacao_estoque": "1" if tipo != "servico" else "0",
            "forma_pagamento_id": forma_id,
            "data_primeira_parcela": date_local(ts),
            "numero_parcelas": str(parcelas),
            "intervalo_dias": "30",
            "hash": code(ALNUM_LOWER, 12, self.key, "vhash", i),
            "equipamentos": [],
            "pagamentos": pagamentos,
            "produtos": produtos,
            "servicos": servicos,
            "atributos": [],
        }

    def venda_range(self, start_day: str | None, end_day: str | None) -> tuple[int, int]:
        n = self.n["vendas"]

        def key(i: int) -> int:
            return self.ts("vendas", i)

        lo = 0 if start_day is None else first_at_or_after(n, local_midnight_ts(start_day), key)
        hi = n if end_day is None else first_at_or_after(n, local_midnight_ts(end_day) + DAY, key)
        return lo, max(lo, hi)

    def situacoes(self) -> list[dict]:
        return [
            {"id": sid, "nome": name, "padrao": "1" if sid == "3150" else "0"}
            for sid, name, _ in GC_SITUACOES
        ]

    def lojas(self) -> list[dict]:
        r = rng(self.key, "lojas")
        return [
            {
                "id": lid,
                "nome": name,
                "cnpj": format_cnpj(make_cnpj(r)),
                "matriz": "1" if lid == "279" else "0",
            }
            for lid, name in GC_LOJAS
        ]
