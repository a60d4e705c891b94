"""The page loop every API syncer shares: map a fetched page, count what failed, upsert it.

``map_page`` turns a page of API items into rows (an item that is not an object, or has no
remote id, is counted ``failed``); ``upsert_pages`` writes each page in bulk while the next one
is fetched (``prefetch.ahead``), setting the run's total from the first page that says it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from app.services import bulk, prefetch, sync


def map_page(
    ctx: sync.SyncContext, items: Iterable[Any], mapper: Callable[[dict], dict | None]
) -> list[dict]:
    """The mapped rows of a page; the items without their key are counted ``failed``."""
    rows = []
    failed = 0
    for item in items:
        row = mapper(item) if isinstance(item, dict) else None
        if row is None:
            failed += 1
            note_unmappable(ctx, item)
        else:
            rows.append(row)
    if failed:
        ctx.tally({"failed": failed})
    return rows


UNMAPPABLE = "A plataforma enviou este registro sem o identificador; ele não foi salvo."
NOT_A_RECORD = (
    "A plataforma enviou um item em formato inesperado (não é um registro); ele não foi salvo."
)


def note_unmappable(ctx: sync.SyncContext, item: Any, key: str = "id") -> None:
    """List an item the mapper refused on the run's page (with its id when it has one)."""
    if not hasattr(ctx, "fail"):
        return
    if not isinstance(item, dict):
        ctx.fail(None, NOT_A_RECORD)
        return
    remote_id = item.get(key)
    ctx.fail(remote_id if isinstance(remote_id, (str, int)) else None, UNMAPPABLE)


def upsert_pages(
    ctx: sync.SyncContext,
    pages: Iterable[Any],
    model,
    mapper: Callable[[dict], dict | None],
    *,
    total: Callable[[Any], int | None] | None = None,
    **upsert: Any,
) -> None:
    """Each page into ``model`` (``bulk.upsert_page``) while the next one is fetched.

    ``total(page)`` gives the run's total (the first page that knows it sets it)."""
    total_set = total is None
    with prefetch.ahead(pages) as fetched:
        for page in fetched:
            ctx.check_cancel()
            if not total_set:
                known = total(page)
                if known is not None:
                    ctx.set_total(known)
                    total_set = True
            bulk.upsert_page(ctx, model, map_page(ctx, page.items, mapper), **upsert)
