"""The cross reports of /relatorios (app.services.cross_reports) at size: the median of 5
GETs of each report's JSON API (table page + total + chart) and of /relatorios with all of
them, at each row count, and the ratio to the smallest size (goal: <= 3x).

Usage: ``bench/bench_reports.py [SIZES...]`` (default ``1000 100000``); ``BENCH_DATABASE_URL``
adds a PostgreSQL run (its public schema is dropped: use a database of your own).

A second table walks each report's full page (/relatorios/cruzados/<slug>, over the last 12
months) as a seller would: page 1, the bookmark ``?page=20``, the "Próxima" link of that page,
the last page (the "Última" link, else the highest numbered one) and the whole CSV download,
each with its ratio to page 1 at the same size and to itself at the smallest size. The links
are read from the pages' HTML, so the same run works on numbered and on cursor pages.

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


UTM_SOURCES = ("google", "instagram", "email", None)  # by sale id % 4


def _report_columns(sale: dict, lead: dict) -> None:
    """What the cross reports read beyond bench_pages' rows: UTM source/campaign on the sales,
    a responsible user and a closing date on every lead."""
    sale["utm_source"] = UTM_SOURCES[sale["id"] % 4]
    sale["utm_campaign"] = f"campanha{sale['id'] % 20}"
    lead["responsible_user_id"] = 1000 + lead["id"] % 8
    lead["closed_at"] = lead["remote_updated_at"] if lead["is_won"] else None


def seed(start: int, stop: int, now) -> None:
    """``bench_pages.seed`` with the cross reports' own columns, and the customer keys and
    CRM match of ids start+1..stop."""
    from sqlalchemy import text

    from app.extensions import db

    def keys_and_match() -> None:
        ids = {"lo": start, "hi": stop}
        for statement in (
            "INSERT INTO customer_keys (kind, value, source, source_id) "
            "SELECT 'email', lower(buyer_email), 'sale', id FROM sales "
            "WHERE id > :lo AND id <= :hi",
            "INSERT INTO customer_keys (kind, value, source, source_id) "
            "SELECT 'email', email, 'kommo', id FROM kommo_contacts WHERE id > :lo AND id <= :hi",
            "INSERT INTO customer_keys (kind, value, source, source_id) "
            "SELECT 'phone', phone, 'kommo', id FROM kommo_contacts WHERE id > :lo AND id <= :hi",
            "INSERT INTO customer_keys (kind, value, source, source_id) "
            "SELECT 'email', 'comprador' || (id - 1) || '@example.com', 'kommo', id "
            "FROM kommo_contacts WHERE id > :lo AND id <= :hi AND id % 5 < 3",
        ):
            db.session.execute(text(statement), ids)
        db.session.commit()
        # Fresh statistics first: with customer_keys "empty" the match's correlated
        # subqueries were planned as scans.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        # The keys above were written in SQL, past the write hooks: recompute the CRM match
        # the reports read, as ``flask customers rebuild`` does (the summary triggers are off
        # here; bench_pages recomputes the summaries right after).
        from app.services.customers import matches

        matches.rebuild(db.session, db.session.commit)
        db.session.commit()

    _seed_pages(start, stop, now, extra=_report_columns, after_load=keys_and_match)


DEEP_SLUGS = (
    "comprou-fora-do-crm",
    "ganho-sem-venda",
    "receita-por-responsavel",
    "por-origem",
    "por-produto",
    "reembolsos",
)
DEEP_STEPS = ("page 1", "?page=20", "next of 20", "last page", "CSV")
DEEP_REPEAT = 3
_measure_pages = bench_pages.measure


def _href(html: str, label: str) -> str | None:
    """The href of the pagination link reading ``label`` (None when absent or disabled)."""
    import html as html_lib
    import re

    for href, text in re.findall(r'<a class="page-link" href="([^"]+)">([^<]+)</a>', html):
        if text.strip() == label and href != "#":
            return html_lib.unescape(href)
    return None


def _last_href(html: str) -> str | None:
    import html as html_lib
    import re

    found = _href(html, "Última")
    if found:
        return found
    numbered = re.findall(r'<a class="page-link" href="([^"]+)">(\d+)</a>', html)
    if not numbered:
        return None
    return html_lib.unescape(max(numbered, key=lambda pair: int(pair[1]))[0])


def measure_deep(client) -> dict[str, float]:
    """Per report and step: the median of ``DEEP_REPEAT`` GETs, body read whole."""
    from bench._common import timed

    def get(path: str) -> str:
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (path, response.status_code)
        return body

    figures: dict[str, float] = {}
    for slug in DEEP_SLUGS:
        base = f"/relatorios/cruzados/{slug}?periodo=12m"
        first = get(base)
        twenty = get(base + "&page=20")
        paths = {
            "page 1": base,
            "?page=20": base + "&page=20",
            "next of 20": _href(twenty, "Próxima") or base + "&page=20",
            "last page": _last_href(first) or base,
            "CSV": f"/relatorios/cruzados/{slug}.csv?periodo=12m",
        }
        rows = first.count("<tr>") - 1
        csv_rows = get(paths["CSV"]).count("\n") - 1
        print(f"  {slug}: {rows} rows on page 1, {csv_rows} in the CSV")
        for step, path in paths.items():
            figures[f"{slug} | {step}"] = timed(lambda p=path: get(p), DEEP_REPEAT, warmup=1)
    return figures


WALK_REPEAT = 3
WALKS = ("CSV by offset", "CSV by cursor", "last page by offset", "last page by cursor")
# The OFFSET walks show what the cursor replaced; past this many rows they only take minutes
# (the CSV by OFFSET reads the rows before each chunk again: quadratic) and are left out.
OFFSET_WALK_ROWS = 20_000


def measure_walks(client) -> dict[str, float]:
    """The keyset reports' walks the two ways, interleaved in one process on the same rows:
    the CSV by growing OFFSET (the export before keyset) and by cursor (``all_rows``), the
    last page of 50 by OFFSET and by the cursor of the row before it. Medians of wall time
    (``time.process_time`` too: on SQLite the database works inside this process)."""
    import statistics
    import time

    from app.services import charts
    from app.services import cross_reports as cr

    def offset_csv(report, period):
        offset = 0
        while True:
            batch = report.rows(period, offset, cr.CSV_CHUNK)
            if len(batch) < cr.CSV_CHUNK:
                return
            offset += cr.CSV_CHUNK

    figures: dict[str, float] = {}
    with client.application.test_request_context("/relatorios?periodo=12m"):
        period = charts.from_args({"periodo": "12m"})
        for slug in ("comprou-fora-do-crm", "ganho-sem-venda"):
            report = cr.REPORTS[slug]
            total = report.total(period)
            last = max(0, (total - 1) // 50 * 50)
            key = report.rows(period, last - 1, 1)[0].key if last else None
            runs = {
                "CSV by offset": lambda r=report: offset_csv(r, period),
                "CSV by cursor": lambda r=report: sum(1 for _ in r.all_rows(period)),
                "last page by offset": lambda r=report, n=last: r.rows(period, n, 50),
                "last page by cursor": lambda r=report, k=key: r.page(period, 0, 50, k),
            }
            if total > OFFSET_WALK_ROWS:
                del runs["CSV by offset"], runs["last page by offset"]
            wall: dict[str, list[float]] = {name: [] for name in runs}
            cpu: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(WALK_REPEAT):
                for name, fn in runs.items():
                    started, started_cpu = time.perf_counter(), time.process_time()
                    fn()
                    wall[name].append(time.perf_counter() - started)
                    cpu[name].append(time.process_time() - started_cpu)
            for name in runs:
                figures[f"{slug} | {name}"] = statistics.median(wall[name])
                figures[f"{slug} | {name} | cpu"] = statistics.median(cpu[name])
            figures[f"{slug} | rows"] = total
    return figures


def measure(client) -> dict[str, float]:
    return {**_measure_pages(client), **measure_deep(client), **measure_walks(client)}


def report(label: str, sizes: list[int], figures: dict[int, dict[str, float]]) -> None:
    from bench._common import report_ratios

    report_ratios(label, sizes, figures, PAGES, repeat=bench_pages.REPEAT, goal=bench_pages.GOAL)
    base = sizes[0]
    print(f"{label}: full report pages, median of {DEEP_REPEAT} GETs (ms); ×a = vs page 1 at")
    print(f"the same size, ×b = vs the same step at {base:,} rows")
    print("| report | step | " + " | ".join(f"{s:,}" for s in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for slug in DEEP_SLUGS:
        for step in DEEP_STEPS:
            name = f"{slug} | {step}"
            cells = []
            for s in sizes:
                ms = figures[s][name] * 1000
                first = figures[s][f"{slug} | page 1"]
                cell = f"{ms:,.0f} (×a {figures[s][name] / first:.1f}"
                if s != base:
                    cell += f", ×b {figures[s][name] / figures[base][name]:.1f}"
                cells.append(cell + ")")
            print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print(f"{label}: keyset reports' walks, offset vs cursor in the same run, median of")
    print(
        f"{WALK_REPEAT} (ms wall / ms CPU of this process); ×b = vs the same walk at {base:,} rows"
    )
    print("| report | walk | " + " | ".join(f"{s:,}" for s in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for slug in ("comprou-fora-do-crm", "ganho-sem-venda"):
        print(
            f"| {slug} | rows (12 months) | "
            + " | ".join(f"{int(figures[s][f'{slug} | rows']):,}" for s in sizes)
            + " |"
        )
        for walk in WALKS:
            name = f"{slug} | {walk}"
            cells = []
            for s in sizes:
                if name not in figures[s]:
                    cells.append(f"not run (> {OFFSET_WALK_ROWS:,} rows)")
                    continue
                cell = f"{figures[s][name] * 1000:,.0f} / {figures[s][name + ' | cpu'] * 1000:,.0f}"
                if s != base:
                    cell += f" (×b {figures[s][name] / figures[base][name]:.1f})"
                cells.append(cell)
            print(f"| {slug} | {walk} | " + " | ".join(cells) + " |")
    print()


def main() -> None:
    bench_pages.seed = seed
    bench_pages.PAGES = PAGES
    bench_pages.measure = measure
    bench_pages.report = report
    bench_pages.main()


if __name__ == "__main__":
    main()
