"""The id source flags of `crawl` and `mirror build` (`--ids`, `--ids-file`, `--export`),
defined once, and the source they name."""

from __future__ import annotations

import argparse
import datetime as dt
from contextlib import ExitStack
from typing import Final

from .._crawl import ExportFilter, IdSource, Progress, export_source, file_source, range_source
from ..distributed import SHARD_SIZE
from ._arguments import cluster_argument, date_argument, ids_argument, positive_int
from ._client_flags import Backend

__all__ = ["LATEST", "add_id_source_options", "id_source", "latest_export"]

LATEST: Final = "latest"
EXPORTS_READY_HOUR: Final = 8
"""TMDB publishes the day's exports by 08:00 UTC."""


def _export_argument(text: str) -> dt.date | str:
    return text if text == LATEST else date_argument(text)


def add_id_source_options(parser: argparse.ArgumentParser, *, adult: str, dask: str) -> None:
    """`--ids`, `--ids-file` or `--export [DATE]` (one of them, required), `--adult` (what
    it does: `adult`), `--dask` (what runs on the cluster: `dask`) and `--shard-size`."""
    parser.add_argument(
        "--append", default="", help="append_to_response parts, e.g. credits,images"
    )
    parser.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=False,
        help=f"{adult} (with --export: read the adult_* file too); default no",
    )
    parser.add_argument(
        "--dask",
        type=cluster_argument,
        metavar="ADDRESS",
        help=f"split the work into shards run by Dask (dask extra): local:N for N worker"
        f" processes here, or a scheduler such as tcp://scheduler:8786; {dask}",
    )
    parser.add_argument(
        "--shard-size", type=positive_int, help=f"with --dask: ids per shard (default {SHARD_SIZE})"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ids", type=ids_argument, help="ids and ranges, e.g. 1-5000,7,9-12")
    source.add_argument(
        "--ids-file", metavar="FILE", help="one id per line, # comments; - for stdin, or a FIFO"
    )
    source.add_argument(
        "--export",
        nargs="?",
        const=LATEST,
        type=_export_argument,
        metavar="DATE",
        help="every id of TMDB's daily export of DATE (alone: the latest published)",
    )


def latest_export(now: dt.datetime) -> dt.date:
    """The newest daily export at `now` (UTC): today's from 08:00, else yesterday's."""
    today = now.date()
    return today if now.hour >= EXPORTS_READY_HOUR else today - dt.timedelta(days=1)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def id_source(
    args: argparse.Namespace,
    kind: str,
    backend: Backend,
    progress: Progress,
    stack: ExitStack,
    keep: ExportFilter,
) -> tuple[dt.date | None, IdSource]:
    """The export's date (None for ids) and the ids the flags name; an export is downloaded
    into `stack` (which removes it) and filtered by `keep`."""
    if args.ids is not None:
        return None, range_source(args.ids)
    if args.ids_file is not None:
        return None, file_source(args.ids_file)
    date: dt.date = args.export
    if args.export == LATEST:  # the fake publishes today's at once
        date = _utc_now().date() if args.fake else latest_export(_utc_now())
    progress.phase(f"downloading the {kind} export of {date}")
    return date, await export_source(kind, date, backend.exports_url, keep, stack)
