"""Gunicorn hooks for Vendas Hub (loaded automatically from the working directory).

No server settings live here (workers, bind, timeouts stay on the command line, see
docs/deploy.md); only a start-up check: with ``RATELIMIT_STORAGE_URI`` unset or ``memory://``
every worker counts rate limits on its own, so N workers multiply every limit by N.
"""

import os


def on_starting(server):
    """In the master, before any worker forks: tell the workers how many they are, and warn."""
    from app.ratelimit import multiplied_limits_warning

    workers = int(server.cfg.workers or 1)
    os.environ["VENDAS_WORKERS"] = str(workers)  # inherited by the workers (app start-up check)
    message = multiplied_limits_warning(os.environ.get("RATELIMIT_STORAGE_URI"), workers)
    if message:
        server.log.warning(message)
