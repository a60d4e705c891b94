"""Spreadsheet-safe CSV downloads (``;``-separated, UTF-8 with BOM, streamed).

Every cell goes through ``csv_cell``, which neutralizes formulas (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value) -> str:
    """Neutralize spreadsheet formulas (CSV injection) in exported text.

    A cell starting with = + - @ tab CR or LF (also after leading spaces, which some
    spreadsheets skip) gets a leading apostrophe, so it is shown as text, never evaluated.
    """
    text = "" if value is None else str(value)
    first = text[:1] if text[:1] in FORMULA_STARTS else text.lstrip(" ")[:1]
    return "'" + text if first and first in FORMULA_STARTS else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """A streamed download of ``header`` then ``rows`` (each cell made formula-safe)."""

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(header)
        yield "\ufeff" + buffer.getvalue()
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([csv_cell(v) for v in row])
            yield buffer.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
