"""Request logs say what happened (method, path, status, duration, attempts) and never leak a
secret: client secret, Basic value, access tokens, not even on errors or in tracebacks."""

from __future__ import annotations

import logging
import re

import pytest

from app.clients import APIError, HttpGateway
from app.clients.hotmart import MemoryTokenStore

WRONG_SECRET = "wrong-secret-never-logged"


def test_secrets_never_reach_the_logs(emu, refused_url, caplog):
    caplog.set_level(logging.DEBUG)
    store = MemoryTokenStore()
    client = emu.hotmart(token_store=store, retry_attempts=1)
    impatient = emu.hotmart(token_store=store, timeout=(1.0, 0.1), retry_attempts=1)
    failures: list[APIError] = []

    def attempt(fn):
        try:
            fn()
        except APIError as exc:
            failures.append(exc)
            logging.getLogger("tests.sync").exception("sync step failed: %s", exc)

    list(client.iter_products(page_size=10))  # token + 3 pages
    tokens = [store.get(client.token_key)[0]]
    emu.fault(api="hotmart", path="/products", unauthorized=True, count=1)
    attempt(lambda: next(client.product_pages()))  # 401 → new token
    tokens.append(store.get(client.token_key)[0])
    emu.fault(api="hotmart", path="/products", status=503, count=1)
    attempt(lambda: next(client.product_pages()))
    emu.fault(api="hotmart", path="/products", latency_ms=300)
    attempt(lambda: next(impatient.product_pages()))  # timeouts
    attempt(lambda: emu.hotmart(*emu.sandbox_credentials[:1], WRONG_SECRET).get_token())
    prod = emu.hotmart(*emu.production_credentials)
    attempt(lambda: list(prod.iter_products()))  # wrong environment: 401 twice
    refused = emu.hotmart(auth_url=f"{refused_url}/security/oauth/token?x=1", retry_attempts=0)
    attempt(refused.get_token)  # requests' own error text carries the full URL
    assert refused.test_connection().code == "connection_error"
    assert len(failures) == 4

    secrets = [
        emu.config.hotmart_client_secret,
        emu.config.hotmart_prod_client_secret,
        WRONG_SECRET,
        client.basic,
        prod.basic,
        *tokens,
    ]
    assert len(set(tokens)) == 2
    texts = [caplog.text, *(r.getMessage() for r in caplog.records)]
    texts += [f"{e} {e!r} {e.url} {e.detail}" for e in failures]
    for secret in secrets:
        assert secret and all(secret not in text for text in texts), secret

    log = caplog.text
    # masked the documented way: a secret under 20 characters shows nothing of itself
    assert re.search(r"client_secret=••••••(?![^\s&])", log) and "-secret" not in log
    assert "tests.sync" in log and "Traceback" in log
    line = re.compile(
        r"Hotmart GET /hotmart/sandbox/products/api/v1/products\?max_results=10 → 200 in \d+ ms "
        r"\(attempts=1\)"
    )
    assert line.search(log)
    assert re.search(r"→ 503; retry 1/1 in \d+\.\d\d s", log)
    assert re.search(r"failed after 2 attempt\(s\) in \d+ ms: Hotmart: Tempo limite", log)


def test_default_header_secrets_are_masked_in_error_details(emu, caplog):
    """An API that echoes a credential back in its error body is still masked."""
    caplog.set_level(logging.DEBUG)
    secret = "sk_live_supersecretvalue123"
    gateway = HttpGateway(
        "Kommo",
        emu.kommo,
        default_headers={"Authorization": f"Bearer {secret}"},
        sleep=emu.clock.sleep,
    )
    with pytest.raises(APIError) as info:
        gateway.get("/api/v4/leads/pipelines/1", params={"note": secret})
    assert secret not in str(info.value) and secret not in (info.value.url or "")
    assert secret not in caplog.text
    assert "••••••e123" in caplog.text  # 20+ characters: the last 4 only
    assert "sk_" not in caplog.text
