"""RateBudget and its stores: slots, shared 429 pauses, fallbacks, keys without secrets.

The database store is exercised on this session's backend (SQLite, or PostgreSQL with
``--postgres``) with one connection per claimer; the Redis store on DB 5 (skipped when down).
The cross-process proof is tests/integrations/test_shared_budget.py.
"""

from __future__ import annotations

import threading

import pytest
import responses

from app.clients import RateLimitError
from app.clients.budget import (
    BUDGETS,
    MemoryBudgetStore,
    RateBudget,
    RedisBudgetStore,
    budget_for,
    hashed,
)
from app.clients.gestao_click import GestaoClickClient
from app.clients.hotmart import HotmartClient
from app.clients.http import HttpGateway
from app.clients.kommo import KommoClient
from app.clients.throttle import BudgetPaused

REDIS_URL = "redis://127.0.0.1:6379/5"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _budget(store, clock: Clock, per_second: float | None = 4.0, key: str = "kommo:acme"):
    return RateBudget(store, key, per_second, clock=clock, sleep=clock.sleep)


# ---------------------------------------------------------------------------- semantics


def test_budgets_follow_the_platforms_limits():
    assert BUDGETS["kommo"].ceiling == 7 and BUDGETS["kommo"].pace == 5
    assert BUDGETS["gestao_click"].ceiling == 3 and BUDGETS["gestao_click"].pace == 2
    assert BUDGETS["hotmart"].ceiling * 60 == pytest.approx(500)
    assert budget_for("kommo", "acme", 50).per_second == 7  # never above the ceiling
    assert budget_for("gestao_click", "x", 10).per_second == 3
    assert budget_for("kommo", "acme", None).per_second is None  # pauses only


def test_two_budgets_on_one_store_and_key_share_the_slots():
    clock, store = Clock(), MemoryBudgetStore()
    first, second = _budget(store, clock), _budget(store, clock)
    for _ in range(3):
        first.acquire()
        second.acquire()
    assert clock.slept == pytest.approx([0.25] * 5)  # one slot every 1/4 s, whoever asks
    other = _budget(store, clock, key="kommo:other")
    assert other.acquire() == 0


def test_a_pause_holds_every_budget_of_the_key_and_a_long_one_raises():
    clock, store = Clock(), MemoryBudgetStore()
    first, second = _budget(store, clock, None), _budget(store, clock, None)
    first.pause_for(30)
    assert second.acquire(max_wait=60) == pytest.approx(30)
    first.pause_for(300)
    with pytest.raises(BudgetPaused) as info:
        second.acquire(max_wait=120)
    assert info.value.wait == pytest.approx(300)


def test_a_failing_store_falls_back_to_the_process_budget(caplog):
    class Broken:
        def reserve(self, *args):
            raise ConnectionError("redis down")

        def pause(self, *args):
            raise ConnectionError("redis down")

    clock = Clock()
    budget = _budget(Broken(), clock, key="kommo:fallback-test")
    budget.pause_for(0)
    assert budget.acquire() >= 0
    budget.acquire()
    assert "shared store unavailable" in caplog.text
    assert caplog.text.count("shared store unavailable") == 1


def test_keys_name_the_account_never_the_secret():
    gc = GestaoClickClient("access-token-123456", "secret-token-654321", "https://gc.test/api")
    assert gc.gateway.throttle.key == f"gestao_click:{hashed('access-token-123456')}"
    hm = HotmartClient("client-id-1", "client-secret-1", env="sandbox")
    assert hm.gateway.throttle.key == f"hotmart:{hashed('client-id-1')}"
    assert "client-secret-1" not in hm.gateway.throttle.key
    km = KommoClient("a.b.c", "https://acme.kommo.com")
    assert km.gateway.throttle.key == "kommo:acme"
    assert KommoClient("a.b.c", "acme").gateway.throttle.key == "kommo:acme"  # bare subdomain


@responses.activate
def test_a_429_pauses_every_gateway_on_the_budget():
    clock, store = Clock(), MemoryBudgetStore()
    url = "https://acme.kommo.test/api/v4/account"
    responses.get(url, status=429, json={"title": "Too Many Requests", "retry_after": 2})
    responses.get(url, json={"id": 1})
    responses.get(url, json={"id": 1})

    def gateway():
        return HttpGateway(
            "Kommo",
            "https://acme.kommo.test/api/v4",
            throttle=_budget(store, clock, None),
            sleep=clock.sleep,
        )

    first, second = gateway(), gateway()
    assert first.get("/account").data == {"id": 1}  # 429 → budget paused 2 s → retried
    before = clock.now
    second.get("/account")  # the pause is over: no wait
    assert clock.now == before
    assert clock.slept == pytest.approx([2.0])


@responses.activate
def test_a_pause_longer_than_max_retry_after_fails_without_sending():
    clock, store = Clock(), MemoryBudgetStore()
    url = "https://acme.kommo.test/api/v4/account"
    responses.get(url, status=429, json={"title": "Too Many Requests", "retry_after": 300})
    kw = dict(throttle=None, sleep=clock.sleep, max_retry_after=120)
    first = HttpGateway("Kommo", "https://acme.kommo.test/api/v4", **kw)
    first.throttle = _budget(store, clock, None)
    with pytest.raises(RateLimitError):
        first.get("/account")
    second = HttpGateway("Kommo", "https://acme.kommo.test/api/v4", **kw)
    second.throttle = _budget(store, clock, None)
    with pytest.raises(RateLimitError) as info:
        second.get("/account")
    assert info.value.retry_after == pytest.approx(300)
    assert "aguardar 300 s" in info.value.message
    assert len(responses.calls) == 1  # the second process never hit the platform


# ---------------------------------------------------------------------------- shared stores


def _claim_concurrently(make_store, key: str, claimers: int = 8, each: int = 5) -> list[float]:
    """Every claimer books ``each`` slots at the same instant; returns the slot offsets."""
    now = 1_900_000_000.0
    offsets: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(claimers)
    errors: list[BaseException] = []

    stores = [make_store() for _ in range(claimers)]  # one store (and connection) each

    def claim(store):
        try:
            barrier.wait(30)
            for _ in range(each):
                booked, wait = store.reserve(key, 0.1, now, None)
                assert booked
                with lock:
                    offsets.append(round(wait, 3))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(store,)) for store in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return offsets


def test_database_store_hands_out_each_slot_once(app):
    from app.extensions import db
    from app.services.rate_budget import DatabaseBudgetStore

    offsets = _claim_concurrently(lambda: DatabaseBudgetStore(db.engine), "kommo:db-test")
    assert sorted(offsets) == [round(i * 0.1, 3) for i in range(40)]


def test_database_store_pause_and_max_wait(app):
    from app.extensions import db
    from app.services.rate_budget import DatabaseBudgetStore

    store = DatabaseBudgetStore(db.engine)
    now = 1_900_000_000.0
    store.pause("kommo:paused", now + 30)
    store.pause("kommo:paused", now + 10)  # an earlier end never shortens a pause
    with pytest.raises(BudgetPaused):
        store.reserve("kommo:paused", 0.2, now, 20)
    assert store.reserve("kommo:paused", 0.2, now, 60) == (True, pytest.approx(30))
    assert store.reserve("kommo:paused", 0.2, now, 60) == (True, pytest.approx(30.2))


@pytest.fixture
def redis_store():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    store = RedisBudgetStore(REDIS_URL, prefix="vendas-hub:budget-test")
    store.reset()
    yield store
    store.reset()


def test_redis_store_hands_out_each_slot_once(redis_store):
    offsets = _claim_concurrently(
        lambda: RedisBudgetStore(REDIS_URL, prefix="vendas-hub:budget-test"), "kommo:redis-test"
    )
    assert sorted(offsets) == [round(i * 0.1, 3) for i in range(40)]


def test_redis_store_pause_is_seen_by_every_client(redis_store):
    import time

    other = RedisBudgetStore(REDIS_URL, prefix="vendas-hub:budget-test")
    now = time.time()
    redis_store.pause("kommo:redis-pause", now + 30)
    assert other.reserve("kommo:redis-pause", 0.2, now, None) == (True, pytest.approx(30))
    assert other.reserve("kommo:redis-pause", 0.2, now, 60) == (True, pytest.approx(30.2))
    redis_store.pause("kommo:redis-pause", now + 10)  # an earlier end never shortens a pause
    with pytest.raises(BudgetPaused):
        other.reserve("kommo:redis-pause", 0.2, now, 10)
