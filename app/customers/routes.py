"""/clientes?q= (search) and /clientes/<key> (one person), plus ``flask customers rebuild``."""

from __future__ import annotations

import click
from flask import abort, render_template, request

from app import csv_export
from app.customers import bp
from app.formatting import DISPLAY_TZ, SALE_STATUS_LABELS, platform_label
from app.services import access_grants
from app.services.customers import index, lookup

SOURCE_LABELS = {"sale": "Venda", "kommo": "Kommo", "gc": "Gestão Click"}
KIND_LABELS = {"email": "E-mail", "phone": "Telefone", "doc": "CPF/CNPJ", "name": "Nome"}


@bp.get("/clientes")
def index_page():
    q = request.args.get("q", "").strip()[:200]
    page, hits = lookup.search(q) if q else (None, [])
    return render_template(
        "customers/index.html",
        q=q,
        page=page,
        hits=hits,
        args={"q": q},
        source_labels=SOURCE_LABELS,
        kind_labels=KIND_LABELS,
    )


EXPORT_HEADER = ("Nome", "E-mail", "Telefone", "CPF/CNPJ", "Origem", "Encontrado por", "Produto")


def _export_row(hit) -> tuple:
    r = hit.record
    if hit.source == "sale":
        name, email, phone, doc = r.buyer_name, r.buyer_email, r.buyer_phone, r.buyer_document
        origin = f"{SOURCE_LABELS['sale']} · {platform_label(r.platform)}"
        product = r.product_name
    elif hit.source == "kommo":
        name, email, phone, doc, origin, product = r.name, r.email, r.phone, None, "Kommo", None
    else:
        name, email, doc, product = r.nome, r.email, r.cpf_cnpj, None
        phone, origin = r.celular or r.telefone, SOURCE_LABELS["gc"]
    kind = KIND_LABELS[hit.kind]
    return (name or "", email or "", phone or "", doc or "", origin, kind, product or "")


@bp.get("/clientes/exportar.csv")
def export_csv():
    """Every person the search finds (not only the page shown), as CSV, in batches."""
    from datetime import datetime

    q = request.args.get("q", "").strip()[:200]
    rows = map(_export_row, lookup.search_all(q))  # lazy: search_all is a generator
    now = datetime.now(DISPLAY_TZ)
    return csv_export.stream(EXPORT_HEADER, rows, f"clientes-{now:%Y%m%d-%H%M}.csv")


@bp.get("/clientes/<path:key>")
def detail(key: str):
    person = lookup.resolve(key[:300])
    if person is None:
        abort(404)
    profile = lookup.profile(person)
    return render_template(
        "customers/detail.html",
        p=profile,
        statuses=SALE_STATUS_LABELS,
        grants=access_grants.sale_grants(profile.sales),
    )


@bp.cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every customer key (e-mail, phone, CPF/CNPJ, name) from sales, Kommo
    contacts and Gestão Click clients."""
    counts = index.rebuild()
    click.echo(
        "chaves de clientes recalculadas: "
        + ", ".join(f"{SOURCE_LABELS[s]} {n}" for s, n in counts.items())
    )
