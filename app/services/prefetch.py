"""Fetch the next page while the current one is written: a bounded one-page-ahead prefetch.

``ahead(pages)`` iterates ``pages`` (a generator over an API client) in one background thread
and hands the pages over through a queue of ``depth`` (1 by default): at most the page being
written, one waiting and one being fetched are in memory, whatever the size of the data set.

Only the background thread touches the client while the block runs (the clients are not meant
for two threads at once), so call the client from the caller's thread only before the block or
after it. The thread runs in its own app context (the Hotmart token store reads the database).
An exception of the iteration (an ``APIError``) is raised in the caller at the point the page
would have come, so ``except`` clauses around the loop work as without prefetch. Leaving the
block early (``Canceled``, an error while writing) stops the thread and waits for it, so the
client can be closed right after.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")

JOIN_TIMEOUT = 120.0  # seconds: a request in flight (timeouts are shorter) or a 429 pause
_POLL = 0.1
_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


@contextmanager
def ahead(pages: Iterable[T], depth: int = 1) -> Iterator[Iterator[T]]:
    """``with ahead(client.contact_pages()) as it: for page in it: …``"""
    app = current_app._get_current_object()
    handoff: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(pages)
        with app.app_context():
            try:
                for page in iterator:
                    if not put(page):
                        return
                put(_END)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                put(_Failure(exc))
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    try:
                        close()
                    except Exception:  # pragma: no cover - a generator's cleanup failing
                        log.exception("closing the prefetched iterator failed")
                db.session.remove()

    thread = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    thread.start()

    def consume() -> Iterator[T]:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        while True:  # unblock a producer waiting to hand over a page
            try:
                handoff.get_nowait()
            except queue.Empty:
                break
        thread.join(JOIN_TIMEOUT)
        if thread.is_alive():  # pragma: no cover - a request hanging past every timeout
            log.warning("the prefetch thread did not stop within %s s", JOIN_TIMEOUT)
