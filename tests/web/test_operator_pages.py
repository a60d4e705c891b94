"""The operator's /ativacoes and /webhooks pages."""

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, OutboxEmail, Sale, WebhookEvent
from tests.conftest import Auth, csrf_token, load_fixture


@pytest.fixture
def operator(webhook_app, send_webhook):
    client = send_webhook.client
    Auth(webhook_app, client).operator()
    return client


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/ativacoes"), **data})


def test_activations_list_search_and_filters(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    body = load_fixture("kirvano", "sale_approved")
    body["customer"]["email"] = "joao@example.com"
    body["customer"]["name"] = "João Lima"
    send_webhook("kirvano", body)
    page = operator.get("/ativacoes").get_data(as_text=True)
    assert "maria@example.com" in page and "joao@example.com" in page
    assert "Links criados" in page
    only = operator.get("/ativacoes?q=joão").get_data(as_text=True)
    assert "joao@example.com" in only and "maria@example.com" not in only
    by_tx = operator.get("/ativacoes?q=HP1601547").get_data(as_text=True)
    assert "maria@example.com" in by_tx and "joao@example.com" not in by_tx
    kirvano = operator.get("/ativacoes?platform=kirvano&status=pending").get_data(as_text=True)
    assert "joao@example.com" in kirvano and "maria@example.com" not in kirvano
    none = operator.get("/ativacoes?status=used").get_data(as_text=True)
    assert "com estes filtros" in none


def test_operator_resend_revoke_and_change_email(operator, send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    link = db.session.scalar(select(ActivationLink))
    old_path = re.search(r"(/ativar/\S+)", smtp_server.text_of(smtp_server.messages[0]))[1]

    response = _post(operator, f"/ativacoes/{link.id}/email", email="Maria.Nova@Example.com")
    assert response.status_code == 302
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["To"] == "maria.nova@example.com"
    assert operator.get(old_path).status_code == 410
    newest = db.session.scalar(select(ActivationLink).order_by(ActivationLink.id.desc()))
    assert newest.buyer_email == "maria.nova@example.com" and newest.status == "pending"
    assert newest.sale.buyer_email == "maria.nova@example.com"

    _post(operator, f"/ativacoes/{newest.id}/reenviar")
    assert len(smtp_server.messages) == 3
    latest = db.session.scalar(select(ActivationLink).order_by(ActivationLink.id.desc()))
    assert latest.id != newest.id and latest.status == "pending"

    _post(operator, f"/ativacoes/{latest.id}/revogar")
    assert db.session.get(ActivationLink, latest.id).status == "revoked"
    invalid = _post(operator, f"/ativacoes/{latest.id}/email", email="não é e-mail")
    assert invalid.status_code == 302
    listing = operator.get("/ativacoes")
    assert listing.status_code == 200  # revoked links (with their reason) render
    assert "válido" in listing.get_data(as_text=True)
    assert "pelo operador" in listing.get_data(as_text=True)
    assert operator.get("/ativacoes?status=revoked").status_code == 200


def test_back_parameter_cannot_redirect_off_site(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    link = db.session.scalar(select(ActivationLink))
    response = _post(operator, f"/ativacoes/{link.id}/revogar", back="https://evil.example.com")
    assert response.headers["Location"] == "/ativacoes"


def test_csv_export_respects_filters_and_neutralizes_formulas(operator, send_webhook):
    body = load_fixture("hotmart", "purchase_approved")
    body["data"]["buyer"]["name"] = '=HYPERLINK("http://x")'
    send_webhook("hotmart", body)
    response = operator.get("/ativacoes/exportar.csv?platform=hotmart")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    lines = text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("id;email;nome")
    assert len(lines) == 2 and "maria@example.com" in lines[1]
    assert "'=HYPERLINK" in lines[1] and ";=HYPERLINK" not in lines[1]
    assert "Pendente" in lines[1]
    empty = operator.get("/ativacoes/exportar.csv?platform=kiwify").get_data(as_text=True)
    assert len(empty.strip().splitlines()) == 1


def test_failed_email_is_visible_and_can_be_retried(operator, send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    email = db.session.scalar(select(OutboxEmail))
    email.status, email.last_error, email.attempts = "failed", "SMTPServerDisconnected", 8
    db.session.commit()
    page = operator.get("/ativacoes").get_data(as_text=True)
    assert "E-mails que falharam" in page and "SMTPServerDisconnected" in page
    _post(operator, f"/ativacoes/emails/{email.id}/reenviar")
    assert db.session.get(OutboxEmail, email.id).status == "sent"
    assert len(smtp_server.messages) == 2


def test_webhook_inbox_detail_and_replay(operator, send_webhook):
    send_webhook("kiwify", "order_approved")
    send_webhook("kiwify", "pix_created")
    page = operator.get("/webhooks").get_data(as_text=True)
    approved, pix = 'data-label="Evento">Compra aprovada<', 'data-label="Evento">PIX gerado<'
    assert approved in page and pix in page  # the events by name, never their codes
    assert "order_approved" not in page and "pix_created" not in page
    assert "/webhook/kiwify" in page
    failed_only = operator.get("/webhooks?status=ignored").get_data(as_text=True)
    assert pix in failed_only and approved not in failed_only
    event = db.session.scalar(
        select(WebhookEvent).where(WebhookEvent.event_type == "order_approved")
    )
    detail = operator.get(f"/webhooks/{event.id}").get_data(as_text=True)
    assert "aac95806-d613-4cc6-80f9-f74882dbbce2" in detail and "Reprocessar" in detail
    technical = detail.split("data-technical-details", 1)[1]
    assert "<code>order_approved</code>" in technical  # the code, under Detalhes técnicos
    token = csrf_token(operator, f"/webhooks/{event.id}")
    response = operator.post(f"/webhooks/{event.id}/reprocessar", data={"csrf_token": token})
    assert response.status_code == 302
    event = db.session.get(WebhookEvent, event.id)
    assert event.attempts == 2 and event.status == "processed"
    assert db.session.scalar(select(db.func.count(ActivationLink.id))) == 1  # idempotent


@pytest.mark.parametrize("platform", ["hotmart", "kiwify", "kirvano"])
def test_send_test_webhook_goes_through_the_real_receiver(platform, operator, smtp_server):
    token = csrf_token(operator, "/webhooks")
    response = operator.post(
        "/webhooks/teste",
        data={
            "csrf_token": token,
            "platform": platform,
            "event": "approved",
            "email": "teste@example.com",
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "processed" and event.platform == platform
    assert event.auth_location
    assert smtp_server.messages[-1]["To"] == "teste@example.com"
    assert db.session.scalar(select(Sale.buyer_name)) == "Comprador de teste"
    page = operator.get(f"/webhooks/{event.id}").get_data(as_text=True)
    assert (
        "recebido: aceito e processado. Um e-mail de ativação de teste foi enviado para "
        "teste@example.com." in page
    )


def test_send_test_webhook_requires_a_secret(app, client):
    Auth(app, client).operator()
    token = csrf_token(client, "/webhooks")
    response = client.post(
        "/webhooks/teste", data={"csrf_token": token, "platform": "kiwify", "event": "approved"}
    )
    assert response.status_code == 302
    assert "Configure o segredo" in client.get("/webhooks").get_data(as_text=True)
    bad = client.post(
        "/webhooks/teste", data={"csrf_token": token, "platform": "x", "event": "approved"}
    )
    assert bad.status_code == 400


def test_reports_page_shows_funnel_and_chart_data(operator, send_webhook, smtp_server):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("kiwify", "order_approved")
    page = operator.get("/relatorios?dias=7").get_data(as_text=True)
    assert "Links criados" in page and "data-chart=" in page
    assert "Curso Exemplo" in page and "chart.umd.min.js" in page
    # "Por produto": two "Curso Exemplo" rows, each with a short code of its product
    assert page.count('<div class="small text-secondary">código ') == 2
    assert operator.get("/relatorios?dias=abc").status_code == 200


def test_sales_page_lists_every_platform_with_totals_and_detail(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("kiwify", "order_approved")
    send_webhook("kirvano", "sale_approved")
    send_webhook("kirvano", "sale_refunded")
    page = operator.get("/vendas").get_data(as_text=True)
    for tx in ("HP16015479281022", "aac95806-d613-4cc6-80f9-f74882dbbce2", "ABC12345"):
        assert tx in page
    assert "R$\xa0394,00" in page  # 197 + 197 approved; the refunded Kirvano sale is out
    assert "Vendas ativas (em reais)" in page and "2 vendas aprovadas nesta busca" in page
    assert "Reembolsada" in page
    filtered = operator.get("/vendas?platform=kiwify").get_data(as_text=True)
    assert "aac95806" in filtered and "HP16015479281022" not in filtered
    assert "HP1601" not in operator.get("/vendas?de=2000-01-01&ate=2000-01-02").get_data(
        as_text=True
    )
    sale = db.session.scalar(select(Sale).where(Sale.platform == "kirvano"))
    detail = operator.get(f"/vendas/{sale.id}").get_data(as_text=True)
    assert "Reembolsada" in detail and "· Reembolso</span>" in detail
    assert "SALE_REFUNDED" not in detail  # the event's code is on its webhook page
    assert operator.get("/vendas/999999").status_code == 404
    assert operator.get("/vendas?de=lixo").status_code == 200


def test_overview_shows_figures_alerts_and_recent_sales(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("kiwify", "order_approved")
    send_webhook("kiwify", "order_refunded")
    body = load_fixture("hotmart", "purchase_approved")
    body["id"] = "no-email"
    del body["data"]["buyer"]["email"]
    send_webhook("hotmart", body)  # 422, stored as failed
    page = operator.get("/").get_data(as_text=True)
    assert "R$\xa0197,00" in page  # the refunded Kiwify sale is not revenue
    assert "1 evento de webhook com falha aguarda" in page
    assert "Reembolsada" in page and "Aprovada" in page
    assert "Configurado" in page  # webhook secrets of Kiwify/Kirvano are set


def test_labels_are_portuguese_on_sales_and_events(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    sale = db.session.scalar(select(Sale))
    detail = operator.get(f"/vendas/{sale.id}").get_data(as_text=True)
    assert "PIX" in detail and "Pendente" in detail and "Webhook da plataforma" in detail
    event = db.session.scalar(select(WebhookEvent))
    assert "Liberar acesso" in operator.get(f"/webhooks/{event.id}").get_data(as_text=True)


def test_settings_reject_invalid_urls_and_numbers(operator):
    token = csrf_token(operator, "/configuracoes")
    bad_timeout = operator.post(
        "/configuracoes/kommo", data={"csrf_token": token, "KOMMO_TIMEOUT": "abc"}
    )
    assert bad_timeout.status_code == 422 and "número" in bad_timeout.get_data(as_text=True)
    bad_url = operator.post(
        "/configuracoes/gestao_click",
        data={"csrf_token": token, "GESTAOCLICK_API_URL": "not a url"},
    )
    assert bad_url.status_code == 422
    good = operator.post(
        "/configuracoes/kommo",
        data={"csrf_token": token, "KOMMO_API_URL": "acme", "KOMMO_TIMEOUT": "20"},
    )
    assert good.status_code == 302


def test_member_error_page_links_to_their_account(app, client):
    Auth(app, client).member()
    page = client.get("/").get_data(as_text=True)
    assert 'href="/conta"' in page


def test_test_webhooks_are_marked_and_hit_the_same_sale(operator, smtp_server):
    token = csrf_token(operator, "/webhooks")
    for event in ("approved", "refunded"):
        operator.post(
            "/webhooks/teste",
            data={
                "csrf_token": token,
                "platform": "kiwify",
                "event": event,
                "email": "qa@example.com",
            },
        )
    sale = db.session.scalar(select(Sale))
    assert sale.transaction_id.startswith("TESTE-") and sale.status == "refunded"
    assert db.session.scalar(select(func.count(Sale.id))) == 1


def test_operator_copies_a_fresh_link_to_send_by_whatsapp(operator, send_webhook, smtp_server):
    from app.models import AuditEntry

    send_webhook("hotmart", "purchase_approved")
    link = db.session.scalar(select(ActivationLink))
    old_path = re.search(r"(/ativar/\S+)", smtp_server.text_of(smtp_server.messages[0]))[1]
    assert "Copiar novo link" in operator.get("/ativacoes").get_data(as_text=True)

    response = _post(operator, f"/ativacoes/{link.id}/copiar-link")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    new_url = re.search(r'value="(http[^"]+/ativar/[^"]+)"', html)[1]
    assert "nenhum e-mail foi enviado" in html and "wa.me/" in html
    assert 'data-replace-url="/ativacoes"' in html  # a reload never mints another link
    assert len(smtp_server.messages) == 1  # nothing e-mailed
    assert operator.get(old_path).status_code == 410  # the old link stopped working
    new_path = new_url.split("127.0.0.1", 1)[-1].split("localhost", 1)[-1]
    new_path = new_path[new_path.index("/ativar/") :]
    assert operator.get(new_path).status_code == 200
    newest = db.session.scalar(select(ActivationLink).order_by(ActivationLink.id.desc()))
    assert newest.id != link.id and newest.status == "pending"
    assert db.session.get(ActivationLink, link.id).replaced_by_id == newest.id
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert entry.action == "activation.link_copied" and entry.target_id == str(link.id)
    assert new_url.rsplit("/", 1)[-1] not in str(entry.details)  # the token is never logged


def test_copy_link_of_a_refunded_purchase_is_refused(operator, send_webhook):
    send_webhook("hotmart", "purchase_approved")
    send_webhook("hotmart", "purchase_refunded")
    link = db.session.scalar(select(ActivationLink))
    response = _post(operator, f"/ativacoes/{link.id}/copiar-link")
    assert response.status_code == 302
    page = operator.get("/ativacoes").get_data(as_text=True)
    assert "não está mais ativa" in page
    assert db.session.scalar(select(func.count()).select_from(ActivationLink)) == 1


def test_resend_says_queued_and_warns_when_email_is_not_configured(
    webhook_app, send_webhook, operator
):
    send_webhook("hotmart", "purchase_approved")
    link = db.session.scalar(select(ActivationLink))
    assert _post(operator, f"/ativacoes/{link.id}/reenviar").status_code == 302
    assert "na fila de envio" in operator.get("/ativacoes").get_data(as_text=True)

    newest = db.session.scalar(select(ActivationLink).order_by(ActivationLink.id.desc()))
    webhook_app.config["SMTP_HOST"] = None  # e-mail not configured
    _post(operator, f"/ativacoes/{newest.id}/reenviar")
    text = operator.get("/ativacoes").get_data(as_text=True)
    assert "o e-mail não está configurado" in text and "Copiar novo link" in text
