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


@pytest.mark.parametrize("path", ["/vendas", "/ativacoes", "/webhooks"])
def test_list_filters_have_visible_labels(app, auth, client, path):
    auth.operator()
    html = client.get(path).get_data(as_text=True)
    form = re.search(r'<form[^>]*role="search".*?</form>', html, re.S)[0]
    for ident in re.findall(r'<(?:select|input)[^>]*\sid="([^"]+)"', form):
        assert f'for="{ident}"' in form, ident
    assert "aria-label" not in form
