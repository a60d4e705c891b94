"""Command-line tools: ``flask --app wsgi <command>``, one module per job.

- ``accounts``: ``create-operator``, ``rotate-key``;
- ``data``: ``db backup``, ``db rebuild-summaries``, ``sales backfill-order-dates``,
  ``activation cleanup``;
- ``queues``: ``webhooks replay``, ``worker``, ``outbox send``, ``telegram``, ``automations``;
- ``syncs``: ``sync`` and ``scheduler run``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cli", __name__, cli_group=None)

from app.cli import accounts, data, queues, syncs  # noqa: E402,F401
