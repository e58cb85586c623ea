"""Incremental sync: the ids changed between two dates, from TMDB's changes endpoints.

TMDB answers 422 (code 20) to a window longer than 14 days, so a longer range is walked in
consecutive windows of at most 14 days; every page of each window is read, and ids are
deduplicated across pages and windows (an id changed twice is fetched once).
https://developer.themoviedb.org/reference/changes-movie-list
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Final

from .._client import TMDB
from ..models import ChangedId, Page
from ._progress import Progress

__all__ = ["CHANGES_KINDS", "MAX_WINDOW_DAYS", "changed_ids", "windows"]

MAX_WINDOW_DAYS: Final = 14
CHANGES_KINDS: Final = {"movie": "movie_list", "tv": "tv_list", "person": "people_list"}
"""Crawl kind -> the `tmdb.changes` method listing its changed ids."""


def windows(since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Split `since..until` into consecutive windows of at most 14 days.

    Each window starts where the previous one ended (both dates are inclusive for TMDB, so
    nothing falls between two windows); `since == until` is one window of that day.
    """
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    step = dt.timedelta(days=MAX_WINDOW_DAYS)
    result = [(since, min(since + step, until))]
    while result[-1][1] < until:
        start = result[-1][1]
        result.append((start, min(start + step, until)))
    return result


async def changed_ids(
    tmdb: TMDB,
    kind: str,
    since: dt.date,
    until: dt.date,
    *,
    max_pages: int | None,
    progress: Progress,
) -> list[int]:
    """Every id changed in `since..until`, deduplicated, in the order TMDB listed them."""
    method: Callable[..., Awaitable[Page[ChangedId]]] = getattr(tmdb.changes, CHANGES_KINDS[kind])
    ids: dict[int, None] = {}
    spans = windows(since, until)
    progress.phase(f"changes {since}..{until}", total=len(spans))
    for start, end in spans:
        params: dict[str, Any] = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        async for item in tmdb.paginate(method, max_pages=max_pages, **params):
            ids.setdefault(item.id)
        progress.advance()
    return list(ids)
