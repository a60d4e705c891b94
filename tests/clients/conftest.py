"""Fixtures for the client tests: the emulator served live on 127.0.0.1 and a fake clock.

The clients under test talk real HTTP to a real server; only waiting is faked (``FakeClock``
stands in for ``time.sleep``/``time.monotonic``/``time.time``, so back-offs cost nothing).
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from app.clients.hotmart import HotmartClient  # noqa: E402
from emulator import EmulatorConfig, create_app  # noqa: E402


class FakeClock:
    """One controllable clock for both sides: ``sleep`` records the wait and advances time."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _QuietHandler(WSGIRequestHandler):
    """The emulator's access log would echo query strings (it is the platform, not us)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveEmulator:
    """A running emulator: URLs in the ``python -m emulator env`` conventions plus control."""

    def __init__(self, app, base_url: str, clock: FakeClock, fake_time: bool):
        self.app = app
        self.clock = clock  # the clients' sleep/monotonic clock (and the emulator's, if fake_time)
        self.fake_time = fake_time
        self.url = base_url
        self.config: EmulatorConfig = app.extensions["emulator"].config
        self.hotmart_sandbox = f"{base_url}/hotmart/sandbox"
        self.hotmart_production = f"{base_url}/hotmart/production"
        self.hotmart_auth = f"{base_url}/hotmart/auth/security/oauth/token"
        self.kommo = f"{base_url}/kommo"
        self.gestaoclick = f"{base_url}/gestaoclick/api"
        cfg = self.config
        self.sandbox_credentials = (cfg.hotmart_client_id, cfg.hotmart_client_secret)
        self.production_credentials = (cfg.hotmart_prod_client_id, cfg.hotmart_prod_client_secret)

    def fault(self, **rule: Any) -> dict:
        resp = requests.post(f"{self.url}/_emulator/faults", json=rule, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_emulator/stats", timeout=5).json()

    def hits(self, endpoint: str) -> int:
        """Requests that reached ``endpoint`` (e.g. ``hotmart.token``), faults included."""
        return self.stats()["endpoints"].get(endpoint, 0)

    def statuses(self, api: str = "hotmart") -> dict[str, int]:
        return self.stats()["apis"].get(api, {}).get("statuses", {})

    def hotmart(self, client_id: str | None = None, client_secret: str | None = None, **kw):
        """A HotmartClient pointed at this emulator (sandbox credentials unless given); waits
        are recorded on ``self.clock``, not slept."""
        if client_id is None and client_secret is None:
            client_id, client_secret = self.sandbox_credentials
        kw.setdefault("env", "sandbox")
        kw.setdefault("api_url", self.hotmart_production if kw["env"] == "production" else None)
        kw["api_url"] = kw["api_url"] or self.hotmart_sandbox
        kw.setdefault("auth_url", self.hotmart_auth)
        kw.setdefault("retry_delay", 0.5)
        kw.setdefault("throttle_per_second", None)
        kw.setdefault("timeout", (2.0, 5.0))
        kw.setdefault("sleep", self.clock.sleep)
        kw.setdefault("clock", self.clock)
        kw.setdefault("wall_clock", self.config.clock)  # token expiry as the emulator sees it
        return HotmartClient(client_id, client_secret, **kw)


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., LiveEmulator]]:
    """``start_emulator(fake_time=False, **config)`` → a fresh emulator on a free port.

    Clients built by ``LiveEmulator.hotmart`` sleep on a ``FakeClock``; with ``fake_time`` the
    emulator reads that clock too (token expiry, rate-limit windows), so a client's wait
    really moves the server's time. Latency faults always sleep for real.
    """
    servers = []

    def start(fake_time: bool = False, **config: Any) -> LiveEmulator:
        config.setdefault("quiet", True)
        clock = FakeClock()
        if fake_time:
            config["clock"] = clock
        app = create_app(EmulatorConfig(**config))
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return LiveEmulator(app, f"http://127.0.0.1:{server.server_port}", clock, fake_time)

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def emu(start_emulator) -> LiveEmulator:
    """The default emulator: 1,234 sales, real clock, no Hotmart rate limit in the way."""
    return start_emulator(sales=1234, hotmart_rate_limit=0)


@pytest.fixture
def refused_url() -> str:
    """A local URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
