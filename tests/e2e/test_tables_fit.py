"""Every list of the panel fits the screen (templates/_tables.html): at 390 px nothing scrolls
sideways and each row is a card whose cells all say which column they are; at 1366 px no
table is wider than its box (no clipped column) and the navbar is one line."""

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AuditEntry, Sale, WebhookEvent
from app.models.types import utcnow
from tests import seeds
from tests.conftest import Auth, WebhookSender, load_fixture
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

LONG_EMAIL = "um.nome.bem.comprido.de.comprador@exemplo-de-dominio-comprido.com.br"

# (path, a selector that must be on the page: the list really rendered)
PAGES = [
    ("/", "[data-sales-charts] table.table-stack"),
    ("/vendas", "table.table-stack"),
    ("/ativacoes", "table.table-stack"),
    ("/webhooks", "table.table-stack"),
    ("/sincronizacoes", "table.table-stack"),
    ("/clientes", "#clientes-q"),
    ("/relatorios", "[data-sales-charts] table.table-stack"),
    ("/auditoria", "table.table-stack"),
    ("/configuracoes", "table.table-stack"),
    ("/equipe", "table.table-stack"),
    ("/hotmart?aba=produtos", "table.table-stack"),
    ("/hotmart?aba=vendas", "table.table-stack"),
    ("/hotmart?aba=assinaturas", "table.table-stack"),
    ("/kommo?aba=contatos", "table.table-stack"),
    ("/kommo?aba=negocios", "table.table-stack"),
    ("/gestao-click?aba=vendas", "table.table-stack"),
    ("/gestao-click?aba=clientes", "table.table-stack"),
    ("/gestao-click?aba=produtos", "table.table-stack"),
]


def _seed(app):
    sender = WebhookSender(app.test_client())
    sender("hotmart", "purchase_approved")
    sender("hotmart", "purchase_refunded")
    body = load_fixture("kirvano", "sale_approved")
    body["customer"]["email"] = LONG_EMAIL
    sender("kirvano", body)
    now = utcnow()
    db.session.add_all(
        [
            seeds.sale(
                "KW-" + "9" * 40,
                platform="kiwify",
                buyer_email=LONG_EMAIL,
                buyer_name="Compradora Com Um Nome Bastante Comprido Da Silva",
                product_name="Curso Completo de Algo Com Um Nome Muito Longo Mesmo — Turma 2026",
                amount_cents=123_456_789,
                payment_method="credit_card",
                ordered_at=now - timedelta(days=3),
                approved_at=now - timedelta(days=3),
            ),
            seeds.hotmart_product(
                remote_id="4722320",
                ucode="b9c9ebff-42d8-4721-94aa-b99e15397cb4",
                name="Clube de Assinantes Premium — Turma 2026 com nome longo",
                price_cents=9_700,
            ),
            seeds.hotmart_subscription(
                subscriber_code="SUB" + "7" * 20,
                product_id="4722320",
                product_name="Clube de Assinantes Premium",
                buyer_email=LONG_EMAIL,
            ),
            seeds.kommo_contact(name="Contato Com Nome Longo", email=LONG_EMAIL),
            seeds.kommo_lead(name="Negócio de exemplo com nome comprido"),
            seeds.gc_sale(
                cliente_nome="Cliente Comprido Ltda", tipo=None, data=None, valor_total_cents=None
            ),
            seeds.gc_client(nome="Cliente Comprido Ltda", email=LONG_EMAIL),
            seeds.gc_product(nome="Produto físico com nome bem comprido"),
            seeds.failed_sync_run(failed_count=3),
            AuditEntry(
                actor_email=LONG_EMAIL,
                action="settings.saved",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            ),
        ]
    )
    db.session.commit()
    Auth(app, app.test_client()).create()


def _open_chart_tables(page):
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth - window.innerWidth,
  boxes: [...document.querySelectorAll('.table-responsive')]
    .filter((box) => box.offsetParent && box.scrollWidth > box.clientWidth + 1)
    .map((box) => (box.querySelector('table') || box).className),
  unlabelled: [...document.querySelectorAll('table.table-stack tbody td:not([data-label])')]
    .map((td) => td.textContent.trim().slice(0, 40)),
  // A filter's placeholder wider than its field (cut off) and a control without a visible label.
  truncated: [...document.querySelectorAll('main input[placeholder]')]
    .filter((input) => input.offsetParent && !input.value)
    .filter((input) => {
      const style = getComputedStyle(input);
      const context = document.createElement('canvas').getContext('2d');
      context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const room = input.clientWidth - padding;
      return context.measureText(input.placeholder).width > room + 1;
    })
    .map((input) => input.placeholder),
  hidden_labels: [...document.querySelectorAll('main form[method=get] :is(input, select)')]
    .filter((control) => control.type !== 'hidden')
    .filter((control) => control.offsetParent)
    .filter((control) => {
      const label = control.id && document.querySelector(`label[for="${control.id}"]`);
      return !label || !label.offsetParent || label.getBoundingClientRect().width < 2;
    })
    .map((control) => control.name),
})"""


def test_every_list_fits_a_phone_and_a_laptop(live_app, page, tmp_path):
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    assert page.locator("nav.navbar").bounding_box()["height"] < 70  # one line
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path, selector in PAGES:
            page.goto(base + path)
            _open_chart_tables(page)
            assert page.locator(selector).count(), (path, "no list rendered")
            name = path.strip("/").replace("?aba=", "-") or "visao-geral"
            page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
            found = page.evaluate(OVERFLOW)
            assert found["page"] <= 0, (path, width, "page scrolls sideways")
            assert found["boxes"] == [], (path, width, "a table is wider than its box")
            assert found["unlabelled"] == [], (path, "cells without data-label")
            assert found["truncated"] == [], (path, width, "placeholder cut off")
            assert found["hidden_labels"] == [], (path, width, "filter without a visible label")
    # The detail pages: a webhook with its technical disclosure open, a sale.
    event = db.session.scalar(db.select(WebhookEvent.id).order_by(WebhookEvent.id))
    sale = db.session.scalar(db.select(Sale.id).order_by(Sale.id))
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in (f"/webhooks/{event}", f"/vendas/{sale}"):
            page.goto(base + path)
            _open_chart_tables(page)  # opens every <details>, "Detalhes técnicos" too
            assert page.evaluate(OVERFLOW)["page"] <= 0, (path, width, "page scrolls sideways")
    # On the phone a row is a card: its cells stack inside the screen, the label beside them.
    page.goto(base + "/vendas")
    cell = page.locator("td[data-label='Comprador']").first
    box = cell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    label = cell.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label == '"Comprador"'
    assert page.locator("table.table-stack thead").first.is_hidden()
    page.goto(base + "/")
    _open_chart_tables(page)
    period = page.locator("[data-chart-card=receita] tbody th").first.bounding_box()
    value = page.locator("[data-chart-card=receita] tbody td").first.bounding_box()
    assert period["y"] < value["y"]  # the period is the card's title, its values below
    assert page.console_errors == []


NAV_FITS = """() => {
  const nav = document.querySelector('nav.navbar');
  const inner = nav.querySelector('.container-fluid');
  const right = [...inner.children]
    .reduce((m, el) => Math.max(m, el.getBoundingClientRect().right), 0);
  const root = document.documentElement;
  return {height: nav.getBoundingClientRect().height, right, width: root.clientWidth,
          page: root.scrollWidth - root.clientWidth};
}"""


def test_the_navbar_fits_every_laptop_width(live_app, page):
    """From a small laptop to a wide screen the bar is one line, nothing past the screen's
    edge (a long operator name is truncated), and the page does not scroll sideways."""
    _seed(live_app)
    base = live_app.live_url
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, base)
    for width in (1024, 1152, 1200, 1280, 1366, 1440, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(base + "/")
        found = page.evaluate(NAV_FITS)
        assert found["height"] < 70, (width, found)
        assert found["right"] <= found["width"] + 0.5, (width, found)
        assert found["page"] <= 0, (width, found)
