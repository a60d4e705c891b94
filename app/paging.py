"""Safe paging parameters for list pages."""

from flask import request

MAX_PAGE = 100_000


def page_arg() -> int:
    """The ?page= value clamped to 1..MAX_PAGE (junk and absurd numbers fall back safely)."""
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        return 1
    return min(max(page, 1), MAX_PAGE)
