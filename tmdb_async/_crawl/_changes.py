"""Incremental sync: the ids changed between two dates, from TMDB's changes feeds.

TMDB answers 422 (code 20) to a window longer than 14 days, so a longer range is walked in
consecutive windows of at most 14 days. A window serves at most 500 pages (error 22 beyond):
one whose `total_pages` says more is read again one day at a time, and a day that still has
more is read as far as TMDB serves it and reported (its other ids cannot be listed). Items
whose id is null (TMDB sends some) are skipped. Ids are deduplicated across pages and
windows: an id changed twice is fetched once.
https://developer.themoviedb.org/reference/changes-movie-list
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

from .._client import TMDB
from .._constants import LOGGER_NAME, MAX_PAGE, PAGINATE_CONCURRENCY
from .._pagination import paginate
from ..models import ChangedId, Page
from ._progress import Progress

__all__ = [
    "CHANGES_KINDS",
    "MAX_WINDOW_DAYS",
    "Listing",
    "changed_ids",
    "list_changes",
    "windows",
]

MAX_WINDOW_DAYS: Final = 14
CHANGES_KINDS: Final = {"movie": "movie_list", "tv": "tv_list", "person": "people_list"}
"""Crawl kind -> the `tmdb.changes` method listing its changed ids."""

logger = logging.getLogger(LOGGER_NAME)


def windows(
    since: dt.date, until: dt.date, days: int = MAX_WINDOW_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """Split `since..until` into consecutive windows of at most `days` days.

    Each window starts where the previous one ended (whether TMDB counts the end date in or
    out, nothing falls between two windows); `since == until` is one window of that day.
    """
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    step = dt.timedelta(days=days)
    result = [(since, min(since + step, until))]
    while result[-1][1] < until:
        start = result[-1][1]
        result.append((start, min(start + step, until)))
    return result


@dataclass
class Listing:
    """What the changes feed listed."""

    ids: dict[int, bool | None] = field(default_factory=dict)
    """Each changed id once, in the order listed, with the `adult` flag the feed gave it."""
    unlisted: dict[tuple[dt.date, dt.date], int] = field(default_factory=dict)
    """Windows of one day whose items beyond page 500 TMDB does not serve: how many."""


async def list_changes(
    tmdb: TMDB,
    kind: str,
    start: dt.date,
    end: dt.date,
    *,
    listing: Listing,
    max_pages: int | None = None,
) -> None:
    """Add the ids the feed of `kind` lists for the window `start..end` to `listing`."""
    method: Callable[..., Awaitable[Page[ChangedId]]] = getattr(tmdb.changes, CHANGES_KINDS[kind])
    query: dict[str, Any] = {"start_date": start.isoformat(), "end_date": end.isoformat()}
    first = await method(page=1, **query)
    if first.total_pages > MAX_PAGE and (end - start).days > 1:
        for day_start, day_end in windows(start, end, days=1):
            await list_changes(tmdb, kind, day_start, day_end, listing=listing, max_pages=max_pages)
        return
    read = 0
    pages = paginate(
        method, first=first, max_pages=max_pages, concurrency=PAGINATE_CONCURRENCY, **query
    )
    async for item in pages:
        read += 1
        if item.id is not None:
            listing.ids.setdefault(item.id, item.adult)
    if first.total_pages > MAX_PAGE:
        missed = listing.unlisted[start, end] = max(0, first.total_results - read)
        logger.warning(
            "the %s changes feed of %s..%s lists %d ids past page %d, which TMDB does not"
            " serve: those ids cannot be listed",
            kind,
            start,
            end,
            missed,
            MAX_PAGE,
        )


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
    listing = Listing()
    spans = windows(since, until)
    progress.phase(f"changes {since}..{until}", total=len(spans))
    for start, end in spans:
        await list_changes(tmdb, kind, start, end, listing=listing, max_pages=max_pages)
        progress.advance()
    return list(listing.ids)
