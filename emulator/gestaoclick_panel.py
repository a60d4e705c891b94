"""The Gestão Click *panel* (the web app a seller opens, not the API): the page of one venda,
``/gestaoclick/vendas_produtos/visualizar/<id>`` and ``/vendas_servicos/visualizar/<id>``, so
the links /automacoes draws to a pushed venda open something in tests and demos.

The real panel lives at ``https://gestaoclick.com`` behind the seller's login; its paths
follow ``/vendas_servicos/adicionar`` (seen in public automation code), the view path is
unverified. The page shows what the API wrote (``gestaoclick_writes``) as plain HTML; a venda
of the other tipo, or unknown, is a 404 page.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Flask, Response

from . import gestaoclick_writes

bp = Blueprint("gestaoclick_panel", __name__, url_prefix="/gestaoclick")


def _page(title: str, body: str, status: int = 200) -> Response:
    html = (
        '<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">'
        f"<title>{escape(title)} — GestãoClick (emulador)</title></head><body>{body}</body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


@bp.get("/vendas_<tipo>s/visualizar/<ident>")
def venda(tipo: str, ident: str) -> Response:
    record = gestaoclick_writes.find("vendas", ident)
    if record is None or tipo not in ("produto", "servico") or record["tipo"] != tipo:
        return _page("Página não encontrada", "<h1>Página não encontrada</h1>", 404)
    lines = record["produtos"] if tipo == "produto" else record["servicos"]
    items = "".join(
        "<li>{}</li>".format(
            escape(str(line[tipo].get("nome_produto") or line[tipo].get("nome_servico") or ""))
        )
        for line in lines
    )
    body = (
        f'<h1 id="venda">Venda nº {escape(record["codigo"])}</h1>'
        f'<p id="cliente">Cliente: {escape(record["nome_cliente"])}</p>'
        f'<p id="situacao">Situação: {escape(record["nome_situacao"])}</p>'
        f'<p id="total">Valor total: R$ {escape(record["valor_total"].replace(".", ","))}</p>'
        f"<ul>{items}</ul>"
    )
    return _page(f"Venda nº {record['codigo']}", body)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
