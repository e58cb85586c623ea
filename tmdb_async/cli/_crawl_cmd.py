"""`tmdb-async crawl`: the details of many ids (ranges, a file, a daily export) into JSON Lines."""

from __future__ import annotations

import argparse
import importlib.util
from contextlib import ExitStack
from typing import Final

from .._crawl import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    POPULARITY_EXPORTS,
    ExportFilter,
    IdSource,
)
from ..distributed import DASK_HINT
from ._bulk import add_bulk_options, run_bulk
from ._client_flags import CREDENTIALS_HELP, UsageError
from ._output import names_stdout
from ._registry import Subcommands
from ._runner import Session
from ._sharded import crawl_on_dask
from ._sources import add_id_source_options, id_source

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
    add_id_source_options(
        parser,
        adult="include adult entries",
        dask="OUT is then a directory of part files and a manifest (see docs/distributed.md)",
    )
    add_bulk_options(parser)
    parser.add_argument(
        "--min-popularity", type=float, help="with --export: skip ids below this popularity"
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
        if names_stdout(args.out):
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

    async def make_source(session: Session, files: ExitStack) -> IdSource:
        keep = ExportFilter(min_popularity=args.min_popularity, adult=args.adult)
        _, source = await id_source(args, args.kind, session.backend, session.progress, files, keep)
        return source

    return await run_bulk(
        args, "crawl", make_source, on_dask=None if args.dask is None else crawl_on_dask
    )
