"""HttpGateway: status → error mapping, retry policy, Retry-After, throttle, 204, error bodies.

Live emulator for everything it can produce; ``responses`` only for headers and bodies it never
sends (``Retry-After`` as seconds or an HTTP-date, an HTML 502, broken JSON).
"""

from __future__ import annotations

import email.utils
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from app.clients import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    HttpGateway,
    InvalidRequestError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    Throttle,
    UpstreamError,
)
from app.clients.errors import APITimeoutError, error_class_for_status
from app.clients.http import parse_retry_after


def kommo_gateway(emu, **kw) -> HttpGateway:
    kw.setdefault("sleep", emu.clock.sleep)
    kw.setdefault("clock", emu.clock)
    kw.setdefault("retry_delay", 0.5)
    token = kw.pop("token", None) or emu.config.kommo_token()
    return HttpGateway(
        "Kommo", emu.kommo, default_headers={"Authorization": f"Bearer {token}"}, **kw
    )


def gc_gateway(emu, **kw) -> HttpGateway:
    kw.setdefault("sleep", emu.clock.sleep)
    kw.setdefault("clock", emu.clock)
    headers = {
        "access-token": emu.config.gc_access_token,
        "secret-access-token": emu.config.gc_secret_token,
    }
    return HttpGateway("Gestão Click", emu.gestaoclick, default_headers=headers, **kw)


# ---------------------------------------------------------------------------- mapping


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, InvalidRequestError, False),
        (401, AuthenticationError, False),
        (402, PaymentRequiredError, False),
        (403, PermissionDeniedError, False),
        (404, NotFoundError, False),
        (422, InvalidRequestError, False),
        (429, RateLimitError, True),
        (500, UpstreamError, True),
        (502, UpstreamError, True),
        (503, UpstreamError, True),
    ],
)
def test_status_mapping(status, cls, retryable):
    assert error_class_for_status(status) is cls
    assert cls().retryable is retryable
    assert issubclass(cls, APIError)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_client_errors_are_never_retried(start_emulator, status):
    emu = start_emulator()
    gateway = kommo_gateway(emu)
    emu.fault(api="kommo", path="/account", status=status)
    with pytest.raises(APIError) as info:
        gateway.get("/api/v4/account")
    assert info.value.status == status
    assert isinstance(info.value, error_class_for_status(status))
    assert not info.value.retryable
    assert emu.hits("kommo.account") == 1
    assert emu.clock.slept == []


def test_401_from_a_bad_token_is_not_retried(emu):
    gateway = kommo_gateway(emu, token="not-a-valid-token")
    with pytest.raises(AuthenticationError) as info:
        gateway.get("/api/v4/account")
    assert info.value.status == 401
    assert info.value.message.startswith("Kommo: Credenciais inválidas ou expiradas (HTTP 401")
    assert emu.hits("kommo.account") == 1


def test_kommo_problem_json_detail(emu):
    gateway = kommo_gateway(emu)
    with pytest.raises(NotFoundError) as info:
        gateway.get("/api/v4/leads/pipelines/999999")
    assert info.value.detail == "Pipeline not found"
    assert info.value.code == "Not Found"
    assert "Pipeline not found" in info.value.message


def test_gestaoclick_validation_error_comes_as_404_with_its_message(emu):
    gateway = gc_gateway(emu)
    with pytest.raises(NotFoundError) as info:
        gateway.get("/vendas", params={"data_inicio": "01/02/2026"})
    assert info.value.detail == "Data inválida: use o formato AAAA-MM-DD"
    assert info.value.code == "Not Found"
    assert "Data inválida" in str(info.value)


def test_gestaoclick_rate_limit_message(start_emulator):
    emu = start_emulator(fake_time=True, gc_rate_limit=1)
    gateway = gc_gateway(emu, retry_attempts=0)
    gateway.get("/lojas")
    with pytest.raises(RateLimitError) as info:
        gateway.get("/lojas")
    assert "O limite de requisicoes foi atingido" in info.value.message


def test_204_has_no_body(emu):
    gateway = kommo_gateway(emu)
    response = gateway.get("/api/v4/contacts", params={"page": 999, "limit": 250})
    assert response.status == 204
    assert response.data is None
    assert response.attempts == 1


def test_json_body_and_repeated_keys(emu):
    gateway = kommo_gateway(emu)
    first = gateway.get("/api/v4/contacts", params={"limit": 3}).data["_embedded"]["contacts"]
    wanted = [first[0]["id"], first[2]["id"]]
    response = gateway.get("/api/v4/contacts", params={"limit": 5, "filter[id][]": wanted})
    assert [c["id"] for c in response.data["_embedded"]["contacts"]] == wanted
    ok = gateway.get("/api/v4/account")
    assert ok.data["subdomain"] == emu.config.kommo_subdomain
    assert ok.url == "/kommo/api/v4/account"


# ---------------------------------------------------------------------------- retries


def test_5xx_retried_then_succeeds(emu):
    gateway = kommo_gateway(emu, retry_delay=1.0)
    emu.fault(api="kommo", path="/account", status=503, count=2)
    response = gateway.get("/api/v4/account")
    assert response.status == 200 and response.attempts == 3
    assert emu.hits("kommo.account") == 3
    first, second = emu.clock.slept
    assert 0 <= first <= 1.0 and 0 <= second <= 2.0


def test_kommo_429_body_retry_after_is_honoured(start_emulator):
    emu = start_emulator(fake_time=True, kommo_rate_limit=2, kommo_retry_after=3)
    gateway = kommo_gateway(emu)
    for _ in range(3):
        gateway.get("/api/v4/account")
    assert emu.clock.slept == [3]  # the body's retry_after, not a guess
    assert emu.statuses("kommo") == {"200": 3, "429": 1}


def test_429_without_hint_backs_off_at_least_the_base_delay(emu):
    gateway = kommo_gateway(emu, retry_delay=1.0, retry_attempts=2)
    emu.fault(api="kommo", path="/account", status=429)
    with pytest.raises(RateLimitError) as info:
        gateway.get("/api/v4/account")
    assert info.value.attempts == 3 and info.value.retry_after is None
    first, second = emu.clock.slept
    assert 1.0 <= first <= 2.0 and 2.0 <= second <= 3.0


def test_zero_retries_means_one_attempt(emu):
    gateway = kommo_gateway(emu, retry_attempts=0)
    emu.fault(api="kommo", path="/account", status=500)
    with pytest.raises(UpstreamError):
        gateway.get("/api/v4/account")
    assert emu.hits("kommo.account") == 1


def test_timeout_error(emu):
    gateway = kommo_gateway(emu, timeout=(1.0, 0.1), retry_attempts=1)
    emu.fault(api="kommo", path="/account", latency_ms=400)
    with pytest.raises(APITimeoutError) as info:
        gateway.get("/api/v4/account")
    assert isinstance(info.value, APIConnectionError)
    assert "tempo de leitura esgotado" in info.value.message
    assert emu.hits("kommo.account") == 2


def test_connection_refused_is_retried(refused_url):
    slept: list[float] = []
    gateway = HttpGateway("X", refused_url, retry_attempts=2, sleep=slept.append)
    with pytest.raises(APIConnectionError) as info:
        gateway.get("/anything")
    assert info.value.attempts == 3 and len(slept) == 2
    assert info.value.status is None


def test_malformed_url_is_not_retried():
    gateway = HttpGateway("X", "http://", sleep=lambda s: pytest.fail("slept"))
    with pytest.raises(APIConnectionError) as info:
        gateway.get("/")
    assert not info.value.retryable


# ---------------------------------------------------------------------------- edge cases


@responses.activate
def test_retry_after_seconds_header():
    responses.get("https://api.test/x", status=429, headers={"Retry-After": "7"})
    responses.get("https://api.test/x", json={"ok": True})
    slept: list[float] = []
    gateway = HttpGateway("T", "https://api.test", sleep=slept.append)
    assert gateway.get("/x").data == {"ok": True}
    assert slept == pytest.approx([7.0], abs=0.05)


@responses.activate
def test_retry_after_http_date_on_503():
    when = datetime.now(UTC) + timedelta(seconds=20)
    responses.get(
        "https://api.test/x",
        status=503,
        headers={"Retry-After": email.utils.format_datetime(when, usegmt=True)},
    )
    responses.get("https://api.test/x", json=[1])
    slept: list[float] = []
    gateway = HttpGateway("T", "https://api.test", sleep=slept.append)
    assert gateway.get("/x").data == [1]
    assert len(slept) == 1 and 17 <= slept[0] <= 20


@responses.activate
def test_html_502_and_broken_json():
    responses.get("https://api.test/html", status=502, body="<html>Bad Gateway</html>")
    responses.get(
        "https://api.test/broken", body="{not json", headers={"Content-Type": "application/json"}
    )
    gateway = HttpGateway("T", "https://api.test", retry_attempts=0)
    with pytest.raises(UpstreamError) as info:
        gateway.get("/html")
    assert info.value.detail is None and info.value.message.endswith("(HTTP 502)")
    with pytest.raises(UpstreamError) as info:
        gateway.get("/broken")
    assert not info.value.retryable


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now=now) == 30
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


# ---------------------------------------------------------------------------- throttle


def test_throttle_spaces_requests(emu):
    gateway = kommo_gateway(emu, throttle_per_second=4)
    for _ in range(5):
        gateway.get("/api/v4/account")
    assert emu.clock.slept == pytest.approx([0.25] * 4)


def test_throttle_burst():
    now = [0.0]
    throttle = Throttle(2, burst=3, clock=lambda: now[0], sleep=lambda s: None)
    waits = [throttle.reserve() for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.5, 1.0])
    now[0] = 10.0  # idle long enough: the burst is available again
    assert throttle.reserve() == 0


def test_throttle_is_thread_safe():
    throttle = Throttle(10, clock=lambda: 100.0, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def book():
        barrier.wait()
        wait = throttle.reserve()
        with lock:
            waits.append(round(wait, 6))

    threads = [threading.Thread(target=book) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [round(i * 0.1, 6) for i in range(20)]  # one slot each


def test_throttle_pause_holds_everyone():
    now = [0.0]
    throttle = Throttle(None, clock=lambda: now[0], sleep=lambda s: None)
    assert throttle.reserve() == 0
    throttle.pause_until(5.0)
    assert throttle.reserve() == 5.0
    now[0] = 6.0
    assert throttle.reserve() == 0


def test_real_throttle_with_real_time(emu):
    gateway = HttpGateway("Kommo", emu.kommo, throttle_per_second=50)
    started = time.monotonic()
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            gateway.get("/api/v4/account")
    assert time.monotonic() - started >= 0.06  # 3 gaps of 20 ms


# ---------------------------------------------------------------------------- lifecycle


def test_pooled_session_and_timeouts():
    gateway = HttpGateway("T", "https://api.test", timeout=7)
    assert gateway.timeout == (7, 7)
    adapter = gateway.session.get_adapter("https://api.test")
    assert adapter._pool_maxsize == 10
    assert adapter.max_retries.total == 0
    own = requests.Session()
    with HttpGateway("T", "https://api.test", session=own) as shared:
        assert shared.session is own
    assert own.adapters  # a caller's session is not closed by the gateway


@responses.activate
def test_ratelimit_reset_only_counts_on_429():
    responses.get("https://api.test/x", status=503, headers={"RateLimit-Reset": "60"})
    responses.get("https://api.test/x", status=429, headers={"RateLimit-Reset": "42"})
    responses.get("https://api.test/x", json={})
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gateway = HttpGateway("T", "https://api.test", sleep=sleep, clock=lambda: now[0])
    assert gateway.get("/x").attempts == 3
    assert slept[0] <= 1.0  # backoff for the 503, not the rate window
    assert slept[1] == 42


def test_error_parser_hook_can_reclassify(emu):
    """A per-API hook: Gestão Click validation errors arrive as 404; call them invalid."""
    from app.clients.errors import ErrorInfo
    from app.clients.gestao_click import parse_gestaoclick_error

    def parser(status, body, headers):
        info = parse_gestaoclick_error(status, body, headers)
        if info and status == 404 and info.detail and "inválid" in info.detail:
            return ErrorInfo(info.code, info.detail, error_class=InvalidRequestError)
        return info

    gateway = gc_gateway(emu, error_parser=parser)
    with pytest.raises(InvalidRequestError) as info:
        gateway.get("/vendas", params={"data_inicio": "ontem"})
    assert info.value.status == 404 and not info.value.retryable
    assert "Data inválida" in info.value.message
    with pytest.raises(NotFoundError):
        gateway.get("/vendas/999999999")


def test_a_429_says_in_plain_words_who_asked_to_wait_and_that_the_queue_retries():
    note = RateLimitError(api="Gestão Click", status=429, retry_after=119.2).queue_note
    assert note == (
        "O Gestão Click pediu para esperar 120 s antes do próximo envio. "
        "O painel tenta de novo sozinho."
    )
    assert RateLimitError(api="Hotmart", retry_after=None).queue_note.startswith(
        "A Hotmart pediu para esperar um pouco antes"
    )
    assert "HTTP" not in RateLimitError(api="Kommo", status=429, detail="Too Many").queue_note
