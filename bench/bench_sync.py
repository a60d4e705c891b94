"""Sync throughput and memory against the emulator served over real HTTP, with its real limits.

Per integration and resource, in the same run:

* **raw client** (the baseline): the product's own client and page sequence (same passes,
  windows, page sizes, throttle) fetching everything, writing nothing, in a child process;
* **sync**: ``sync.run_sync(..., full=True)`` of the product on a fresh database, in a child
  process (so one run's memory does not carry into the next);

and prints records/s of each, the sync as a share of the raw client (goal ≥ 90 %) and of the
API's theoretical ceiling (request limit × page size). Then the sync's peak RSS at 10k and 100k
Kommo contacts with the limits off (memory does not depend on the pace; goal: growth ≤ 30 MB).

    .venv/bin/python bench/bench_sync.py            # small sizes: a few minutes
    .venv/bin/python bench/bench_sync.py --full     # 100k records per API resource
    BENCH_DATABASE_URL=postgresql://… .venv/bin/python bench/bench_sync.py

Throttles default to ~93 % of each API's limit (Kommo 6.5/s of 7, Gestão Click 2.8/s of 3,
Hotmart 8/s of 500/min) for both the raw client and the sync; ``--throttle default`` uses the
product's defaults (Kommo 5/s, Gestão Click 2/s), which cap the ceiling share by design.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import make_app  # noqa: E402

# (label, source, resource, emulator size key, API, page size)
CASES = (
    ("Hotmart sales", "hotmart", "sales", "sales", "hotmart", 500),
    ("Kommo contacts", "kommo", "contacts", "contacts", "kommo", 250),
    ("Kommo leads", "kommo", "leads", "leads", "kommo", 250),
    ("Gestão Click vendas", "gestao_click", "sales", "gc_sales", "gestaoclick", 100),
    ("Gestão Click clientes", "gestao_click", "clients", "gc_clients", "gestaoclick", 100),
    ("Gestão Click produtos", "gestao_click", "products", "gc_products", "gestaoclick", 100),
)
REQUESTS_PER_SECOND = {"hotmart": 500 / 60, "kommo": 7.0, "gestaoclick": 3.0}
SMALL = {"hotmart": 10_000, "kommo": 5_000, "gestaoclick": 1_500}
FULL = {"hotmart": 100_000, "kommo": 100_000, "gestaoclick": 10_000}
THROTTLES = {
    "limit": {
        "HOTMART_THROTTLE_PER_SECOND": 8.0,
        "KOMMO_THROTTLE_PER_SECOND": 6.5,
        "GESTAOCLICK_THROTTLE_PER_SECOND": 2.8,
    },
    "default": {},
}
RSS_SIZES = (10_000, 100_000)
RSS_GOAL_MB = 30
SHARE_GOAL = 0.90


# ---------------------------------------------------------------------------- emulator


def serve_emulator(**config):
    from werkzeug.serving import WSGIRequestHandler, make_server

    from emulator import EmulatorConfig, create_app

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    config.setdefault("quiet", True)
    config.setdefault("now", datetime.now(UTC).replace(microsecond=0))
    emu = create_app(EmulatorConfig(**config))
    server = make_server("127.0.0.1", 0, emu, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return emu, server, f"http://127.0.0.1:{server.server_port}"


def emulator_settings(emu_app, base: str) -> dict:
    from emulator.config import env_vars

    host, port = base.rsplit("//", 1)[1].split(":")
    return env_vars(_emulator_config(emu_app), host=host, port=int(port))


def _emulator_config(emu_app):
    return emu_app.extensions["emulator"].config


def reset_emulator(emu_app) -> None:
    state = emu_app.extensions["emulator"]
    state.runtime.reset_limits()
    state.runtime.reset_stats()


def emulator_requests(emu_app, api: str) -> int:
    stats = emu_app.extensions["emulator"].runtime.stats_dict()
    return stats["apis"].get(api, {}).get("total", 0)


# ---------------------------------------------------------------------------- raw baseline


def raw_pages(source: str, resource_name: str):
    """The client and the page sequence the syncer walks (no writes)."""
    from app.services import gestao_click, hotmart, kommo

    ctx = SimpleNamespace(last_success_at=None)
    if source == "hotmart":
        client = hotmart.build_client()
        start, end = hotmart.sales_range(ctx, True)
        pages = hotmart._sales_pages(client, start, end, int(hotmart._cfg("HOTMART_PAGE_SIZE")))
        return client, (p.items for p in pages)
    if source == "kommo":
        client = kommo.build_client()
        limit = int(kommo._cfg("KOMMO_PAGE_SIZE"))
        if resource_name == "contacts":
            return client, (p.items for p in client.contact_pages(limit=limit))

        def leads():
            kommo.pipeline_names(client.pipelines())
            client.account()
            for page in client.lead_pages(limit=limit):
                yield page.items

        return client, leads()
    client = gestao_click.build_client()
    if resource_name == "sales":
        start, end = gestao_click.sales_range(ctx, True)
        return client, (p.items for _t, p in gestao_click._venda_passes(client, start, end))
    pages = client.cliente_pages() if resource_name == "clients" else client.produto_pages()
    return client, (p.items for p in pages)


def measure_raw(app, source: str, resource_name: str) -> tuple[int, float]:
    with app.app_context():
        client, pages = raw_pages(source, resource_name)
        with client:
            start = time.perf_counter()
            records = sum(len(items) for items in pages)
            return records, time.perf_counter() - start


# ---------------------------------------------------------------------------- sync (child)


def run_child(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if out.returncode != 0:
        raise RuntimeError(f"child failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(spec: dict) -> None:
    from sqlalchemy import text

    app = make_app()
    app.config.update(spec["config"])
    if spec.get("mode") == "raw":
        records, seconds = measure_raw(app, spec["source"], spec["resource"])
        print(json.dumps({"records": records, "seconds": seconds}))
        return
    with app.app_context():
        from app.extensions import db
        from app.services import sync

        if db.engine.dialect.name == "postgresql":  # a reused database: start empty
            names = ", ".join(t.name for t in db.metadata.sorted_tables if t.name != "users")
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            db.session.commit()
        start = time.perf_counter()
        run = sync.run_sync(spec["source"], spec["resource"], full=True)
        seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = {
            "status": run.status,
            "error": run.error,
            "done": run.progress_done,
            "created": run.created_count,
            "failed": run.failed_count,
            "seconds": seconds,
            "peak_rss_mb": peak_kb / 1024,
            "database": db.engine.dialect.name,
        }
    print(json.dumps(result))


# ---------------------------------------------------------------------------- main


def throughput(args) -> list[dict]:
    sizes = FULL if args.full else SMALL
    config = {
        "sales": sizes["hotmart"],
        "subscriptions": 0,
        "contacts": sizes["kommo"],
        "leads": sizes["kommo"],
        "gc_sales": sizes["gestaoclick"],
        "gc_clients": sizes["gestaoclick"],
        "gc_products": sizes["gestaoclick"],
    }
    emu_app, server, base = serve_emulator(**config)
    settings = {**emulator_settings(emu_app, base), **THROTTLES[args.throttle]}
    settings.update(RETRY_DELAY=1.0, LOG_LEVEL="WARNING")
    rows = []
    try:
        for label, source, resource_name, _size_key, api, page_size in CASES:
            if args.only and source not in args.only:
                continue
            reset_emulator(emu_app)
            raw = run_child(
                {"mode": "raw", "source": source, "resource": resource_name, "config": settings}
            )
            raw_records, raw_seconds = raw["records"], raw["seconds"]
            raw_requests = emulator_requests(emu_app, api)
            reset_emulator(emu_app)
            result = run_child({"source": source, "resource": resource_name, "config": settings})
            sync_requests = emulator_requests(emu_app, api)
            if result["status"] != "succeeded":
                raise RuntimeError(f"{label}: sync {result['status']}: {result['error']}")
            raw_rate = raw_records / raw_seconds
            sync_rate = result["done"] / result["seconds"]
            ceiling = REQUESTS_PER_SECOND[api] * page_size
            rows.append(
                {
                    "label": label,
                    "records": result["done"],
                    "raw_rate": raw_rate,
                    "sync_rate": sync_rate,
                    "share_raw": sync_rate / raw_rate,
                    "share_ceiling": sync_rate / ceiling,
                    "ceiling": ceiling,
                    "raw_requests": raw_requests,
                    "sync_requests": sync_requests,
                    "sync_req_per_s": sync_requests / result["seconds"],
                    "database": result["database"],
                }
            )
            print_row(rows[-1])
    finally:
        server.shutdown()
    return rows


def print_row(row: dict) -> None:
    verdict = "ok" if row["share_raw"] >= SHARE_GOAL else "GAP"
    print(
        f"  {row['label']:<22} {row['records']:>7} rec  raw {row['raw_rate']:8.0f}/s  "
        f"sync {row['sync_rate']:8.0f}/s  = {row['share_raw']:6.1%} of raw ({verdict}, goal "
        f"≥ {SHARE_GOAL:.0%})  {row['share_ceiling']:6.1%} of ceiling {row['ceiling']:.0f}/s  "
        f"[{row['sync_requests']} req, {row['sync_req_per_s']:.2f} req/s; raw "
        f"{row['raw_requests']} req]",
        flush=True,
    )


def memory(args) -> list[dict]:
    results = []
    for size in RSS_SIZES:
        emu_app, server, base = serve_emulator(
            contacts=size, leads=1, sales=1, gc_sales=1, rate_limits_enabled=False
        )
        settings = {**emulator_settings(emu_app, base), "KOMMO_THROTTLE_PER_SECOND": 0}
        try:
            result = run_child({"source": "kommo", "resource": "contacts", "config": settings})
        finally:
            server.shutdown()
        if result["status"] != "succeeded":
            raise RuntimeError(f"memory run: {result['status']}: {result['error']}")
        results.append({"size": size, **result})
        print(
            f"  Kommo contacts {size:>7}: peak RSS {result['peak_rss_mb']:6.1f} MB "
            f"({result['done'] / result['seconds']:.0f} rec/s without limits)",
            flush=True,
        )
    growth = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
    verdict = "ok" if growth <= RSS_GOAL_MB else "GAP"
    print(
        f"  RSS growth {RSS_SIZES[0]} → {RSS_SIZES[-1]}: {growth:+.1f} MB ({verdict}, goal ≤ 30 MB)"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="100k records per API resource")
    parser.add_argument("--throttle", choices=sorted(THROTTLES), default="limit")
    parser.add_argument("--only", type=lambda v: set(v.split(",")), default=None)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite"
    print(f"sync throughput on {database} (throttle: {args.throttle}; raw client = baseline)")
    throughput(args)
    if not args.skip_memory:
        print("sync peak RSS (child process, limits off)")
        memory(args)


if __name__ == "__main__":
    main()
