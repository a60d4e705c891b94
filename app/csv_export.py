"""CSV downloads that spreadsheets open safely: ``;``-separated, UTF-8 with BOM, and every
cell that could be read as a formula (CSV injection) neutralized."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value) -> str:
    """A cell starting with = + - @ tab CR or LF (also after leading spaces, which some
    spreadsheets skip) gets a leading apostrophe, so it is shown as text, never evaluated."""
    text = "" if value is None else str(value)
    first = text[:1] if text[:1] in FORMULA_STARTS else text.lstrip(" ")[:1]
    return "'" + text if first and first in FORMULA_STARTS else text


def money(cents: int | None) -> str:
    """Reais with a comma and no thousands separator (``1234,56``): a number in Excel-BR."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole},{rest:02d}"


def stream(header: Sequence[str], rows: Iterable[Sequence], filename: str) -> Response:
    """A streamed attachment: the header, then ``rows`` (each cell through ``safe_cell``)."""

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow([safe_cell(v) for v in header])
        yield "\ufeff" + buffer.getvalue()
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([safe_cell(v) for v in row])
            yield buffer.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
