"""Subscriptions and MRR at size: /assinaturas, GET /api/reports/mrr and GET /api/subscriptions
at 1k and 100k subscriptions (any sizes as arguments), with the time the movements take to
settle after a bulk load (``subscriptions.settle_pending``, what a Hotmart sync runs).

Subscriptions spread over 36 months, three platforms, 20 products, monthly / quarterly /
annual plans, ~62 % active, ~7 % overdue, the rest canceled or ended. Pages are fetched through
the app with the Flask test client, median of REPEAT GETs after one warm-up, on SQLite and,
with BENCH_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import analyze, measure_pages, report_ratios, run_sizes_on_both  # noqa: E402
from bench.bench_pages import login  # noqa: E402
from bench.bench_pages import make_app as pages_app  # noqa: E402

REPEAT = 5
GOAL = 3.0
PAGES = {
    "/assinaturas": "/assinaturas",
    "/assinaturas (kiwify, por MRR)": "/assinaturas?platform=kiwify&ordem=mrr&dir=desc",
    "/api/reports/mrr": "/api/reports/mrr",
    "/api/reports/mrr (produto, 36 meses)": "/api/reports/mrr?product=p3&periodo=personalizado"
    "&de=2024-01-01&ate=2026-12-31",
    "/api/subscriptions": "/api/subscriptions",
    "/api/subscriptions (em atraso)": "/api/subscriptions?status=overdue",
}
PLANS = (
    ("Plano Mensal", "monthly", 9700),
    ("Plano Trimestral", "quarterly", 27000),
    ("Plano Anual", "annual", 97000),
)
STATES = (("active", 0.62), ("overdue", 0.07), ("canceled", 0.21), ("ended", 0.10))


def seed(start: int, stop: int, now: datetime) -> float:
    """Insert subscriptions ``start``..``stop`` and settle them; returns the settle time."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Subscription
    from app.services import subscriptions
    from app.sources.recurrence import monthly_cents

    rng = random.Random(start)
    rows = []
    for i in range(start, stop):
        plan, frequency, price = PLANS[i % 3 if i % 5 else 0]
        roll, state = rng.random(), "active"
        for name, share in STATES:
            if roll < share:
                state = name
                break
            roll -= share
        started = now - timedelta(days=rng.randrange(1, 36 * 30))
        ended = started + (now - started) * rng.random() if state in ("canceled", "ended") else None
        rows.append(
            {
                "platform": ("hotmart", "kiwify", "kirvano")[i % 3],
                "subscriber_code": f"S{i:08d}",
                "product_id": f"p{i % 20}",
                "product_name": f"Produto {i % 20}",
                "plan_name": plan,
                "frequency": frequency,
                "price_cents": price,
                "mrr_cents": monthly_cents(price, frequency),
                "currency": "BRL",
                "state": state,
                "status": state.upper(),
                "buyer_email": f"s{i}@example.com",
                "buyer_name": f"Assinante {i}",
                "accession_date": started,
                "canceled_at": ended,
                "date_next_charge": now + timedelta(days=rng.randrange(-10, 60)),
                "is_test": False,
                "created_at": started,
                "updated_at": now,
            }
        )
        if len(rows) == 5_000:
            db.session.execute(insert(Subscription), rows)
            rows = []
    if rows:
        db.session.execute(insert(Subscription), rows)
    db.session.commit()
    began = time.perf_counter()
    subscriptions.settle_pending()
    return time.perf_counter() - began


def run(label: str, url: str, sizes: list[int]) -> None:
    app = pages_app(url)
    client = login(app)
    now = datetime.now(UTC)
    figures, done = {}, 0
    for size in sizes:
        with app.app_context():
            settle = seed(done, size, now)
            analyze()
        print(
            f"[{label}] {size:,} subscriptions; settling {size - done:,} took {settle:.1f} s "
            f"({(size - done) / settle:,.0f}/s)"
        )
        done = size
        figures[size] = measure_pages(client, PAGES, REPEAT)
    report_ratios(label, sizes, figures, PAGES, repeat=REPEAT, goal=GOAL, digits=1)


def main() -> None:
    run_sizes_on_both(run, "subs")


if __name__ == "__main__":
    main()
