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
