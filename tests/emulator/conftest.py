"""Fixtures for the emulator tests: in-process clients, a fake clock and live servers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from emulator import EmulatorConfig, create_app  # noqa: E402


class FakeClock:
    """A controllable ``time.time`` replacement; ``sleep`` advances it instantly."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable:
    """``make_client(**config)`` → a Flask test client of a fresh emulator (fake clock)."""

    def factory(**overrides):
        overrides.setdefault("clock", clock)
        overrides.setdefault("sleep", clock.sleep)
        app = create_app(EmulatorConfig(**overrides))
        return app.test_client()

    return factory


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """``live_server(app)`` → base URL of that WSGI app served on a free port in a thread."""
    servers = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
