"""The cross reports of /relatorios (app.services.cross_reports) at size: the median of 5
GETs of each report's JSON API (table page + total + chart) and of /relatorios with all of
them, at each row count, and the ratio to the smallest size (goal: <= 3x).

Usage: ``bench/bench_reports.py [SIZES...]`` (default ``1000 100000``); ``BENCH_DATABASE_URL``
adds a PostgreSQL run (its public schema is dropped: use a database of your own).

The rows are ``bench_pages``' (sales over two years, as many Kommo contacts and leads), plus
what the cross reports read: ``customer_keys`` written in SQL (each sale's e-mail; each
contact's e-mail and phone, and for 3 contacts in 5 the e-mail of the buyer with the same
number, so about 60 % of buyers are "in the CRM"), a responsible user and a closing date on
every lead, and UTM source/campaign on the sales.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pages  # noqa: E402

from bench._common import analyze  # noqa: E402

PAGES = {
    "/relatorios (all reports)": "/relatorios",
    "not-in-crm": "/api/reports/not-in-crm",
    "won-without-sale": "/api/reports/won-without-sale",
    "revenue-by-responsible": "/api/reports/revenue-by-responsible",
    "by-utm": "/api/reports/by-utm",
    "by-product": "/api/reports/by-product",
    "refunds": "/api/reports/refunds",
}

_seed_pages = bench_pages.seed


def seed(start: int, stop: int, now) -> None:
    """``bench_pages.seed`` and the cross reports' own columns and keys of ids start+1..stop."""
    from sqlalchemy import text

    from app.extensions import db

    _seed_pages(start, stop, now)
    ids = {"lo": start, "hi": stop}
    for statement in (
        "INSERT INTO customer_keys (kind, value, source, source_id) "
        "SELECT 'email', lower(buyer_email), 'sale', id FROM sales WHERE id > :lo AND id <= :hi",
        "INSERT INTO customer_keys (kind, value, source, source_id) "
        "SELECT 'email', email, 'kommo', id FROM kommo_contacts WHERE id > :lo AND id <= :hi",
        "INSERT INTO customer_keys (kind, value, source, source_id) "
        "SELECT 'phone', phone, 'kommo', id FROM kommo_contacts WHERE id > :lo AND id <= :hi",
        "INSERT INTO customer_keys (kind, value, source, source_id) "
        "SELECT 'email', 'comprador' || (id - 1) || '@example.com', 'kommo', id "
        "FROM kommo_contacts WHERE id > :lo AND id <= :hi AND id % 5 < 3",
        "UPDATE kommo_leads SET responsible_user_id = 1000 + id % 8, "
        "closed_at = CASE WHEN is_won THEN remote_updated_at END WHERE id > :lo AND id <= :hi",
        "UPDATE sales SET utm_source = CASE id % 4 WHEN 0 THEN 'google' "
        "WHEN 1 THEN 'instagram' WHEN 2 THEN 'email' END, "
        "utm_campaign = 'campanha' || (id % 20) WHERE id > :lo AND id <= :hi",
    ):
        db.session.execute(text(statement), ids)
    db.session.commit()
    # Fresh statistics first: bench_pages analysed the tables before the keys existed, and
    # with customer_keys "empty" the match's correlated subqueries were planned as scans.
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    # The keys above were written in SQL, past the write hooks: recompute the CRM match the
    # reports read, as ``flask customers rebuild`` does.
    from app.services.customers import matches

    matches.rebuild(db.session, db.session.commit)
    db.session.commit()
    analyze()


def main() -> None:
    bench_pages.seed = seed
    bench_pages.PAGES = PAGES
    bench_pages.main()


if __name__ == "__main__":
    main()
