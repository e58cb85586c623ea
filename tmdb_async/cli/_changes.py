"""Incremental sync: the ids changed between two dates, from TMDB's changes endpoints.

TMDB answers 422 (code 20) to a window longer than 14 days, so a longer range is walked in
consecutive windows of at most 14 days; every page of each window is read, and ids are
deduplicated across pages and windows (an id changed twice is fetched once).
https://developer.themoviedb.org/reference/changes-movie-list
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from typing import Any, Final

from .._client import TMDB
from .._crawl import IdItem
from ..models import ChangedId, Page
from ._bulk import add_bulk_options, announce, positive_int, run_bulk
from ._client_flags import CREDENTIALS_HELP, Backend, UsageError
from ._crawl_cmd import date_argument
from ._ids import IdSource
from ._progress import Progress
from ._registry import Subcommands

__all__ = ["CHANGES_KINDS", "MAX_WINDOW_DAYS", "changed_ids", "register", "windows"]

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


def register(commands: Subcommands) -> None:
    """Add `changes` to the command line."""
    parser = commands.add(
        "changes",
        run=_changes,
        help="fetch what changed since a date (incremental sync)",
        description="Fetch the details of every id changed between --since and --until (windows"
        " of at most 14 days, all pages), then print the watermark (the --until date) to pass as"
        " --since next time. OUT is this run's file: resumable like crawl. " + CREDENTIALS_HELP,
    )
    parser.add_argument("kind", choices=tuple(CHANGES_KINDS))
    parser.add_argument("--since", type=date_argument, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=date_argument, help="last day (default: today, UTC)")
    parser.add_argument(
        "--max-pages", type=positive_int, help="read at most this many pages of each window"
    )
    add_bulk_options(parser)


async def _changes(args: argparse.Namespace) -> int:
    until: dt.date = args.until or dt.datetime.now(dt.timezone.utc).date()
    if until < args.since:
        raise UsageError(f"--until {until} is before --since {args.since}")

    async def make_source(backend: Backend, files: ExitStack, progress: Progress) -> IdSource:
        ids = await changed_ids(
            backend.tmdb, args.kind, args.since, until, max_pages=args.max_pages, progress=progress
        )

        async def read() -> AsyncIterator[IdItem]:
            for ident in ids:
                yield ident

        return IdSource(read)

    status = await run_bulk(args, "changes", make_source)
    if status == 0:  # the watermark: --since of the next run
        if args.out == "-":  # stdout holds the lines
            announce(f"watermark {until.isoformat()} (pass it as --since next time)")
        else:
            print(until.isoformat(), file=sys.stdout, flush=True)
    return status
