"""The "Baixar CSV" buttons download the filtered list, and the set-up guides fit at 1366 and
390 px (no sideways scroll)."""

import pytest

from app.extensions import db
from app.inbox.guides import GUIDES
from app.models import Sale
from tests.conftest import WEBHOOK_SECRETS
from tests.e2e.conftest import serving, setup_operator

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_download_and_guides_fit(app_factory, page, shots):
    with serving(app_factory, **WEBHOOK_SECRETS) as app:
        url = app.live_url
        for tx, platform in (("HP-1", "hotmart"), ("KW-2", "kiwify")):
            db.session.add(
                Sale(
                    platform=platform,
                    transaction_id=tx,
                    status="approved",
                    buyer_email=f"{tx.lower()}@example.com",
                    amount_cents=19990,
                )
            )
        db.session.commit()
        setup_operator(page, url)

        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(url + "/vendas?platform=kiwify")
        with page.expect_download() as info:
            page.click("[data-export-csv]")
        with open(info.value.path(), encoding="utf-8") as downloaded:
            text = downloaded.read()
        assert text.startswith("\ufeffData do pedido;") and "KW-2" in text and "HP-1" not in text
        assert "199,90" in text

        pages = ["/vendas", "/webhooks", "/clientes?q=hp", "/configuracoes", "/ajuda", "/auditoria"]
        pages += ["/kommo?aba=negocios", "/gestao-click?aba=vendas"]
        pages += [f"/ajuda/{slug}" for slug in GUIDES]
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for path in pages:
                page.goto(url + path)
                assert page.evaluate(FITS), (path, width)
                name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
                page.screenshot(path=shots / f"exports-{name}-{width}.png", full_page=True)
        assert not page.console_errors
