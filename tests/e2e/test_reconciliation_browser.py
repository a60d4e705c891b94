"""/relatorios' "Vendas sem acesso" in a browser: two approved sales the webhooks never
delivered (synced from the Hotmart history), one sent from the list by its checkbox, then the
rest with "Enviar links para todos" — each buyer's activation e-mail reaches the SMTP server,
no sale gets a second link, and the section ends with "Tudo certo"."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ActivationLink, Sale
from app.models.types import utcnow
from app.services import outbox
from tests.conftest import Auth
from tests.e2e.conftest import login

pytestmark = pytest.mark.browser

BUYERS = ("paga.sem.webhook@example.com", "outra.sem.webhook@example.com")


def _seed_gaps() -> None:
    when = utcnow() - timedelta(hours=5)
    for i, email in enumerate(BUYERS):
        db.session.add(
            Sale(
                platform="hotmart",
                transaction_id=f"HP-GAP-{i}",
                status="approved",
                buyer_email=email,
                buyer_name=f"Compradora {i}",
                product_id="4321",
                product_name="Curso de confeitaria",
                amount_cents=29700,
                currency="BRL",
                payment_method="pix",
                approved_at=when,
                status_at=when,
            )
        )
    db.session.commit()


def _links(transaction_id: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(ActivationLink.id))
        .join(Sale, Sale.id == ActivationLink.sale_id)
        .where(Sale.transaction_id == transaction_id)
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_send_links_to_buyers_without_access(live_app, page, smtp_server, width):
    _seed_gaps()
    Auth(live_app, live_app.test_client()).create()
    base = live_app.live_url
    page.set_viewport_size({"width": width, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # the "Enviar…?" confirmations
    login(page, base)

    page.goto(base + "/relatorios#vendas-sem-acesso")
    section = page.locator("#vendas-sem-acesso")
    for email in BUYERS:
        assert email in section.inner_text()
    assert "Enviar links para todos (2)" in section.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # One buyer, picked by the checkbox of her row.
    section.get_by_label(BUYERS[0]).first.check()
    section.locator("button", has_text="Enviar links para os selecionados").click()
    page.wait_for_load_state()
    assert (
        "1 comprador vai receber o acesso por e-mail (na fila de envio)"
        in page.locator(".alert-dismissible").first.inner_text()
    )
    assert _links("HP-GAP-0") == 1 and _links("HP-GAP-1") == 0
    section = page.locator("#vendas-sem-acesso")
    assert BUYERS[0] not in section.inner_text() and BUYERS[1] in section.inner_text()

    # The rest, all at once; a second click has nothing left to send.
    section.locator("button", has_text="Enviar links para todos").click()
    page.wait_for_load_state()
    assert "Tudo certo" in page.locator("#vendas-sem-acesso").inner_text()
    assert _links("HP-GAP-0") == 1 and _links("HP-GAP-1") == 1

    with live_app.app_context():
        outbox.send_pending()
    received = {str(message["To"]) for message in smtp_server.messages}
    assert set(BUYERS) <= received
    assert all("/ativar/" in smtp_server.text_of(m) for m in smtp_server.messages)
