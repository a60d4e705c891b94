"""Helpers for the pure webhook-format tests (no app, no database)."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

WEBHOOK_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


def _load(platform: str, name: str) -> dict:
    return json.loads((WEBHOOK_FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def webhook_body() -> Callable[[str, str], dict]:
    """``webhook_body("hotmart", "purchase_approved")`` → a fresh dict from the fixture file."""
    return _load


@pytest.fixture
def webhook_raw() -> Callable[[str, str], bytes]:
    """The fixture file's exact bytes, as the platform would deliver them."""

    def read(platform: str, name: str) -> bytes:
        return (WEBHOOK_FIXTURES / platform / f"{name}.json").read_bytes()

    return read
