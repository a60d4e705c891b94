"""Conversion stats over many links: SQL aggregates vs loading rows into Python (the naive
baseline), measured in the same run on the same data."""

from __future__ import annotations

import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import make_app, timed  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000


def seed(n: int) -> None:
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import ActivationLink, Sale

    now = datetime.now(UTC)
    sales = [
        {
            "platform": ("hotmart", "kiwify", "kirvano")[i % 3],
            "transaction_id": f"T{i}",
            "status": "approved",
            "buyer_email": f"b{i}@example.com",
            "product_id": f"p{i % 20}",
            "product_name": f"Produto {i % 20}",
            "created_at": now,
            "updated_at": now,
            "is_order_bump": False,
            "source": "webhook",
        }
        for i in range(n)
    ]
    db.session.execute(insert(Sale), sales)
    ids = db.session.scalars(db.select(Sale.id).order_by(Sale.id)).all()
    links = []
    for i, sale_id in enumerate(ids):
        created = now - timedelta(minutes=i % 40_000)
        used = i % 3 == 0
        links.append(
            {
                "token_hash": f"{i:064d}",
                "sale_id": sale_id,
                "buyer_email": f"b{i}@example.com",
                "platform": sales[i]["platform"],
                "product_id": sales[i]["product_id"],
                "product_name": sales[i]["product_name"],
                "status": "used" if used else "pending",
                "created_at": created,
                "expires_at": created + timedelta(days=7),
                "sent_at": created,
                "opened_at": created if i % 2 else None,
                "used_at": created + timedelta(minutes=i % 600) if used else None,
                "open_count": i % 2,
            }
        )
    db.session.execute(insert(ActivationLink), links)
    db.session.commit()


def naive_funnel():
    """What a Python loop would do: load every link and count."""
    from app.extensions import db
    from app.models import ActivationLink

    rows = db.session.scalars(db.select(ActivationLink)).all()
    used = [r for r in rows if r.status == "used"]
    durations = sorted((r.used_at - r.created_at).total_seconds() for r in used)
    result = (
        len(rows),
        sum(1 for r in rows if r.sent_at),
        sum(1 for r in rows if r.opened_at),
        len(used),
        statistics.median(durations) if durations else None,
    )
    db.session.expunge_all()
    return result


def main() -> None:
    app = make_app()
    with app.app_context():
        from app.services import stats

        seed(N)
        sql = stats.funnel()
        naive = naive_funnel()
        assert (sql.created, sql.sent, sql.opened, sql.used) == naive[:4], (sql, naive)
        assert abs(sql.median_seconds_to_activate - naive[4]) < 1
        t_naive = timed(naive_funnel, repeat=3)
        t_sql = timed(stats.funnel, repeat=3)
        t_days = timed(lambda: stats.by_day(days=30, fill=True), repeat=3)
        print(f"conversion stats over {N} links")
        print(f"  python loop (baseline)   {t_naive * 1000:9.1f} ms")
        print(f"  stats.funnel (SQL)       {t_sql * 1000:9.1f} ms   x{t_naive / t_sql:6.1f} faster")
        print(f"  stats.by_day(30, fill)   {t_days * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
