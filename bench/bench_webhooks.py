"""Webhook ingest cost: a full approval (verify, store, sale, link, outbox) and a duplicate,
against the cheapest request the app serves (GET /healthz) measured in the same run."""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import make_app  # noqa: E402

HOTTOK = "bench-hottok-0123456789"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 500


def main() -> None:
    app = make_app(HOTMART_WEBHOOK_HOTTOK=HOTTOK)
    fixture = Path(__file__).resolve().parent.parent / "tests/fixtures/webhooks/hotmart"
    base = json.loads((fixture / "purchase_approved.json").read_text())
    bodies = []
    for i in range(N):
        body = copy.deepcopy(base)
        body["id"] = f"bench-{i}"
        body["data"]["purchase"]["transaction"] = f"HPBENCH{i:08d}"
        body["data"]["buyer"]["email"] = f"buyer{i}@example.com"
        bodies.append(json.dumps(body).encode())
    headers = {"X-HOTMART-HOTTOK": HOTTOK, "Content-Type": "application/json"}
    client = app.test_client()

    def run(label, send):
        start = time.perf_counter()
        for i in range(N):
            response = send(i)
            assert response.status_code in (200, 503), response.status_code
        elapsed = time.perf_counter() - start
        return label, elapsed / N

    results = [
        run("GET /healthz (baseline)", lambda i: client.get("/healthz")),
        run(
            "new approval",
            lambda i: client.post("/webhook/hotmart", data=bodies[i], headers=headers),
        ),
        run(
            "duplicate delivery",
            lambda i: client.post("/webhook/hotmart", data=bodies[i], headers=headers),
        ),
    ]
    baseline = results[0][1]
    backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    print(f"webhook ingest, {N} requests each, database {backend}")
    for label, per_request in results:
        print(
            f"  {label:28s} {per_request * 1000:8.2f} ms/req  {1 / per_request:8.0f} req/s  "
            f"x{per_request / baseline:5.1f} baseline"
        )


if __name__ == "__main__":
    main()
