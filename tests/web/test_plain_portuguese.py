"""What a seller reads: no server variable names in the settings' main text, event names and
platforms in Portuguese, every list filter with a visible label."""

import re

import pytest

from app.formatting import event_label, platform_label
from app.registry import integration_vars


@pytest.mark.parametrize(
    "code, label",
    [
        ("PURCHASE_REFUNDED", "Reembolso"),
        ("order_refunded", "Reembolso"),
        ("myeduzz.invoice_paid", "Compra aprovada"),
        ("SALE_CHARGEBACK", "Chargeback"),
        ("PURCHASE_BILLET_PRINTED", "Boleto gerado"),
        ("subscription_canceled", "Assinatura cancelada"),
        ("sync", "Sincronização"),
        ("SOMETHING_NEW", "Evento da plataforma"),
        (None, "—"),
    ],
)
def test_event_names_read_in_portuguese(code, label):
    assert event_label(code) == label


def test_platform_labels():
    assert platform_label("gestao_click") == "Gestão Click"
    assert platform_label("kiwify") == "Kiwify"


def test_settings_keep_variable_names_in_technical_details(app, auth, client):
    auth.operator()
    html = client.get("/configuracoes").get_data(as_text=True)
    outside = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    outside = re.sub(r'(id|name|for)="[^"]*"', "", outside)  # form plumbing, not text
    for key in integration_vars():
        assert key not in outside, key
        assert f"<code>{key}</code>" in html  # still there, under "Detalhes técnicos"
    assert "variáveis de ambiente" not in outside


FILTERED_LISTS = [
    "/vendas",
    "/ativacoes",
    "/webhooks",
    "/sincronizacoes",
    "/auditoria",
    "/clientes",
    "/assinaturas",
    "/relatorios",
    "/",
    "/hotmart?aba=produtos",
    "/hotmart?aba=assinaturas",
    "/kommo?aba=contatos",
    "/kommo?aba=negocios",
    "/gestao-click?aba=vendas",
    "/gestao-click?aba=clientes",
    "/gestao-click?aba=produtos",
]


@pytest.mark.parametrize("path", FILTERED_LISTS)
def test_list_filters_have_visible_labels(app, auth, client, path):
    """Every control of a page's filter forms (GET forms, the navbar's search aside) has a
    visible label of its own: no aria-label standing in, no visually-hidden label."""
    auth.operator()
    html = client.get(path).get_data(as_text=True)
    main = html.split("<main", 1)[1]
    forms = re.findall(r'<form[^>]*method="get".*?</form>', main, re.S)
    assert forms, path
    for form in forms:
        assert "aria-label" not in form, path
        controls = re.findall(r"<(?:select|input|textarea)\b[^>]*>", form)
        for control in controls:
            if 'type="hidden"' in control:
                continue
            ident = re.search(r'\sid="([^"]+)"', control)
            assert ident, (path, control)
            label = re.search(rf'<label([^>]*)for="{ident[1]}"', form)
            assert label, (path, ident[1])
            assert "visually-hidden" not in label[1], (path, ident[1])


# The query parameters of each shared filter form (templates/_filters.html), in order.
FILTER_FIELDS = {
    "/ativacoes": ["q", "status", "platform", "product", "ordem", "dir"],
    "/webhooks": ["q", "platform", "status", "ordem", "dir"],
    "/assinaturas": ["periodo", "platform", "status", "product", "plan", "ordem", "dir"],
}


@pytest.mark.parametrize("path", sorted(FILTER_FIELDS))
def test_list_filters_share_one_form(app, auth, client, path):
    """Same form on the three lists: same fields (names = query parameters), same layout, and
    the chosen filters come back selected."""
    auth.operator()
    status = {"/ativacoes": "expired", "/webhooks": "failed", "/assinaturas": "overdue"}[path]
    html = client.get(f"{path}?q=ana&platform=hotmart&status={status}").get_data(as_text=True)
    form = re.search(r'<form class="row g-2 mb-3 align-items-end" method="get" role="search">'
                     r".*?</form>", html, re.S)[0]  # fmt: skip
    names = re.findall(r'<(?:select|input)[^>]*\sname="([^"]+)"', form)
    assert names == FILTER_FIELDS[path]
    assert '<option value="hotmart" selected>Hotmart</option>' in form
    assert f'<option value="{status}" selected>' in form
    assert '<div class="col-6 col-md-auto d-grid"><button class="btn btn-primary" type="submit">' \
        "Filtrar</button></div>" in form  # fmt: skip
    if "q" in names:
        assert 'value="ana"' in form and '<div class="col-12 col-md-4"><label' in form
    selects = len(re.findall(r"<select ", form)) - 2  # less the phone's two sort selects
    assert form.count('<div class="col-6 col-md">') == selects
