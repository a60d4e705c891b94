"""The shared part of the API integration pages: one skeleton
(``templates/integrations/page.html``) rendered from the declaration in ``app.registry``.

A page view picks its tab (``current_tab``), builds that tab's data and calls ``render``,
which adds what every integration page shows: the overview and truthful status
(``services.integration.overview``), the "Sincronizar" rows with the last run and the run
going on, and the tabs with their counts.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from app.registry import Integration
from app.services import integration


def tabs(integ: Integration) -> dict[str, str]:
    return {key: label for key, label, _ in integ.page.tabs}


def current_tab(integ: Integration) -> str:
    """The ``?aba=`` asked for, else the first tab."""
    keys = [key for key, _, _ in integ.page.tabs]
    tab = request.args.get("aba", keys[0])
    return tab if tab in keys else keys[0]


def render(integ: Integration, tab: str, counts: dict[str, Any], **context: Any) -> str:
    """The page; ``counts`` by the tabs' count keys (a number, or ``(n, capped)``)."""
    return render_template(
        integ.page.template,
        integration=integ,
        tab=tab,
        tabs=tabs(integ),
        tab_counts={key: counts[count_key] for key, _, count_key in integ.page.tabs},
        counts=counts,
        info=integration.overview(integ),
        resources=integration.sync_rows(integ),
        **context,
    )
