"""Gestão Click emulation: header auth, pagina/proxima_pagina paging, filters, errors, limits."""

from __future__ import annotations

from emu_testkit import count_calls, gc_headers

API = "/gestaoclick/api"


def walk(client, resource, **params):
    """Follow meta.proxima_pagina to the end → (records, pages, metas)."""
    records, metas, page = [], [], 1
    while page is not None:
        resp = client.get(
            f"{API}/{resource}", query_string={**params, "pagina": page}, headers=gc_headers()
        )
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["code"] == 200 and body["status"] == "success"
        assert body["meta"]["pagina_atual"] == page
        metas.append(body["meta"])
        records.extend(body["data"])
        page = body["meta"]["proxima_pagina"]
    return records, len(metas), metas


def test_wrong_tokens_are_401(make_client):
    client = make_client()
    for headers in ({}, {"access-token": "emu-gc-access-token", "secret-access-token": "x"}):
        resp = client.get(f"{API}/lojas", headers=headers)
        assert resp.status_code == 401
        body = resp.get_json()
        assert body["code"] == 401 and body["status"] == "error" and body["data"]["mensagem"]


def test_vendas_walk_every_page_exactly_once(make_client):
    client = make_client(gc_sales=1234, gc_rate_limit=0)
    ids, total = set(), 0
    for tipo in ("produto", "servico", "vendas_balcao"):
        records, pages, metas = walk(client, "vendas", tipo=tipo)
        total += len(records)
        ids |= {r["id"] for r in records}
        assert pages == max(1, -(-metas[0]["total_registros"] // 100))
        assert metas[0]["pagina_anterior"] is None and metas[0]["url_anterior"] is None
        assert metas[-1]["proxima_pagina"] is None and metas[-1]["proxima_url"] is None
        if len(metas) > 1:
            assert metas[0]["proxima_url"].endswith("pagina=2")
            assert f"tipo={tipo}" in metas[0]["proxima_url"]
            assert metas[1]["pagina_anterior"] == 1
        assert all(m["limite_por_pagina"] == 100 for m in metas)
        assert sum(m["total_da_pagina"] for m in metas) == len(records)
    assert total == len(ids) == 1234
    # without tipo only product sales come back (PLATFORMS.md §7.2, [M])
    default, _, _ = walk(client, "vendas")
    produto, _, _ = walk(client, "vendas", tipo="produto")
    assert [r["id"] for r in default] == [r["id"] for r in produto]


def test_venda_fields_are_strings_like_the_docs(make_client):
    client = make_client(gc_rate_limit=0)
    venda = client.get(f"{API}/vendas", headers=gc_headers()).get_json()["data"][0]
    for key in (
        "id",
        "codigo",
        "cliente_id",
        "situacao_id",
        "valor_total",
        "valor_frete",
        "numero_parcelas",
        "data",
    ):
        assert isinstance(venda[key], str), key
    item = venda["produtos"][0]["produto"]
    assert isinstance(item["produto_id"], int) and isinstance(item["variacao_id"], int)
    assert isinstance(item["quantidade"], str)
    assert "pagamento" in venda["pagamentos"][0]
    total = sum(float(p["pagamento"]["valor"]) for p in venda["pagamentos"])
    assert abs(total - float(venda["valor_total"])) < 0.005
    single = client.get(f"{API}/vendas/{venda['id']}", headers=gc_headers()).get_json()
    assert single["data"] == venda and single["status"] == "success"


def test_date_and_situacao_filters(make_client):
    client = make_client(gc_sales=900, gc_rate_limit=0)
    october, _, _ = walk(client, "vendas", data_inicio="2026-10-01", data_fim="2026-10-31")
    assert october and all("2026-10-01" <= r["data"] <= "2026-10-31" for r in october)
    everything, _, _ = walk(client, "vendas")
    assert len([r for r in everything if r["data"].startswith("2026-10")]) == len(october)
    situacoes = client.get(f"{API}/situacoes_vendas", headers=gc_headers()).get_json()["data"]
    sid = situacoes[0]["id"]
    only, _, _ = walk(client, "vendas", situacao_id=sid)
    assert only and {r["situacao_id"] for r in only} == {sid}
    bad = client.get(
        f"{API}/vendas", query_string={"data_inicio": "01/10/2026"}, headers=gc_headers()
    )
    assert bad.status_code == 404
    assert bad.get_json()["data"]["erro"] == "Not Found"


def test_clientes_and_produtos(make_client):
    client = make_client(gc_clients=250, gc_products=230, gc_rate_limit=0)
    clientes, pages, metas = walk(client, "clientes")
    assert pages == 3 and len({c["id"] for c in clientes}) == 250
    assert metas[-1]["total_da_pagina"] == 50
    assert {c["tipo_pessoa"] for c in clientes} == {"PF", "PJ"}
    pf = next(c for c in clientes if c["tipo_pessoa"] == "PF")
    assert pf["cpf"] and pf["cnpj"] is None and "endereco" in pf["enderecos"][0]
    produtos, pages, metas = walk(client, "produtos")
    assert pages == 3 and len(produtos) == 230
    assert "total_paginas" in metas[0] and "total_registros_pagina" in metas[0]
    assert "total_da_pagina" not in metas[0]
    assert metas[0]["total_paginas"] == 3 and metas[-1]["total_registros_pagina"] == 30
    assert isinstance(produtos[0]["estoque"], int)
    assert isinstance(produtos[0]["valor_venda"], str)
    pj, _, _ = walk(client, "clientes", tipo_pessoa="PJ")
    assert pj and all(c["tipo_pessoa"] == "PJ" for c in pj)
    lojas = client.get(f"{API}/lojas", headers=gc_headers()).get_json()
    assert lojas["data"] and lojas["meta"]["total_registros"] == len(lojas["data"])


def test_not_found_errors(make_client):
    client = make_client(gc_rate_limit=0)
    for path in ("/vendas/1", "/nao_existe", "/clientes?pagina=abc"):
        resp = client.get(API + path, headers=gc_headers())
        assert resp.status_code == 404
        body = resp.get_json()
        assert body == {
            "code": 404,
            "status": "error",
            "data": {"erro": "Not Found", "mensagem": body["data"]["mensagem"]},
        }


def test_per_second_and_daily_limits(make_client, clock):
    client = make_client(gc_rate_limit=3, gc_daily_limit=6)
    statuses = [client.get(f"{API}/lojas", headers=gc_headers()).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    body = client.get(f"{API}/lojas", headers=gc_headers()).get_json()
    assert (
        body["code"] == 429 and body["data"]["mensagem"] == "O limite de requisicoes foi atingido"
    )
    clock.advance(1)
    assert client.get(f"{API}/lojas", headers=gc_headers()).status_code == 200
    clock.advance(1)
    daily = client.get(f"{API}/lojas", headers=gc_headers())
    assert daily.status_code == 429  # 7th request of the day (refused ones count too)
    clock.advance(86400)
    assert client.get(f"{API}/lojas", headers=gc_headers()).status_code == 200


def test_last_page_of_100k_produtos_is_built_lazily(make_client, monkeypatch):
    from emulator.datasets import GestaoClickData

    client = make_client(gc_products=100_000, gc_sales=100_000, gc_rate_limit=0)
    built = count_calls(monkeypatch, GestaoClickData, "produto")
    resp = client.get(f"{API}/produtos", query_string={"pagina": 1000}, headers=gc_headers())
    vendas = client.get(
        f"{API}/vendas", query_string={"pagina": 1, "tipo": "servico"}, headers=gc_headers()
    )
    meta = resp.get_json()["meta"]
    assert meta["total_paginas"] == 1000 and meta["proxima_pagina"] is None
    assert resp.get_json()["data"][-1]["id"] == str(1_238_000 + 99_999)
    assert vendas.status_code == 200
    assert 0 < built[0] <= 600  # only the requested page is built, not 100k rows
