"""Fixtures for the integration tests: the live emulator of ``tests/clients/conftest.py``
(``start_emulator``, ``refused_url``) for every module here, without re-importing them."""

from tests.clients.conftest import refused_url, start_emulator  # noqa: F401
