"""`tmdb-async crawl`: the details of many ids (ranges, a file, a daily export) into JSON Lines."""

from __future__ import annotations

import argparse
import importlib.util
from contextlib import ExitStack
from typing import Final

from ..distributed import DASK_HINT, SHARD_SIZE
from ._arguments import cluster_argument, date_argument, ids_argument, positive_int
from ._bulk import add_bulk_options, run_bulk
from ._client_flags import CREDENTIALS_HELP, Backend, UsageError
from ._ids import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    POPULARITY_EXPORTS,
    ExportFilter,
    IdSource,
    export_source,
    file_source,
    range_source,
)
from ._progress import Progress
from ._registry import Subcommands
from ._sharded import crawl_on_dask

__all__ = ["CRAWL_KINDS", "MissingExtraError", "register"]

CRAWL_KINDS: Final = tuple(EXPORT_PREFIXES)
"""Kinds `crawl` fetches the details of (each has a daily id export)."""


class MissingExtraError(Exception):
    """An optional dependency the command needs is not installed; the message says which."""


def register(commands: Subcommands) -> None:
    """Add `crawl` to the command line."""
    parser = commands.add(
        "crawl",
        run=_crawl,
        help="fetch many ids into JSON Lines (resumable)",
        description="Fetch the details of many ids into JSON Lines, one object per line."
        " Killed or interrupted, run it again with the same arguments: ids already in OUT"
        " (or in the errors file) are skipped. OUT must be a crawl's own file: any other"
        " is refused untouched. " + CREDENTIALS_HELP,
    )
    parser.add_argument("kind", choices=CRAWL_KINDS)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ids", type=ids_argument, help="ids and ranges, e.g. 1-5000,7,9-12")
    source.add_argument(
        "--ids-file", metavar="FILE", help="one id per line, # comments; - for stdin, or a FIFO"
    )
    source.add_argument(
        "--export", type=date_argument, metavar="DATE", help="every id of TMDB's export of DATE"
    )
    add_bulk_options(parser)
    parser.add_argument(
        "--min-popularity", type=float, help="with --export: skip ids below this popularity"
    )
    parser.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="with --export: include adult entries (read the adult_* file too); default no",
    )
    parser.add_argument(
        "--dask",
        type=cluster_argument,
        metavar="ADDRESS",
        help="split the crawl into shards run by Dask (dask extra): local:N for N worker"
        " processes here, or a scheduler such as tcp://scheduler:8786; OUT is then a"
        " directory of part files and a manifest (see docs/distributed.md)",
    )
    parser.add_argument(
        "--shard-size", type=positive_int, help=f"with --dask: ids per shard (default {SHARD_SIZE})"
    )
    parser.add_argument(
        "--export-base-url",
        metavar="URL",
        help=f"where the daily exports are (default {DEFAULT_EXPORT_BASE_URL};"
        " with --fake, the fake's)",
    )


def _check(args: argparse.Namespace) -> None:
    if args.dask is None and args.shard_size is not None:
        raise UsageError("--shard-size splits a --dask crawl")
    if args.dask is not None:
        if args.errors is not None:
            raise UsageError("with --dask each part has its own errors file: drop --errors")
        if args.out == "-":
            raise UsageError("with --dask, --out is a directory of part files, not stdout")
        if args.fake and not args.dask.startswith("local:"):
            raise UsageError("--fake serves on this machine only: use --dask local:N")
        if importlib.util.find_spec("distributed") is None:
            raise MissingExtraError(DASK_HINT)
    if args.export is None and (args.min_popularity is not None or args.adult):
        raise UsageError("--min-popularity and --adult filter an --export")
    if args.min_popularity is not None and args.kind not in POPULARITY_EXPORTS:
        raise UsageError(f"the {args.kind} export has no popularity: drop --min-popularity")


async def _crawl(args: argparse.Namespace) -> int:
    _check(args)

    async def make_source(backend: Backend, files: ExitStack, progress: Progress) -> IdSource:
        if args.ids is not None:
            return range_source(args.ids)
        if args.ids_file is not None:
            return file_source(args.ids_file)
        progress.phase(f"downloading the {args.kind} export of {args.export}")
        keep = ExportFilter(min_popularity=args.min_popularity, adult=args.adult)
        return await export_source(args.kind, args.export, backend.exports_url, keep, files)

    return await run_bulk(
        args, "crawl", make_source, on_dask=None if args.dask is None else crawl_on_dask
    )
