"""Helpers shared by the emulator tests (request headers, tokens)."""

from __future__ import annotations

import base64

from emulator import EmulatorConfig


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def hotmart_token(client, client_id="emu-client-id", secret="emu-client-secret") -> str:
    resp = client.post(
        "/hotmart/auth/security/oauth/token",
        query_string={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
        },
        headers={"Authorization": basic(client_id, secret)},
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["access_token"]


def gc_headers(cfg: EmulatorConfig | None = None) -> dict[str, str]:
    cfg = cfg or EmulatorConfig()
    return {"access-token": cfg.gc_access_token, "secret-access-token": cfg.gc_secret_token}


def kommo_headers(cfg: EmulatorConfig | None = None, **claims) -> dict[str, str]:
    cfg = cfg or EmulatorConfig()
    return {"Authorization": f"Bearer {cfg.kommo_token(**claims)}"}


def count_calls(monkeypatch, cls, name: str) -> list[int]:
    """Count calls of ``cls.name`` (how many records the emulator builds): ``[n]``."""
    calls = [0]
    real = getattr(cls, name)

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counting)
    return calls
