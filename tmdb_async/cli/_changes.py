"""`tmdb-async changes`: the details of every id changed between two dates, into JSON Lines.

The ids come from TMDB's changes feeds, read by `_crawl.changed_ids` (windows of at most 14
days, a window past 500 pages read one day at a time, null ids skipped, each id once).
https://developer.themoviedb.org/reference/changes-movie-list
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import AsyncIterator
from contextlib import ExitStack

from .._crawl import CHANGES_KINDS, IdItem, IdSource, changed_ids
from ._arguments import date_argument, positive_int
from ._bulk import add_bulk_options, run_bulk
from ._client_flags import CREDENTIALS_HELP, UsageError
from ._output import names_stdout
from ._registry import Subcommands
from ._runner import Session, announce

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add `changes` to the command line."""
    parser = commands.add(
        "changes",
        run=_changes,
        help="fetch what changed since a date (incremental sync)",
        description="Fetch the details of every id changed between --since and --until (windows"
        " of at most 14 days, all pages; a window past TMDB's 500 pages is read one day at a"
        " time), then print the watermark (the --until date) to pass as --since next time."
        " OUT is this run's file: resumable like crawl. " + CREDENTIALS_HELP,
    )
    parser.add_argument("kind", choices=tuple(CHANGES_KINDS))
    parser.add_argument("--since", type=date_argument, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=date_argument, help="last day (default: today, UTC)")
    parser.add_argument(
        "--max-pages", type=positive_int, help="read at most this many pages of each window"
    )
    parser.add_argument(
        "--append", default="", help="append_to_response parts, e.g. credits,images"
    )
    add_bulk_options(parser)


async def _changes(args: argparse.Namespace) -> int:
    until: dt.date = args.until or dt.datetime.now(dt.timezone.utc).date()
    if until < args.since:
        raise UsageError(f"--until {until} is before --since {args.since}")

    async def make_source(session: Session, files: ExitStack) -> IdSource:
        ids = await changed_ids(
            session.backend.tmdb,
            args.kind,
            args.since,
            until,
            max_pages=args.max_pages,
            progress=session.progress,
        )

        async def read() -> AsyncIterator[IdItem]:
            for ident in ids:
                yield ident

        return IdSource(read)

    status = await run_bulk(args, "changes", make_source)
    if status == 0:  # the watermark: --since of the next run
        if names_stdout(args.out):  # stdout holds the lines
            announce(f"watermark {until.isoformat()} (pass it as --since next time)")
        else:
            print(until.isoformat(), file=sys.stdout, flush=True)
    return status
