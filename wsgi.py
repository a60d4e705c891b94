"""Production entry point: ``gunicorn wsgi:app`` (and ``flask --app wsgi …``)."""

import gc

from app import create_app

app = create_app()

# What the app built at start-up lives as long as the process: kept out of the garbage
# collector's scans, so the collections that batches and e-mails trigger look only at what
# they made (a fifth of an e-mail's send time went to full collections).
gc.freeze()
