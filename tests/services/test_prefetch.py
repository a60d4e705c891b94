"""One-page-ahead prefetch (app.services.prefetch): bounded, errors in place, stops early."""

from __future__ import annotations

import threading

import pytest

from app.services import prefetch


class Source:
    """Pages 0..n-1 produced on another thread; records how far ahead it ran."""

    def __init__(self, n: int, fail_at: int | None = None):
        self.n = n
        self.fail_at = fail_at
        self.produced = 0
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def __iter__(self):
        try:
            for i in range(self.n):
                self.threads.add(threading.current_thread().name)
                if i == self.fail_at:
                    raise ValueError(f"page {i} failed")
                self.produced += 1
                yield i
        finally:
            self.closed.set()


def test_pages_arrive_in_order_from_one_other_thread_at_most_one_ahead(app):
    source = Source(20)
    got = []
    ahead = []
    with prefetch.ahead(source) as pages:
        for page in pages:
            got.append(page)
            # while this page is handled: one waiting in the queue, one being fetched
            ahead.append(source.produced - len(got))
    assert got == list(range(20))
    assert max(ahead) <= 2
    assert source.threads == {"sync-prefetch"}
    assert source.closed.is_set()


def test_an_error_of_the_fetch_is_raised_where_its_page_would_be(app):
    got = []
    with pytest.raises(ValueError, match="page 3 failed"):
        with prefetch.ahead(Source(10, fail_at=3)) as pages:
            for page in pages:
                got.append(page)
    assert got == [0, 1, 2]


def test_leaving_early_stops_the_thread(app):
    source = Source(1000)
    with pytest.raises(KeyError):
        with prefetch.ahead(source) as pages:
            for page in pages:
                if page == 2:
                    raise KeyError("writing failed")
    assert source.closed.wait(5)
    assert source.produced <= 5  # it did not run on to the end
    assert not any(t.name == "sync-prefetch" for t in threading.enumerate())
