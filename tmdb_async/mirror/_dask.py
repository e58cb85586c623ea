"""`mirror build --dask`: the ids without a row cut into shards that Dask workers fetch and
write to the (PostgreSQL) mirror themselves, through `tmdb_async.distributed`.

Each shard is the crawl loop of a single-process build on a worker, with its share of the
budget (`distributed.crawl_shard`): it skips the ids of its own that already have a row (a
shard run again after its worker died fetches only what the dead one had not committed)
and commits its rows in batches. The database URL travels without its password: workers
read it from `PGPASSWORD` (a `local:N` cluster gets it from the command) or `~/.pgpass`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

from pyroaring import BitMap64

from .._stats import Stats
from ..distributed import (
    CrawlSummary,
    ProgressCallback,
    ShardOutcome,
    ShardTask,
    check_cluster,
    crawl_shard,
    plan_shards,
    run_on_cluster,
    shard_place,
)
from ._kinds import KINDS, Kind
from ._store import Store, engine_url
from ._sync import MirrorSink

__all__ = ["build_on_cluster", "run_mirror_shard", "worker_database"]


def worker_database(url: str) -> tuple[str, str | None]:
    """The URL the workers get (no password) and the password they need apart."""
    parsed = engine_url(url)
    password = parsed.password
    return parsed.set(password=None).render_as_string(hide_password=False), (
        None if password is None else str(password)
    )


def run_mirror_shard(
    task: ShardTask, index: int, ids: tuple[int, ...], *, db: str, kind: str, adult: bool
) -> ShardOutcome:
    """Fetch `ids` into the mirror at `db` (a Dask task: the event loop of this thread)."""
    place = shard_place(task)
    return asyncio.run(_shard(task, index, ids, place, db, KINDS[kind], adult))


async def _shard(
    task: ShardTask,
    index: int,
    ids: tuple[int, ...],
    place: Any,
    db: str,
    kind: Kind,
    adult: bool,
) -> ShardOutcome:
    store = await Store.open(db, migrate=False)
    try:
        sink = await MirrorSink.open(store, kind, adult=adult, among=ids)
        try:
            report = await crawl_shard(task, index, ids, sink, place)
        finally:
            await sink.aclose()
    finally:
        await store.close()
    return ShardOutcome(
        index=index,
        done=report.done,
        failed=report.failed,
        stats=report.stats or Stats(),
        complete=not report.interrupted,
    )


async def build_on_cluster(
    store: Store,
    kind: Kind,
    ids: BitMap64,
    *,
    cluster: str,
    db: str,
    adult: bool,
    params: Mapping[str, Any],
    client_options: Mapping[str, Any],
    concurrency: int,
    shard_size: int,
    on_progress: ProgressCallback | None = None,
    worker_env: Mapping[str, str] | None = None,
) -> CrawlSummary:
    """Fetch the `ids` without a row on `cluster`, shards writing to `db` directly."""
    check_cluster(cluster, client_options)
    todo = ids - await store.stored_ids(kind.name)
    summary = CrawlSummary()
    summary.skipped = len(ids) - len(todo)
    shards = plan_shards(todo, shard_size)
    if not shards:
        return summary
    url, password = worker_database(db)
    env = dict(worker_env or {})
    if password is not None and cluster.startswith("local:"):
        env["PGPASSWORD"] = password

    def finished(index: int, outcome: ShardOutcome) -> None:
        summary.shards += 1
        summary.done += outcome.done
        summary.failed += outcome.failed
        summary.stats.add(outcome.stats)

    await run_on_cluster(
        cluster,
        partial(run_mirror_shard, db=url, kind=kind.name, adult=adult),
        ShardTask(kind.method, dict(params), dict(client_options), concurrency),
        [(shard.index, shard.ids) for shard in shards],
        summary=summary,
        on_finished=finished,
        on_progress=on_progress,
        worker_env=env,
    )
    return summary
