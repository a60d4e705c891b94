"""/clientes?q= (search) and /clientes/<key> (one person), plus ``flask customers rebuild``."""

from __future__ import annotations

import click
from flask import abort, render_template, request

from app.customers import bp
from app.formatting import SALE_STATUS_LABELS
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
