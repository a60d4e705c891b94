"""Operator pages at size: the median of 5 GETs per page at each row count, and its ratio to
the page's time at the smallest size (goal: <= 3x at 1M rows).

Usage: ``bench/bench_pages.py [SIZES...]`` (default ``1000 100000``). Runs on a fresh SQLite
file and, when ``BENCH_DATABASE_URL`` is set, again on that PostgreSQL database (its public
schema is dropped and re-created: use a database of your own).

Rows are seeded with bulk INSERTs (SQLAlchemy core, executemany) with the summary triggers
off and the summaries rebuilt after each load, growing from one size to the next: sales,
activation links and webhook events over the last two years with a realistic mix of
platforms and statuses, plus as many Kommo contacts and leads and Gestão Click sales. Pages
are fetched through the app with the Flask test client (no network, no gunicorn) as a
logged-in operator.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402

from bench._common import analyze, measure_pages, report_ratios, run_sizes_on_both  # noqa: E402

GOAL = 3.0
REPEAT = 5
CHUNK = 20_000
PAGES = {
    "overview": "/",
    "/vendas": "/vendas",
    "/ativacoes": "/ativacoes",
    "/webhooks": "/webhooks",
    "/relatorios": "/relatorios",
    "reconciliation API": "/api/reports/reconciliation",
    "/kommo": "/kommo",
    "/gestao-click": "/gestao-click",
}
PLATFORMS = (("hotmart", 0.55), ("kiwify", 0.30), ("kirvano", 0.15))
SALE_STATUSES = (
    ("approved", 0.62),
    ("complete", 0.08),
    ("pending", 0.10),
    ("refused", 0.06),
    ("refunded", 0.06),
    ("canceled", 0.04),
    ("chargeback", 0.02),
    ("abandoned", 0.02),
)
LINK_STATUSES = (("used", 0.55), ("pending", 0.25), ("expired", 0.15), ("revoked", 0.05))
EVENT_STATUSES = (("processed", 0.935), ("ignored", 0.06), ("failed", 0.003), ("received", 0.002))
SPAN = timedelta(days=730)
PASSWORD = "senha-segura-bench-123"


def _pick(rng: random.Random, choices):
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def make_app(url: str, reset: bool = True):
    """The app on ``url``, migrated; a PostgreSQL database is emptied first unless ``reset``
    is false (a seeded database kept for a second look)."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from app import create_app
    from config import TestConfig

    if reset and url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    tmp = Path(tempfile.mkdtemp(prefix="vendashub-pages-"))
    config = TestConfig(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "SETTINGS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "APP_URL": "http://localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    config.LOG_LEVEL = "WARNING"
    config.RATELIMIT_ENABLED = False
    app = create_app(config, instance_path=str(tmp / "instance"))
    with app.app_context():
        upgrade()
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    return app


def _secondary_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """``(name, CREATE statement)`` of the tables' indexes as the database holds them (the
    migrations' own, SQLite's expression indexes included), not those behind a primary key
    or a unique constraint."""
    from sqlalchemy import text

    from app.extensions import db

    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = ANY(:tables) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ),
            {"tables": tables},
        )
    else:
        marks = ", ".join(f":t{i}" for i in range(len(tables)))
        rows = db.session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks})"
            ),
            {f"t{i}": table for i, table in enumerate(tables)},
        )
    return [(name, ddl) for name, ddl in rows]


def seed(start: int, stop: int, now: datetime, extra=None, after_load=None) -> None:
    """Rows ``start`` .. ``stop - 1`` of every seeded table (ids are explicit). ``extra(sale,
    lead)``, when given, adds columns to each sale and lead row before the insert, and
    ``after_load()`` runs once the rows and indexes are in, before the summaries are
    recomputed (both while the summary triggers are off: a write afterwards would fire them
    row by row)."""
    from sqlalchemy import insert, text

    from app.extensions import db
    from app.models import ActivationLink, GcSale, KommoContact, KommoLead, Sale, WebhookEvent
    from app.services import summaries

    # A bulk load: the summary triggers off, then the summaries rebuilt in one pass (what the
    # migration does for existing rows); every later write goes through the triggers.
    dialect = db.engine.dialect.name
    for statement in summaries.drop_statements(dialect):
        db.session.execute(text(statement))
    # The seeded tables' secondary indexes too, built again after the load: inserted into
    # row by row they made a 1M-row PostgreSQL seed slow down to ~2k rows a minute.
    seeded = (Sale, ActivationLink, WebhookEvent, KommoContact, KommoLead, GcSale)
    indexes = _secondary_indexes([model.__tablename__ for model in seeded])
    for name, _ddl in indexes:
        db.session.execute(text(f"DROP INDEX {name}"))
    db.session.commit()
    rng = random.Random(start)
    for lo in range(start, stop, CHUNK):
        hi = min(lo + CHUNK, stop)
        sales, links, events, contacts, leads, gc_sales = [], [], [], [], [], []
        for i in range(lo, hi):
            platform = _pick(rng, PLATFORMS)
            status = _pick(rng, SALE_STATUSES)
            created = now - SPAN * rng.random()
            product = rng.randrange(40)
            approved = created if status not in ("pending", "refused", "abandoned") else None
            status_at = created + timedelta(days=rng.random() * 20) if approved else created
            email = f"comprador{i}@example.com"
            sales.append(
                {
                    "id": i + 1,
                    "platform": platform,
                    "transaction_id": f"HP{i:09d}",
                    "status": status,
                    "buyer_email": email,
                    "buyer_name": f"Comprador {i}",
                    "product_id": f"P{product}",
                    "product_name": f"Produto {product}",
                    "amount_cents": rng.choice((4700, 9700, 19700, 49700, 99700)),
                    "currency": "BRL" if rng.random() < 0.97 else "USD",
                    "payment_method": rng.choice(("pix", "credit_card", "billet")),
                    "is_order_bump": False,
                    "is_test": rng.random() < 0.002,
                    "source": "webhook" if rng.random() < 0.8 else "sync",
                    "approved_at": approved,
                    "status_at": status_at,
                    "created_at": created,
                    "updated_at": status_at,
                }
            )
            link_status = _pick(rng, LINK_STATUSES)
            expires = created + timedelta(days=7)
            if link_status == "pending" and expires <= now:
                link_status = "expired"  # what the cleanup job does
            used_at = created + timedelta(seconds=rng.expovariate(1 / 7200))
            links.append(
                {
                    "id": i + 1,
                    "token_hash": f"{i:064x}",
                    "sale_id": i + 1,
                    "buyer_email": email,
                    "buyer_name": f"Comprador {i}",
                    "platform": platform,
                    "product_id": f"P{product}",
                    "product_name": f"Produto {product}",
                    "is_test": False,
                    "status": link_status,
                    "created_at": created,
                    "expires_at": expires,
                    "sent_at": created + timedelta(seconds=5),
                    "opened_at": used_at if link_status == "used" or rng.random() < 0.3 else None,
                    "open_count": 1,
                    "used_at": used_at if link_status == "used" else None,
                    "revoked_at": created if link_status == "revoked" else None,
                    "revoked_reason": rng.choice(("refunded", "replaced"))
                    if link_status == "revoked"
                    else None,
                }
            )
            events.append(
                {
                    "id": i + 1,
                    "platform": platform,
                    "dedupe_key": f"E{i:09d}",
                    "event_type": "PURCHASE_APPROVED",
                    "kind": "approved",
                    "transaction_id": f"HP{i:09d}",
                    "buyer_email": email,
                    "raw_body": '{"event":"PURCHASE_APPROVED","data":{}}',
                    "headers": {},
                    "status": _pick(rng, EVENT_STATUSES),
                    "attempts": 1,
                    "received_at": created,
                    "processed_at": created,
                    "duplicates": 0,
                    "sale_id": i + 1,
                }
            )
            updated = now - SPAN * rng.random()
            contacts.append(
                {
                    "id": i + 1,
                    "remote_id": 10_000_000 + i,
                    "name": f"Contato {i}",
                    "email": f"contato{i}@example.com",
                    "phone": f"+55119{i:08d}",
                    "remote_created_at": updated,
                    "remote_updated_at": updated,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            outcome = rng.random()
            leads.append(
                {
                    "id": i + 1,
                    "remote_id": 20_000_000 + i,
                    "name": f"Negócio {i}",
                    "price": rng.choice((497, 997, 1997)),
                    "currency": "BRL",
                    "status_id": 142 if outcome < 0.3 else 143 if outcome < 0.5 else 1000,
                    "pipeline_id": 1,
                    "status_name": "Etapa",
                    "pipeline_name": "Funil",
                    "is_won": outcome < 0.3,
                    "is_lost": 0.3 <= outcome < 0.5,
                    "contact_id": 10_000_000 + i,
                    "remote_created_at": updated,
                    "remote_updated_at": updated,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if extra is not None:
                extra(sales[-1], leads[-1])
            gc_sales.append(
                {
                    "id": i + 1,
                    "remote_id": f"GC{i}",
                    "codigo": str(i),
                    "cliente_id": str(i % 5000),
                    "cliente_nome": f"Cliente {i % 5000}",
                    "data": (now - SPAN * rng.random()).date(),
                    "situacao_nome": "Concretizada",
                    "valor_total_cents": rng.choice((10000, 25000, 99000)),
                    "tipo": rng.choice(("produto", "servico", "vendas_balcao")),
                    "items_count": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for model, rows in (
            (Sale, sales),
            (ActivationLink, links),
            (WebhookEvent, events),
            (KommoContact, contacts),
            (KommoLead, leads),
            (GcSale, gc_sales),
        ):
            db.session.execute(insert(model), rows)
        db.session.commit()
    for _name, ddl in indexes:
        db.session.execute(text(ddl))
    db.session.commit()
    if after_load is not None:
        after_load()
    summaries.rebuild(db.session.connection())  # the triggers come back with it
    db.session.commit()
    if dialect == "postgresql":
        for table in ("sales", "activation_links", "webhook_events"):
            db.session.execute(
                text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            )
        db.session.commit()
    analyze()


def preload(count: int) -> None:
    """``count`` sales, links and events already there (``seed``), every event of them done:
    for the benchmarks of what one more delivery costs on a full database (needs an app
    context)."""
    from sqlalchemy import text

    from app.extensions import db

    seed(0, count, datetime.now(UTC))
    # the seed's own undone events are not what those benchmarks measure
    db.session.execute(
        text("UPDATE webhook_events SET status = 'processed' WHERE status <> 'processed'")
    )
    db.session.commit()
    db.session.remove()


def login(app):
    from app.extensions import db
    from app.services import accounts

    with app.app_context():
        if accounts.find_user("operador@example.com") is None:  # a kept database has them
            accounts.create_user("operador@example.com", PASSWORD, name="Ana", role="admin")
            db.session.commit()
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post(
        "/login",
        data={"email": "operador@example.com", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.status_code
    return client


def measure(client) -> dict[str, float]:
    return measure_pages(client, PAGES, REPEAT)


def run(label: str, url: str, sizes: list[int]) -> dict[int, dict[str, float]]:
    app = make_app(url)
    client = login(app)
    now = datetime.now(UTC)
    figures: dict[int, dict[str, float]] = {}
    done = 0
    for size in sizes:
        started = time.perf_counter()
        with app.app_context():
            seed(done, size, now)
        done = size
        print(f"[{label}] seeded {size:,} rows per table in {time.perf_counter() - started:.1f} s")
        figures[size] = measure(client)
    report(label, sizes, figures)
    return figures


def report(label: str, sizes: list[int], figures: dict[int, dict[str, float]]) -> None:
    report_ratios(label, sizes, figures, PAGES, repeat=REPEAT, goal=GOAL)


def main() -> None:
    run_sizes_on_both(run, "pages")


if __name__ == "__main__":
    main()
