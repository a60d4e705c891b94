"""/relatorios cross reports (app.services.cross_reports): a section per report on the page
(chart and the first rows), the whole table at /relatorios/cruzados/<slug> and its CSV at
/relatorios/cruzados/<slug>.csv, all over the page's date range.

The table's pages: a report of one row per person or lead (``Report.page``, thousands of
rows at size) goes "Primeira / Anterior / Próxima / Última" by cursor (``?apos=`` /
``?antes=`` a row's place in the report's order, ``?fim=1`` the last page), so any page costs
what the first does; a grouped report (a row per user, origin, product or month) keeps
numbered pages, each one grouping that costs the same on any page. ``?page=N`` (bookmarks)
still opens page N of either; an unreadable cursor opens the first page."""

from __future__ import annotations

from flask import abort, render_template, request

from app import csv_export
from app.formatting import local, platform_label
from app.paging import Page, cursor_arg, page_arg, page_count
from app.reports import bp
from app.services import charts, sync
from app.services import cross_reports as cr

SECTION_ROWS = 5
PER_PAGE = 50


def _report(slug: str) -> cr.Report:
    report = cr.REPORTS.get(slug)
    if report is None:
        abort(404)
    return report


def synced_note(report: cr.Report) -> str | None:
    """How fresh the synced data a report reads is: "Segundo a última sincronização do
    Kommo (04/12 16:44)." or that it never ran; None for a report of the panel's own data."""
    if report.synced_from is None:
        return None
    source, resource = report.synced_from
    name = platform_label(source)
    run = sync.last_success(source, resource)
    if run is None or run.finished_at is None:
        return f"O {name} ainda não foi sincronizado: esta lista pode estar incompleta."
    when = local(run.finished_at).strftime("%d/%m %H:%M")
    return f"Segundo a última sincronização do {name} ({when})."


def sections(period: charts.DateRange) -> list[dict]:
    """What ``reports/_cross.html`` shows on /relatorios: each report's chart and top rows."""
    return [
        {
            "report": report,
            "chart": report.chart(period),
            "rows": report.rows(period, 0, SECTION_ROWS),
            "total": report.total(period),
            "synced": synced_note(report),
        }
        for report in cr.REPORTS.values()
    ]


class NumberedPage:
    """The ``_pagination.html`` ``pagination`` macro's page (offset pages of a grouped result)."""

    def __init__(self, page: int, per_page: int, total: int) -> None:
        self.page, self.per_page, self.total = page, per_page, total
        self.pages = max(1, page_count(total, per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1

    def iter_pages(self, left_edge=1, right_edge=1, left_current=2, right_current=2):
        last = 0
        for num in range(1, self.pages + 1):
            if (
                num <= left_edge
                or self.page - left_current <= num <= self.page + right_current
                or num > self.pages - right_edge
            ):
                if last and num != last + 1:
                    yield None
                yield num
                last = num


def keyset_page(report: cr.Report, period: charts.DateRange, total: int) -> Page:
    """The page of a keyset report the request asks for (``app.paging.Page``): after or
    before a cursor, the last page, else ``?page=N`` (clamped to the last page); the rows
    are ``Report.keyset``'s, as the JSON API's are."""
    direction, cursor = cursor_arg(report.key_columns, report.key_int)
    page = Page(items=[], per_page=PER_PAGE, total=total)
    if direction is not None:
        part = report.keyset(period, PER_PAGE, after=cursor, reverse=direction == "antes")
    elif request.args.get("fim"):
        part = report.keyset(period, PER_PAGE, last=total)
    else:
        number = min(page_arg(), page.pages)
        part = report.keyset(period, PER_PAGE, offset=(number - 1) * PER_PAGE)
    page.items, page.has_prev, page.has_next = part.rows, part.has_prev, part.has_next
    if part.prev_cursor:
        page.prev_args = {"antes": part.prev_cursor}
    if part.next_cursor:
        page.next_args = {"apos": part.next_cursor}
        page.last_args = {"fim": 1}
    return page


@bp.get("/relatorios/cruzados/<slug>")
def cross_report(slug: str):
    report = _report(slug)
    period = charts.from_args(request.args)
    total = report.total(period)
    if report.page is not None:
        page = keyset_page(report, period, total)
        rows = page.items
    else:
        page = NumberedPage(page_arg(), PER_PAGE, total)
        if page.page > page.pages:
            page = NumberedPage(page.pages, PER_PAGE, total)
        rows = report.rows(period, (page.page - 1) * PER_PAGE, PER_PAGE)
    return render_template(
        "reports/cross_report.html",
        report=report,
        period=period,
        presets=charts.PRESETS,
        chart=report.chart(period),
        rows=rows,
        total=total,
        page=page,
        keyset=report.page is not None,
        synced=synced_note(report),
    )


@bp.get("/relatorios/cruzados/<slug>.csv")
def cross_report_csv(slug: str):
    report = _report(slug)
    period = charts.from_args(request.args)
    rows = (
        [cr.csv_value(c, row.get(c.key)) for c in report.columns] for row in report.all_rows(period)
    )
    filename = f"{report.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return csv_export.stream([c.label for c in report.columns], rows, filename)
