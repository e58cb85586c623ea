"""`crawl --dask`: the command line's side of `tmdb_async.distributed` (one bar, a summary)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Final

from .._crawl import IdItem, IdSource, Progress, Report
from .._operation import Operation
from ..distributed import SHARD_SIZE, ShardedCrawl, check_cluster
from ._client_flags import Backend, UsageError

__all__ = ["MAX_DASK_IDS", "TOO_MANY_FOR_DASK", "crawl_on_dask"]

MAX_DASK_IDS: Final = 20_000_000
"""The most ids a `--dask` crawl plans (about 40 bytes each in memory, shards included)."""
TOO_MANY_FOR_DASK: Final = (
    f"--dask plans every shard before the first starts: at most {MAX_DASK_IDS:,} ids"
    " (crawl more without --dask, where ids are streamed, or in several runs)"
)


async def crawl_on_dask(
    args: argparse.Namespace,
    op: Operation[Any],
    params: dict[str, Any],
    backend: Backend,
    source: IdSource,
    progress: Progress,
    report: Report,
) -> int:
    """Crawl the shards left on the cluster of `--dask`, filling `report`; the exit status.

    Every shard is planned before the first starts, so the ids are listed in memory here.
    """
    if source.ranges is not None and sum(len(r) for r in source.ranges) > MAX_DASK_IDS:
        raise UsageError(TOO_MANY_FOR_DASK)
    options = backend.tmdb.options.keywords()  # every option but credentials and session
    check_cluster(args.dask, options)  # before the output directory is made
    ids = [i async for item in source.read() for i in _ids_of(item)]
    out = Path(args.out)
    sharded = ShardedCrawl(
        f"{op.namespace}.{op.name}",
        ids,
        out,
        shard_size=args.shard_size or SHARD_SIZE,
        concurrency=args.concurrency,
        params=params,
        client_options=options,
        retry_errors=args.retry_errors,
        typed=args.typed,
    )
    with sharded:
        report.to_fetch, report.skipped = sharded.to_fetch, sharded.skipped
        shards = len(sharded.jobs)
        progress.phase(f"{out.name}: {shards} shards on {args.dask}", total=sharded.to_fetch)
        report.started = time.monotonic()
        try:
            summary = await sharded.run(
                args.dask, on_progress=progress.advance_by, worker_env=backend.worker_env
            )
        finally:
            report.finished = time.monotonic()
            report.done, report.failed = sharded.summary.done, sharded.summary.failed
            report.stats = sharded.summary.stats
    for error in summary.shard_errors:
        print(f"tmdb-async: {error} (run the command again to retry it)", file=sys.stderr)
    return 1 if summary.shard_errors else 0


def _ids_of(item: IdItem) -> range | tuple[int]:
    return item if isinstance(item, range) else (item,)
