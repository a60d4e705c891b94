"""Rate limits hold across workers: two app objects (two workers) share one count in Redis,
and the configuration that would multiply the limits is announced at start-up."""

from __future__ import annotations

import json
import logging
import os
import runpy
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine

from app.models.types import utcnow
from app.ratelimit import configured_workers, multiplied_limits_warning
from tests.conftest import WEBHOOK_SECRETS, Auth, csrf_token, load_fixture, signed_request
from tests.web.test_signup import link_path

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture
def storage(request):
    """(uri, options) for one test: a key prefix of its own in the real Redis, removed after."""
    if request.param == "memory":
        yield "memory", "memory://", {}
        return
    if not _redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    import redis

    prefix = f"test_sessions_limits:{uuid.uuid4().hex}"
    yield "redis", REDIS_URL, {"key_prefix": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


def _two_workers(app_factory, uri, options, **config):
    """Two app objects, as two gunicorn workers would build them from the same settings."""
    return [
        app_factory(RATELIMIT_STORAGE_URI=uri, RATELIMIT_STORAGE_OPTIONS=dict(options), **config)
        for _ in range(2)
    ]


both_storages = pytest.mark.parametrize("storage", ["redis", "memory"], indirect=True)


@both_storages
def test_login_limit_is_shared_by_two_workers(app_factory, storage):
    kind, uri, options = storage
    first, second = _two_workers(app_factory, uri, options)
    a, b = first.test_client(), second.test_client()
    Auth(first, a).create()
    statuses = [Auth(first, a).login(password="errada-0000").status_code for _ in range(6)]
    statuses += [Auth(second, b).login(password="errada-0000").status_code for _ in range(4)]
    assert statuses == [200] * 10  # 10 per minute per address, across both workers
    eleventh = Auth(second, b).login().status_code
    if kind == "redis":
        assert eleventh == 429  # the 11th attempt is refused whichever worker gets it
        assert Auth(first, a).login().status_code == 429
    else:
        # Control: memory:// counts per worker, which is exactly what multiplied the limit.
        assert eleventh == 302


@both_storages
def test_webhook_limit_is_shared_by_two_workers(app_factory, storage):
    kind, uri, options = storage
    workers = _two_workers(
        app_factory, uri, options, WEBHOOK_RATE_LIMIT="5 per minute", **WEBHOOK_SECRETS
    )
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    signed = signed_request("hotmart", raw)

    def deliver(app):
        headers = {"Content-Type": "application/json", **signed["headers"]}
        return app.test_client().post("/webhook/hotmart", data=raw, headers=headers).status_code

    statuses = [deliver(workers[i % 2]) for i in range(5)]
    assert all(s == 200 for s in statuses), statuses  # accepted, then duplicates
    sixth = deliver(workers[1])
    assert sixth == (429 if kind == "redis" else 200)


@both_storages
def test_resend_limit_is_shared_by_two_workers_and_the_page_says_so(
    app_factory, smtp_server, storage
):
    kind, uri, options = storage
    mail = {"SMTP_HOST": "127.0.0.1", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}
    workers = _two_workers(app_factory, uri, options, **WEBHOOK_SECRETS, **mail)
    raw = json.dumps(load_fixture("hotmart", "purchase_approved")).encode()
    signed = signed_request("hotmart", raw)
    headers = {"Content-Type": "application/json", **signed["headers"]}
    assert (
        workers[0].test_client().post("/webhook/hotmart", data=raw, headers=headers).status_code
        == 200
    )
    path = link_path(smtp_server)
    clients = [w.test_client() for w in workers]
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        pages = []
        for i in range(4):
            client = clients[i % 2]
            token = csrf_token(client, path)
            pages.append(client.post(path + "/reenviar", data={"csrf_token": token}))
    assert [p.status_code for p in pages[:3]] == [200, 200, 200]
    for page in pages[:3]:
        assert "Novo link enviado" in page.get_data(as_text=True)
    if kind == "redis":
        refused = pages[3]
        assert refused.status_code == 429
        text = refused.get_data(as_text=True)
        assert "Limite de reenvios atingido" in text and "nenhum novo link foi enviado" in text
        assert "Novo link enviado" not in text
        assert len(smtp_server.messages) == 1 + 3  # the approval, then exactly 3 resends
    else:
        assert pages[3].status_code == 200
        assert len(smtp_server.messages) == 1 + 4


def test_storage_down_degrades_to_per_worker_limits_not_errors(app_factory):
    app = app_factory(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    )
    with app.app_context():
        client = app.test_client()
        auth = Auth(app, client)
        auth.create()
        assert auth.login(password="errada-0000").status_code == 200
        assert auth.login().status_code == 302


def test_worker_count_sources():
    assert configured_workers({}) == 1
    assert configured_workers({"WEB_CONCURRENCY": "3"}) == 3
    assert configured_workers({"GUNICORN_CMD_ARGS": "--bind :80 --workers 4"}) == 4
    assert configured_workers({"GUNICORN_CMD_ARGS": "-w2 --threads 4"}) == 2
    assert configured_workers({"GUNICORN_CMD_ARGS": "--workers=5", "WEB_CONCURRENCY": "2"}) == 5
    assert configured_workers({"VENDAS_WORKERS": "6", "WEB_CONCURRENCY": "2"}) == 6


def test_warning_only_when_limits_would_multiply():
    assert multiplied_limits_warning("memory://", 1) is None
    assert multiplied_limits_warning("redis://127.0.0.1:6379/0", 4) is None
    message = multiplied_limits_warning("memory://", 2)
    assert "MULTIPLIED BY 2" in message and "RATELIMIT_STORAGE_URI" in message
    assert multiplied_limits_warning(None, 3)


def test_app_start_up_warns_with_memory_storage_and_several_workers(
    app_factory, monkeypatch, caplog
):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
        app_factory()
    assert any("MULTIPLIED BY 2" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
        app_factory(
            RATELIMIT_STORAGE_URI=REDIS_URL,
            # Own prefix: the suite's teardown reset() must only ever clear keys of this test.
            RATELIMIT_STORAGE_OPTIONS={"key_prefix": "test_sessions_limits:warn"},
        )
    assert not any("MULTIPLIED" in r.getMessage() for r in caplog.records)


def test_gunicorn_hook_warns_in_the_master_and_tells_the_workers(monkeypatch):
    hooks = runpy.run_path(os.path.join(ROOT, "gunicorn.conf.py"))
    warnings = []
    server = SimpleNamespace(
        cfg=SimpleNamespace(workers=2), log=SimpleNamespace(warning=warnings.append)
    )
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("VENDAS_WORKERS", "1")  # the hook overwrites it; undone after the test
    hooks["on_starting"](server)
    assert os.environ["VENDAS_WORKERS"] == "2"
    assert warnings and "MULTIPLIED BY 2" in warnings[0]
    warnings.clear()
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    hooks["on_starting"](server)
    assert warnings == []
